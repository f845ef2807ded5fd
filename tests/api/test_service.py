"""The service: health, the stored events as JSON, and errors as problem+json."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import CommunityLedger
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.contract.test_ledger_contract import posted


def token_of(store_url: str, role: str, community: str | None) -> str:
    """A bearer token of a new account with ``role`` (names are unique: PostgreSQL's
    test database is shared)."""
    name = f"{role[:8]}.{uuid.uuid4().hex[:8]}"
    with open_accounts(store_url, hasher=cheap_hasher(), create=True) as accounts:
        accounts.directory.add(name, role, community=community, password=GOOD_PASSWORD)
        return accounts.tokens.issue(name).secret


@pytest.fixture
def client(ledger: CommunityLedger, store_url: str) -> Iterator[TestClient]:
    posted(ledger)
    auditor = token_of(store_url, "disciplinary_auditor", None)
    with TestClient(
        create_app(Settings(db_url=store_url)), headers={"Authorization": f"Bearer {auditor}"}
    ) as c:
        yield c


def test_the_stored_entries_are_for_leadership_and_auditors(
    client: TestClient, ledger: CommunityLedger, store_url: str
) -> None:
    cid = ledger.community.id
    path = f"/v1/communities/{cid}/events"
    anonymous = client.get(path, headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    for role, status in [("resident", 403), ("committee_member", 403), ("clerk", 200)]:
        token = token_of(store_url, role, cid)
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, role
    # A clerk of another community (any name will do: the directory keeps no ledger).
    elsewhere = token_of(store_url, "clerk", "elsewhere")
    denied = client.get(path, headers={"Authorization": f"Bearer {elsewhere}"})
    assert denied.status_code == 403


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


def test_events_are_served_as_json_with_their_chain(
    client: TestClient, ledger: CommunityLedger
) -> None:
    cid = ledger.community.id
    body = client.get(f"/v1/communities/{cid}/events", params={"after": 1, "limit": 2}).json()
    assert [e["seq"] for e in body["events"]] == [2, 3]
    assert body["next_after"] == 3
    drafted = body["events"][0]
    assert drafted["topic"] == "gongkai/disclosure/drafted"
    assert drafted["state"]["title"] == "2026年7月低保发放公示"
    assert drafted["state"]["actor"] == "李娜"
    assert body["events"][1]["prev_hash"] == drafted["hash"]
    head = client.get(f"/v1/communities/{cid}/head").json()
    assert (head["seq"], head["hash"]) == (6, ledger.head().hash.hex())
    listed = client.get("/v1/communities").json()
    assert {"id": cid, "name": "测试社区"} in listed


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/v1/communities/nowhere/events", 404, "no community 'nowhere'"),
        ("/v1/communities/NO%20WAY/head", 422, "community ID"),
        ("/v1/communities/{cid}/events?limit=0", 422, "limit"),
        ("/v1/communities/{cid}/events?after=x", 422, "after"),
        ("/v1/nothing-here", 404, "Not Found"),
    ],
)
def test_errors_are_problem_json(
    client: TestClient, ledger: CommunityLedger, path: str, status: int, detail: str
) -> None:
    response = client.get(path.replace("{cid}", ledger.community.id))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert detail in problem["detail"]


def test_the_service_never_creates_tables(tmp_path: Path) -> None:
    """Without 'gongkai db init' the service answers 503 and creates nothing."""
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    with TestClient(create_app(Settings(db_url=url))) as c:
        response = c.get("/healthz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "gongkai db init" in response.json()["detail"]
        assert c.get("/v1/communities/tianhai/events").status_code == 503
        login = c.post("/v1/login", json={"username": "wang.li", "password": "x" * 12})
        assert login.status_code == 503
        assert "gongkai db init" in login.json()["detail"]
    assert list(tmp_path.iterdir()) == []


def test_settings_take_the_database_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GONGKAI_DB", raising=False)
    assert Settings.from_env().db_url == "sqlite:///data/gongkai.sqlite3"
    monkeypatch.setenv("GONGKAI_DB", "postgresql://u@h/db")
    assert Settings.from_env().db_url == "postgresql://u@h/db"
