"""The projection worker inside ``gongkai serve``: woken by the service's own commands,
surviving a batch that raises, killed with the server and resumed, and beside a second
server on the same store, every entry applied exactly once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.cli.main import main
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.domain.vocabulary import Role
from ledger.store import open_store
from projections.board_projection import BoardProjection
from projections.db import Tx, open_read_db
from projections.ledger_event import LedgerEvent
from projections.registry import all_projections
from tests.api.demo_service import reader_tokens
from tests.contract.test_ledger_contract import CLERK, DRAFT, posted
from tests.projection_rows import table_rows
from tests.serve_process import Server, post_json, serving

PUBLICATION = {"channel": "board", "period_from": "2026-07-01", "period_until": "2026-07-31"}
REVIEW = {"stage": "committee", "outcome": "approved", "opinion": "同意"}
PARTY_REVIEW = {**REVIEW, "stage": "party_branch"}
WRITERS = [
    (Role.CLERK, "tianhai"),
    (Role.COMMITTEE_CHAIR, "tianhai"),
    (Role.PARTY_REVIEWER, "tianhai"),
]


def demo(url: str, tmp_path: Path) -> str:
    """``gongkai demo``: the ledger, the read models (caught up) and the accounts."""
    assert main(["demo", "--db", url, "--keys-dir", str(tmp_path / "keys")]) == 0
    return url


def read_model_rows(url: str) -> list[list[tuple[Any, ...]]]:
    """Every read model's rows of tianhai."""
    db = open_read_db(url, create=False)
    try:
        return [table_rows(db, t, "tianhai") for p in all_projections() for t in p.tables()]
    finally:
        db.close()


def rebuilt_rows(url: str) -> list[list[tuple[Any, ...]]]:
    assert main(["projections", "rebuild", "--db", url, "--community", "tianhai"]) == 0
    return read_model_rows(url)


def lowest_position(url: str) -> int:
    db = open_read_db(url, create=False)
    try:
        with db.reading() as tx:
            rows = tx.query(
                "SELECT min(position) FROM projection_tracking WHERE community = 'tianhai'"
            )
    finally:
        db.close()
    return int(rows[0][0] or 0)


def publish_via(client: TestClient, tokens: dict[Any, str], title: str) -> tuple[str, float]:
    """Draft, submit, review and publish over HTTP; the disclosure and when the
    publication was acknowledged."""

    def post(path: str, body: dict[str, Any], who: tuple[Role, str]) -> Any:
        response = client.post(
            f"/v1/communities/tianhai{path}",
            json=body,
            headers={"Authorization": f"Bearer {tokens[who]}", "Idempotency-Key": key()},
        )
        assert response.status_code == 201, response.text
        return response.json()

    clerk, chair, party = WRITERS
    did = post("/disclosures", {**DRAFT, "title": title}, clerk)["result"]["id"]
    post(f"/disclosures/{did}/submission", {}, clerk)
    post(f"/disclosures/{did}/reviews", REVIEW, chair)
    post(f"/disclosures/{did}/reviews", PARTY_REVIEW, party)
    post(f"/disclosures/{did}/publication", PUBLICATION, clerk)
    return did, time.monotonic()


def on_board(client: TestClient, did: str) -> bool:
    items = client.get("/v1/communities/tianhai/board").json()["items"]
    return any(i["disclosure_id"] == did and i["status"] == "published" for i in items)


def key() -> str:
    return str(uuid.uuid4())


def test_a_publication_is_on_the_board_within_a_second(
    isolated_store_url: str, tmp_path: Path
) -> None:
    """The worker polls every 60 s here: only the command's own commit can wake it."""
    url = demo(isolated_store_url, tmp_path)
    tokens = reader_tokens(url, WRITERS)
    settings = Settings(db_url=url, checkpoint_interval=0, worker=True, worker_poll=60)
    with TestClient(create_app(settings)) as client:
        delays = []
        for n in range(3):
            did, acknowledged = publish_via(client, tokens, f"路灯维修公示 {n}")
            while not on_board(client, did):
                assert time.monotonic() - acknowledged < 1.0, "not on the board within 1 s"
                time.sleep(0.01)
            delays.append(time.monotonic() - acknowledged)
        health = client.get("/healthz").json()
    assert max(delays) < 1.0
    assert health["worker"]["state"] == "running"
    assert health["worker"]["applied"] >= 3 * 4
    assert health["read_models"]["tianhai"]["behind"] == 0


def test_a_batch_that_raises_is_retried_and_the_service_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = demo(f"sqlite:///{tmp_path}/gongkai.sqlite3", tmp_path)
    tokens = reader_tokens(url, WRITERS)
    real_apply = BoardProjection.apply
    breaks = [RuntimeError("the board projection broke"), RuntimeError("and again")]

    def flaky(
        self: BoardProjection, tx: Tx, community: str, events: Sequence[LedgerEvent]
    ) -> None:
        if breaks:
            raise breaks.pop(0)
        real_apply(self, tx, community, events)

    monkeypatch.setattr(BoardProjection, "apply", flaky)
    settings = Settings(db_url=url, checkpoint_interval=0, worker=True)
    with TestClient(create_app(settings)) as client:
        did, _ = publish_via(client, tokens, "停水通知")
        seen_failing: dict[str, Any] = {}
        deadline = time.monotonic() + 15
        while not on_board(client, did):
            assert time.monotonic() < deadline, client.get("/healthz").json()
            health = client.get("/healthz").json()
            if health["worker"]["state"] == "retrying":
                seen_failing = health["worker"]["failing"]["tianhai"]
            # Meanwhile the service answers its readers, from the read models as they
            # stood before the failing batch.
            assert client.get("/c/tianhai").status_code == 200
            time.sleep(0.02)
        health = client.get("/healthz").json()
    assert breaks == []
    assert seen_failing["failures"] >= 1
    assert "broke" in seen_failing["error"] or "again" in seen_failing["error"]
    assert (health["worker"]["state"], health["worker"]["failing"]) == ("running", {})
    assert health["read_models"]["tianhai"]["behind"] == 0
    monkeypatch.undo()
    # Rolled back whole each time it raised, then applied once.
    assert read_model_rows(url) == rebuilt_rows(url)


@pytest.mark.slow
def test_serve_killed_mid_batch_resumes_and_applies_each_entry_once(
    isolated_store_url: str, tmp_path: Path
) -> None:
    url = demo(isolated_store_url, tmp_path)
    with open_store(url) as store, Ledger(store) as ledger:
        tianhai = ledger.community("tianhai")
        for i in range(500):
            posted(tianhai)
            tianhai.draft_disclosure(CLERK, key(), **{**DRAFT, "title": f"草稿 {i}"})
        total = store.max_seq("tianhai")
    kills = 0
    for _ in range(3):
        start = lowest_position(url)
        server = Server(url, tmp_path, name=f"-{kills}")
        deadline = time.monotonic() + 60
        # Killed as soon as a batch has committed: the next one is then being applied.
        while lowest_position(url) == start:
            assert time.monotonic() < deadline, server.output()
            assert server.process.poll() is None, server.output()
            time.sleep(0.002)
        server.kill()
        kills += 1
        assert lowest_position(url) < total, "the worker finished before it could be killed"
    assert kills == 3
    with serving(url, tmp_path, name="-last") as server:
        health = server.wait_until_current()
        resumed = read_model_rows(url)
    assert health["read_models"]["tianhai"]["head"] == total
    # Stopped by SIGTERM, cleanly: the lifespan (and with it the worker) ended.
    assert "Application shutdown complete" in server.output()
    assert resumed == rebuilt_rows(url)
    assert len({row[1] for row in resumed[0]}) > 1000  # board_items' disclosures


@pytest.mark.slow
def test_two_servers_on_one_sqlite_store_apply_each_entry_once(tmp_path: Path) -> None:
    url = demo(f"sqlite:///{tmp_path}/gongkai.sqlite3", tmp_path)
    tokens = reader_tokens(url, WRITERS)
    clerk, chair, party = WRITERS
    with serving(url, tmp_path, name="-a") as a, serving(url, tmp_path, name="-b") as b:
        head_before = a.health()["read_models"]["tianhai"]["head"]
        published = []
        for n in range(12):
            # Every step of a disclosure through the other server than the step before.
            servers = [a, b] if n % 2 else [b, a]
            steps: list[tuple[str, dict[str, Any], tuple[Role, str]]] = [
                ("/disclosures", {**DRAFT, "title": f"公示 {n}"}, clerk),
                ("/submission", {}, clerk),
                ("/reviews", REVIEW, chair),
                ("/reviews", PARTY_REVIEW, party),
                ("/publication", PUBLICATION, clerk),
            ]
            did = ""
            for i, (path, body, who) in enumerate(steps):
                server = servers[i % 2]
                prefix = f"{server.base}/v1/communities/tianhai"
                target = prefix + path if not did else f"{prefix}/disclosures/{did}{path}"
                headers = {"Authorization": f"Bearer {tokens[who]}", "Idempotency-Key": key()}
                answer = post_json(target, body, headers)
                did = did or answer["result"]["id"]
            published.append(did)
        for server in (a, b):
            health = server.wait_until_current(timeout=30)
            assert health["worker"]["failing"] == {}, server.output()
        applied = a.health()["worker"]["applied"] + b.health()["worker"]["applied"]
        new_entries = health["read_models"]["tianhai"]["head"] - head_before
        rows = read_model_rows(url)
    # Each new entry applied by one of the two workers, once to each projection.
    assert new_entries >= 60
    assert applied == new_entries * len(all_projections())
    board_ids = {str(row[1]) for row in rows[0]}
    assert set(published) <= board_ids
    assert rows == rebuilt_rows(url)
