"""The projection worker, killed with SIGKILL in mid-batch and restarted, ends with the
same rows as a rebuild from nothing: each entry applied exactly once. On SQLite and
PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from api.cli.main import main
from ledger.application import Ledger
from ledger.store import open_store
from projections.board import fold_board
from projections.db import open_read_db
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.contract.test_ledger_contract import CLERK, DRAFT, posted

WORKER = "import sys; from api.cli.main import main; sys.exit(main(sys.argv[1:]))"


def key() -> str:
    return str(uuid.uuid4())


def board_rows(url: str) -> list[tuple[object, ...]]:
    db = open_read_db(url, create=False)
    try:
        with db.transaction() as tx:
            return tx.query(
                "SELECT * FROM board_items ORDER BY community, disclosure_id, valid_from"
            )
    finally:
        db.close()


def position(url: str) -> int:
    db = open_read_db(url, create=False)
    try:
        with db.reading() as tx:
            rows = tx.query("SELECT position FROM projection_tracking WHERE community = 'tianhai'")
    finally:
        db.close()
    return int(rows[0][0]) if rows else 0


@pytest.mark.slow
def test_a_killed_worker_resumes_and_applies_each_entry_once(
    isolated_store_url: str, tmp_path: Path
) -> None:
    url = isolated_store_url
    assert main(["demo", "--db", url, "--keys-dir", str(tmp_path / "keys")]) == 0
    with open_store(url) as store, Ledger(store) as ledger:
        tianhai = ledger.community("tianhai")
        for i in range(60):
            posted(tianhai)
            tianhai.draft_disclosure(CLERK, key(), **{**DRAFT, "title": f"草稿 {i}"})
        total = store.max_seq("tianhai")
    # The tables exist before the first worker, so that the test can read its position.
    db = open_read_db(url)
    ProjectionRunner(db, all_projections(), lambda *_: []).setup()
    db.close()
    kills = 0
    args = [sys.executable, "-c", WORKER, "projections", "run", "--db", url]
    args += ["--community", "tianhai", "--batch", "7", "--interval", "0.05"]
    for round_ in range(4):
        worker = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        start = position(url)
        deadline = time.monotonic() + 60
        # Kill it once it has moved on a little: it is then most likely inside a batch.
        while position(url) < start + 7 * (round_ + 1) and time.monotonic() < deadline:
            if worker.poll() is not None:
                raise AssertionError(worker.stderr.read().decode() if worker.stderr else "")
            time.sleep(0.005)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
    assert kills == 4
    assert main(["projections", "run", "--db", url, "--community", "tianhai", "--once"]) == 0
    resumed = board_rows(url)
    assert main(["projections", "rebuild", "--db", url, "--community", "tianhai"]) == 0
    assert board_rows(url) == resumed
    with open_store(url) as store:
        every_disclosure = fold_board(store.chain_rows("tianhai"))
    assert len({row[1] for row in resumed}) == len(every_disclosure) > 120
    assert position(url) == total


def test_the_service_role_runs_the_worker_and_signs_in_after_db_init(tmp_path: Path) -> None:
    """PostgreSQL: 'gongkai db init --service-role' grants the read models' and the
    accounts' tables, so the worker and the service need no owner's rights."""
    from tests.conftest import SERVICE_ROLE, pg_url

    admin, app = pg_url("ADMIN"), pg_url("APP")
    assert main(["db", "init", "--db", admin, "--service-role", SERVICE_ROLE]) == 0
    assert main(["demo", "--db", admin, "--keys-dir", str(tmp_path / "keys")]) in (0, 2)
    assert main(["db", "init", "--db", admin, "--service-role", SERVICE_ROLE]) == 0
    assert main(["projections", "run", "--db", app, "--once"]) == 0
    assert position(app) > 0
    password = tmp_path / "password"
    password.write_text("a long enough password\n")
    name = "svc" + uuid.uuid4().hex[:8]
    args = ["users", "add", "--db", app, "--username", name, "--role", "resident"]
    assert main([*args, "--community", "tianhai", "--password-file", str(password)]) == 0
