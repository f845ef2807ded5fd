"""The disclosure calendar over HTTP on the demo community: the calendar the demo
adopted from the seeds, each obligation shown as its scope says; one adopted by the
clerk awaits the committee; bad input is refused with a problem and stores nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store

T = "/v1/communities/tianhai"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url = demo_store(tmp_path_factory.mktemp("calendar"), second_community=False)
    catch_up(url)
    tokens = {}
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, role in (("clerk", "clerk"), ("member", "committee_member")):
            accounts.directory.add(username, role, community="tianhai", password=GOOD_PASSWORD)
            tokens[username] = accounts.tokens.issue(username).secret
    settings = Settings(db_url=url, checkpoint_interval=0, worker=True, worker_poll=0.2)
    with TestClient(create_app(settings)) as client:
        yield client, tokens


def listed(client: TestClient, token: str | None = None) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(f"{T}/calendar", headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["obligations"]
    return found


def test_the_demo_calendar_is_in_force_and_shown_as_its_scopes_say(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = site
    members = listed(client, tokens["member"])
    assert {o["cadence"] for o in members} == {
        "monthly", "quarterly", "year_end", "per_matter", "before_the_fact", "long_term"
    }  # fmt: skip
    assert all(o["status"] == "in_force" for o in members)
    finance = next(o for o in members if o["category"] == "income_expense")
    assert (finance["due_days"], finance["due_rule"]) == (10, "day of the next month")
    assert finance["scope"] == "internal"
    public = listed(client)
    assert finance["obligation_id"] not in {o["obligation_id"] for o in public}
    assert len(public) == len(members) - 1
    # Which drafts and items fulfil each obligation: the leadership's and the auditors'.
    assert all("covered" not in o for o in members + public)
    clerk = {o["obligation_id"]: o for o in listed(client, tokens["clerk"])}
    assert clerk[finance["obligation_id"]]["covered"], "the demo's accounts cover a month"
    assert sum(len(o["covered"]) for o in clerk.values()) >= 3
    for o in clerk.values():
        for act in o["covered"]:
            assert act["disclosure_id"]
            if o["cadence"] == "monthly":
                assert len(act["period"]) == 7  # YYYY-MM


def test_an_adopted_obligation_awaits_the_committee_and_bad_input_stores_nothing(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = site
    body = {"title": "民主评议结果", "category": "evaluation_results", "cadence": "per_matter",
            "due_days": 7, "scope": "public"}  # fmt: skip
    headers = {"Authorization": f"Bearer {tokens['clerk']}", "Idempotency-Key": str(uuid.uuid4())}
    head = client.get(f"{T}/head").json()
    bad = client.post(f"{T}/obligations", json={**body, "cadence": "long_term"}, headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert client.get(f"{T}/head").json() == head
    headers["Idempotency-Key"] = str(uuid.uuid4())
    adopted = client.post(f"{T}/obligations", json=body, headers=headers)
    assert adopted.status_code == 201, adopted.text
    oid = adopted.json()["result"]["id"]
    mine = {o["obligation_id"]: o for o in listed(client, tokens["member"])}
    for _ in range(100):
        if oid in mine:
            break
        time.sleep(0.05)
        mine = {o["obligation_id"]: o for o in listed(client, tokens["member"])}
    assert mine[oid]["status"] == "adopted"


def test_the_compliance_view_is_the_members_and_judges_the_day_asked(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = site
    assert client.get(f"{T}/compliance").status_code == 401
    headers = {"Authorization": f"Bearer {tokens['member']}"}
    now = client.get(f"{T}/compliance", headers=headers)
    assert now.status_code == 200, now.text
    lines = {o["title"]: o for o in now.json()["obligations"]}
    monthly = lines["每月财务收支明细"]["owed"]
    assert monthly, "the month the calendar came into force is owed"
    assert {w["status"] for w in monthly} <= {"met", "late", "missing", "due"}
    # A year on, with nothing more posted, every month then owed is missing or late.
    later = client.get(f"{T}/compliance?at=2030-01-15T12:00:00%2B08:00", headers=headers)
    assert later.status_code == 200, later.text
    assert later.json()["today"] == "2030-01-15"
    owed = {o["title"]: o for o in later.json()["obligations"]}["每月财务收支明细"]["owed"]
    assert len(owed) > len(monthly)
    assert owed[-2]["status"] == "missing"
    naive = client.get(f"{T}/compliance?at=2030-01-15T12:00:00", headers=headers)
    assert naive.status_code == 422


def test_the_console_page_shows_what_each_obligation_owes(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = site
    headers = {"Authorization": f"Bearer {tokens['member']}"}
    page = client.get("/console/c/tianhai/calendar?day=2030-01-15", headers=headers)
    assert page.status_code == 200, page.text
    assert "每月财务收支明细" in page.text
    assert "截至 2030-01-15" in page.text
    assert 'data-owed="missing"' in page.text
    assert client.get("/console/c/tianhai/calendar?day=soon", headers=headers).status_code == 422
    home = client.get("/console", headers=headers).text
    assert 'href="/console/c/tianhai/calendar"' in home, "the committee finds it from home"
