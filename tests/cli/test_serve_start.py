"""``gongkai serve`` refuses to start without the tables it reads, naming what is
missing and the command that makes it, and exits 2; with everything there it serves,
and stops cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli.main import main
from api.service.preflight import fix_command, missing_stores
from tests.serve_process import serving


def serve(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["serve", "--db", url, "--port", "1"])
    return status, capsys.readouterr().err


def test_no_store_at_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    status, err = serve(url, capsys)
    assert status == 2
    assert "ledger" in err
    assert f"create them with: gongkai db init --db {url}" in err
    assert list(tmp_path.iterdir()) == []  # serve made nothing


@pytest.mark.parametrize(
    ("removed", "store"),
    [("gongkai.projections.sqlite3", "read models"), ("gongkai.accounts.sqlite3", "accounts")],
)
def test_a_missing_store_beside_the_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], removed: str, store: str
) -> None:
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    assert main(["db", "init", "--db", url]) == 0
    (tmp_path / removed).unlink()
    status, err = serve(url, capsys)
    assert status == 2
    assert f"cannot serve: {store}:" in err
    assert f"gongkai db init --db {url}" in err
    assert main(["db", "init", "--db", url]) == 0
    assert missing_stores(url) == []


def test_a_missing_table_is_named(tmp_path: Path) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    assert main(["db", "init", "--db", url]) == 0
    with sqlite3.connect(tmp_path / "gongkai.projections.sqlite3") as conn:
        conn.execute("DROP TABLE finance_entries")
    with sqlite3.connect(tmp_path / "gongkai.accounts.sqlite3") as conn:
        conn.execute("DROP TABLE web_sessions")
    found = {m.store: m.detail for m in missing_stores(url)}
    assert found == {
        "read models": "no tables finance_entries",
        "accounts": "no tables web_sessions",
    }


def test_read_models_of_another_release_need_db_init(tmp_path: Path) -> None:
    import sqlite3

    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    assert main(["db", "init", "--db", url]) == 0
    with sqlite3.connect(tmp_path / "gongkai.projections.sqlite3") as conn:
        conn.execute("UPDATE projection_layouts SET layout = 'old' WHERE projection = 'board'")
    (missing,) = missing_stores(url)
    assert missing.store == "read models"
    assert "another release" in missing.detail
    assert "board" in missing.detail


def test_the_fix_for_postgresql_is_the_owners_and_hides_the_password() -> None:
    fix = fix_command("postgresql://gongkai_service:s3cret@db.example:5432/gongkai")
    assert fix.startswith("gongkai db init --db 'postgresql://OWNER@db.example:5432/gongkai'")
    assert "--service-role gongkai_service" in fix
    assert "s3cret" not in fix


def test_an_unreachable_database_is_not_told_to_run_db_init(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, err = serve("postgresql://nobody@127.0.0.1:1/none", capsys)
    assert status == 2
    assert "cannot serve: ledger:" in err
    assert "db init" not in err


def test_the_demo_is_served_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    assert main(["demo", "--db", url, "--keys-dir", str(tmp_path / "keys")]) == 0
    with serving(url, tmp_path) as server:
        health = server.health()
    assert health["worker"]["state"] == "running"
    assert health["read_models"]["tianhai"]["behind"] == 0
    assert "Application shutdown complete" in server.output()


def test_without_the_worker_the_health_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    assert main(["demo", "--db", url, "--keys-dir", str(tmp_path / "keys")]) == 0
    with serving(url, tmp_path, ["--no-worker"]) as server:
        health = server.health()
    assert health["worker"] == {"state": "not in this process"}
    assert health["read_models"]["tianhai"]["behind"] == 0
    assert "without the projection worker" in server.output()
