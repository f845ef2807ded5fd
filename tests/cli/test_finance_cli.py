"""``gongkai finance export``: the zip it writes is the package the read model gives, and
each way it can fail says why and exits 2."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from api.cli.main import main
from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.vocabulary import Role
from ledger.store import open_store
from ledger.store.base import Community
from projections.db import open_read_db
from projections.finance.package import build_package, zip_bytes
from tests.unit.test_finance_package import check_package, table

Capsys = pytest.CaptureFixture[str]
CLERK = Actor("李娜", Role.CLERK)
VOUCHER = hashlib.sha256(b"voucher").hexdigest()


def run(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def record(url: str) -> None:
    """A grant, an expense, and the expense reversed, through the real ledger."""
    with open_store(url) as store, Ledger(store) as ledger:
        tianhai = ledger.community("tianhai")
        common = {"counterparty": "街道办", "voucher_sha256": VOUCHER, "period": "2026-07"}
        tianhai.record_entry(
            CLERK, "k1", kind="income", amount_fen=1_860_000, account="grant", **common
        )
        office = tianhai.record_entry(
            CLERK, "k2", kind="expense", amount_fen=42_000, account="office", **common
        ).result["id"]
        tianhai.reverse_entry(
            CLERK, "k3", office, period="2026-08", voucher_sha256=VOUCHER, reason="重复记账"
        )


@pytest.fixture
def url(tmp_path: Path, capsys: Capsys) -> str:
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    assert main(["db", "init", "--db", url]) == 0
    assert main(["community", "add", "tianhai", "--name", "天海社区", "--db", url]) == 0
    record(url)
    assert main(["projections", "run", "--db", url, "--once"]) == 0
    capsys.readouterr()
    return url


def test_export_writes_the_package(url: str, tmp_path: Path, capsys: Capsys) -> None:
    out = tmp_path / "tianhai.zip"
    code, printed, err = run(
        capsys, "finance", "export", "--db", url, "--community", "tianhai", "-o", str(out)
    )
    assert (code, err) == (0, "")
    with open_store(url) as store:
        head = store.max_seq("tianhai")
    assert printed.strip() == f"wrote {out}: 3 finance entries of tianhai as of entry {head}"
    db = open_read_db(url, create=False)
    try:
        expected = build_package(db, "tianhai", community_name="天海社区")
    finally:
        db.close()
    assert out.read_bytes() == zip_bytes(expected.files)
    with zipfile.ZipFile(out) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    check_package(files)
    rows = table(files)
    assert sorted(int(r["amount_fen"]) for r in rows) == [-42_000, 42_000, 1_860_000]
    # --as-of: before the reversal, two entries and nothing reversed.
    earlier = tmp_path / "earlier.zip"
    first_two = sorted(int(r["seq"]) for r in rows)[1]
    assert run(
        capsys, "finance", "export", "--db", url, "--community", "tianhai",
        "--as-of", str(first_two), "-o", str(earlier),
    )[0] == 0  # fmt: skip
    with zipfile.ZipFile(earlier) as zf:
        before = table({n: zf.read(n) for n in zf.namelist()})
    assert [r["reversed"] for r in before] == ["false", "false"]


def test_an_existing_file_is_kept_unless_forced(url: str, tmp_path: Path, capsys: Capsys) -> None:
    out = tmp_path / "out.zip"
    out.write_bytes(b"keep me")
    argv = ["finance", "export", "--db", url, "--community", "tianhai", "-o", str(out)]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "exists: pass --force" in err
    assert out.read_bytes() == b"keep me"
    assert run(capsys, *argv, "--force")[0] == 0
    assert zipfile.is_zipfile(out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--community", "nowhere"], "no community 'nowhere'"),
        (["--community", "tianhai", "--as-of", "999"], "has applied the ledger up to entry"),
        (["--community", "tianhai", "--from", "2026-7"], "a period is YYYY-MM"),
    ],
    ids=["unknown community", "as_of ahead", "bad month"],
)
def test_bad_requests_exit_2_with_a_reason(
    url: str, tmp_path: Path, capsys: Capsys, argv: list[str], message: str
) -> None:
    out = tmp_path / "out.zip"
    code, printed, err = run(capsys, "finance", "export", "--db", url, *argv, "-o", str(out))
    assert (code, printed) == (2, "")
    assert message in err
    assert not out.exists()


def test_an_unwritable_path_exits_2(url: str, tmp_path: Path, capsys: Capsys) -> None:
    export = ["finance", "export", "--db", url, "--community", "tianhai", "--force", "-o"]
    missing = tmp_path / "no-such-dir" / "out.zip"
    code, _, err = run(capsys, *export, str(missing))
    assert code == 2
    assert f"cannot write {missing}: No such file or directory" in err
    code, _, err = run(capsys, *export, str(tmp_path))  # a directory, even with --force
    assert code == 2
    assert f"cannot write {tmp_path}: Is a directory" in err
    assert not list(tmp_path.parent.glob(f".{tmp_path.name}.*.tmp")), "no temporary left"


def test_read_models_not_initialised(tmp_path: Path, capsys: Capsys) -> None:
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    with open_store(url) as store:
        store.init_schema()  # the ledger only: no 'gongkai db init'
        with Ledger(store) as ledger:
            ledger.add_community(Community("tianhai", "天海社区"))
    code, _, err = run(
        capsys, "finance", "export", "--db", url, "--community", "tianhai",
        "-o", str(tmp_path / "out.zip"),
    )  # fmt: skip
    assert code == 2
    assert "run 'gongkai db init' first" in err
    assert not (tmp_path / "out.zip").exists()


def test_a_lagging_read_model_is_pointed_out(url: str, tmp_path: Path, capsys: Capsys) -> None:
    with open_store(url) as store, Ledger(store) as ledger:
        ledger.community("tianhai").record_entry(
            CLERK,
            "k4",
            kind="income",
            amount_fen=5,
            account="donation",
            counterparty="居民",
            voucher_sha256=VOUCHER,
            period="2026-08",
        )
    code, printed, err = run(
        capsys, "finance", "export", "--db", url, "--community", "tianhai",
        "-o", str(tmp_path / "out.zip"),
    )  # fmt: skip
    assert code == 0
    assert "3 finance entries" in printed, "the package shows what the read model has"
    assert "the finance read model has applied" in err
    assert "gongkai projections run" in err
