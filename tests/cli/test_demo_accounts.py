"""``gongkai demo`` sets up everything the service reads: the read models, caught up,
and an account in each role, listed with its password in a file only its owner reads."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from api.accounts import open_accounts
from api.cli.main import main
from api.demo.accounts import PEOPLE, read_accounts_file
from ledger.domain.vocabulary import Role
from ledger.store import open_store
from projections.db import open_read_db
from projections.registry import all_projections
from tests.accounts_support import cheap_hasher


def test_the_demo_makes_an_account_for_each_role_and_keeps_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    keys = ["--keys-dir", str(tmp_path / "keys")]
    assert main(["demo", "--db", url, *keys]) == 0
    path = tmp_path / "demo-accounts.txt"
    assert str(path) in capsys.readouterr().out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [line.split()[0] for line in lines] == [p.role.value for p in PEOPLE]
    assert {p.role for p in PEOPLE} == set(Role) - {Role.SYSTEM}
    first = read_accounts_file(path)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for account in first.values():
            signed_in = accounts.login(account.username, account.password, "127.0.0.1")
            assert signed_in.role is account.role
            street = account.role is Role.DISCIPLINARY_AUDITOR
            assert signed_in.community == (None if street else "tianhai")

    assert main(["demo", "--db", url, *keys]) == 0
    assert read_accounts_file(path) == first

    # A lost line gets a new password, written back; the others keep theirs.
    path.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    assert main(["demo", "--db", url, *keys]) == 0
    again = read_accounts_file(path)
    clerk = next(p.username for p in PEOPLE if p.role is Role.CLERK)
    assert again[clerk].password != first[clerk].password
    assert {k: v for k, v in again.items() if k != clerk} == {
        k: v for k, v in first.items() if k != clerk
    }
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        assert accounts.login(clerk, again[clerk].password, "127.0.0.1").role is Role.CLERK


def test_the_demo_catches_the_read_models_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    assert main(["demo", "--db", url, "--keys-dir", str(tmp_path / "keys")]) == 0
    with open_store(url) as store:
        head = store.max_seq("tianhai")
    db = open_read_db(url, create=False)
    try:
        with db.reading() as tx:
            positions = tx.query(
                "SELECT projection, position FROM projection_tracking WHERE community = ?",
                ("tianhai",),
            )
    finally:
        db.close()
    assert len(positions) == len(all_projections())
    assert {position for _, position in positions} == {head}
    assert head > 100


def test_a_broken_accounts_file_is_refused_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    (tmp_path / "demo-accounts.txt").write_text("clerk lina\n", encoding="utf-8")
    assert main(["demo", "--db", url, "--keys-dir", str(tmp_path / "keys")]) == 2
    assert "demo-accounts.txt line 1" in capsys.readouterr().err
