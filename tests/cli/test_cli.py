"""The command line: exit codes, messages, JSON, on both backends."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli.main import main
from api.cli.verify import ProgressLine
from ledger.application import CommunityLedger
from ledger.store.backend import Store
from tests.contract.test_ledger_contract import posted
from tests.rawdb import RawTable


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_verify_reports_count_and_head(
    ledger: CommunityLedger, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    posted(ledger)
    cid = ledger.community.id
    code, out, _ = run(capsys, "verify", "--db", store_url, "--community", cid)
    assert code == 3, "no log key: the signatures could not be checked"
    first, unverified = out.strip().splitlines()
    assert first == f"{cid}: intact, 6 entries, head {ledger.head()}"
    assert unverified.strip().startswith("UNVERIFIED: signatures were not checked")


def test_verify_json_and_expect_head(
    ledger: CommunityLedger, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    posted(ledger)
    cid, head = ledger.community.id, str(ledger.head())
    code, out, _ = run(
        capsys, "verify", "--db", store_url, "--community", cid, "--expect-head", head, "--json"
    )
    assert code == 3
    report = json.loads(out)
    assert report == {
        "ok": False,
        "status": "unverified",
        "communities": [
            {
                "community": cid,
                "ok": True,
                "status": "unverified",
                "count": 6,
                "head": head,
                "signatures": "not checked: no log key",
                "outside": [],
            }
        ],
    }
    later = f"9:{'00' * 32}"
    code, out, _ = run(
        capsys, "verify", "--db", store_url, "--community", cid, "--expect-head", later, "--json"
    )
    assert code == 1
    (failure,) = json.loads(out)["communities"]
    assert (failure["seq"], failure["defect"]) == (7, "tail truncated")


def test_verify_names_the_first_bad_entry(
    ledger: CommunityLedger, store_url: str, raw: RawTable, capsys: pytest.CaptureFixture[str]
) -> None:
    posted(ledger)
    rows = raw.read()
    rows[2] = {**rows[2], "state": rows[2]["state"].replace(b"clerk", b"chair")}
    raw.replace_all(rows)
    code, out, _ = run(capsys, "verify", "--db", store_url, "--community", ledger.community.id)
    assert code == 1
    assert f"{ledger.community.id}: FAILED at entry 3: content edited" in out


def test_verify_without_community_checks_them_all(
    isolated_store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = isolated_store_url
    assert run(capsys, "db", "init", "--db", url)[0] == 0
    code, out, _ = run(capsys, "verify", "--db", url)
    assert (code, out.strip()) == (0, "no communities in this store")
    for cid, name in [("tcli_a", "甲社区"), ("tcli_b", "乙社区")]:
        assert run(capsys, "community", "add", cid, "--name", name, "--db", url)[0] == 0
    code, out, _ = run(capsys, "verify", "--db", url)
    assert code == 3, "unsealed and without keys: intact as far as it goes, unverified"
    lines = [line for line in out.splitlines() if not line.startswith("  UNVERIFIED")]
    assert lines[0].startswith("tcli_a: intact, 1 entries, head 1:")
    assert lines[1].startswith("tcli_b: intact, 1 entries, head 1:")
    code, _, err = run(capsys, "verify", "--db", url, "--expect-head", "1:" + "00" * 32)
    assert code == 2
    assert "needs --community" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--community", "nowhere"], "no community 'nowhere'"),
        (["--community", "BAD ID"], "community ID"),
        (["--expect-head", "12"], "--expect-head"),
    ],
)
def test_verify_bad_usage_exits_2_with_a_message(
    store: Store, store_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "verify", "--db", store_url, *argv)
    assert code == 2
    assert message in err


def test_a_missing_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "verify", "--db", f"sqlite:///{tmp_path}/none.sqlite3")
    assert code == 2
    assert "gongkai db init" in err
    assert not (tmp_path / "none.sqlite3").exists()  # verify never creates anything


@pytest.mark.parametrize("url", ["mysql://x", "sqlite:///:memory:", "nonsense"])
def test_an_unsupported_url_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "verify", "--db", url)
    assert code == 2
    assert "gongkai: error:" in err


def test_db_init_and_community_add(
    isolated_store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store_url = isolated_store_url
    code, out, _ = run(capsys, "db", "init", "--db", store_url)
    assert code == 0
    assert "schema ready" in out
    code, out, _ = run(capsys, "community", "add", "tcli_b", "--name", "乙社区", "--db", store_url)
    assert (code, out.strip()) == (0, "community tcli_b (乙社区) is ready")
    code, out, _ = run(capsys, "community", "list", "--db", store_url)
    assert "tcli_b\t乙社区" in out.splitlines()
    code, _, err = run(capsys, "community", "add", "tcli_b", "--name", "丙社区", "--db", store_url)
    assert code == 2
    assert "already exists" in err


def test_the_console_script_is_installed_and_exits_nonzero_on_failure(tmp_path: Path) -> None:
    gongkai = Path(sys.executable).with_name("gongkai")
    done = subprocess.run(
        [str(gongkai), "verify", "--db", f"sqlite:///{tmp_path}/none.sqlite3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("gongkai: error:")


def test_verify_changes_no_stored_byte(
    ledger: CommunityLedger,
    backend: str,
    store_url: str,
    raw: RawTable,
    capsys: pytest.CaptureFixture[str],
) -> None:
    posted(ledger)
    before = raw.read()
    if backend == "sqlite":
        from tests.rawdb import SQLiteRawTable

        assert isinstance(raw, SQLiteRawTable)
        digest = hashlib.sha256(raw.path.read_bytes()).hexdigest()
    assert run(capsys, "verify", "--db", store_url, "--community", ledger.community.id)[0] == 3
    assert raw.read() == before
    if backend == "sqlite":
        assert hashlib.sha256(raw.path.read_bytes()).hexdigest() == digest


def test_progress_line_draws_counts_and_share() -> None:
    stream = io.StringIO()
    progress = ProgressLine("verifying tianhai", stream)
    progress(500, 1000)
    progress(1000, 1000)
    progress.close()
    text = stream.getvalue()
    assert "verifying tianhai: 500/1,000 (50%)" in text
    assert "1,000/1,000 (100%)" in text
    assert text.endswith("\r\033[K")


def test_a_database_of_an_older_schema_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tables from an older layout make a command fail with a message, not a traceback."""
    import sqlite3

    url = f"sqlite:///{tmp_path / 'g.sqlite3'}"
    assert main(["db", "init", "--db", url]) == 0
    assert main(["community", "add", "old", "--name", "旧社区", "--db", url]) == 0
    with sqlite3.connect(tmp_path / "g.old.sqlite3") as conn:
        conn.execute("DROP TABLE old_commands")
        conn.execute("CREATE TABLE old_commands (idempotency_key TEXT PRIMARY KEY)")
    capsys.readouterr()
    assert main(["community", "add", "old", "--name", "旧社区", "--db", url]) == 2
    assert "the database refused" in capsys.readouterr().err
