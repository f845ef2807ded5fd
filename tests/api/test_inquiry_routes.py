"""Inquiries over HTTP on the demo community: the list with each deadline and status is
the members' and the auditors'; the clerk answers, the representative who asked marks
the answer unsatisfactory, the committee records the meeting; and the service's own
worker (or 'gongkai projections run --once') escalates what is overdue. Inquiries are
filed through the ledger at a fixed time, so that their deadlines do not depend on the
day the tests run."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.cli.main import main
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.vocabulary import Role
from ledger.store import open_store
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store

T = "/v1/communities/tianhai"
PROBLEM = "application/problem+json"
CHINA = dt.timezone(dt.timedelta(hours=8))
PEOPLE = {
    "rep": ("resident_representative", "周兰"),
    "rep2": ("resident_representative", "孙明"),
    "resident": ("resident", "张伟"),
    "clerk": ("clerk", "李娜"),
    "chair": ("committee_chair", "王建国"),
}


@dataclass
class Site:
    url: str
    client: TestClient
    tokens: dict[str, str]

    def file(self, question: str, at: str, **fields: Any) -> str:
        """An inquiry filed by 'rep' at a China time, through the ledger."""
        now = dt.datetime.fromisoformat(at).replace(tzinfo=CHINA)
        with open_store(self.url) as store, Ledger(store) as ledger:
            done = ledger.community("tianhai").file_inquiry(
                Actor("rep", Role.RESIDENT_REPRESENTATIVE),
                str(uuid.uuid4()),
                question=question,
                now=now,
                **fields,
            )
        return str(done.result["id"])

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def post(self, path: str, body: dict[str, Any], who: str) -> Any:
        headers = {**self.headers(who), "Idempotency-Key": str(uuid.uuid4())}
        return self.client.post(f"{T}{path}", json=body, headers=headers)

    def listed(self, who: str = "clerk") -> dict[str, dict[str, Any]]:
        response = self.client.get(f"{T}/inquiries", headers=self.headers(who))
        assert response.status_code == 200, response.text
        return {i["inquiry_id"]: i for i in response.json()["inquiries"]}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = demo_store(tmp_path_factory.mktemp("inquiries"), second_community=False)
    catch_up(url)
    tokens = {}
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, (role, name) in PEOPLE.items():
            accounts.directory.add(
                username, role, community="tianhai", display_name=name, password=GOOD_PASSWORD
            )
            tokens[username] = accounts.tokens.issue(username).secret
    settings = Settings(db_url=url, checkpoint_interval=0, worker=True, worker_poll=0.2)
    with TestClient(create_app(settings)) as client:
        yield Site(url, client, tokens)


def eventually(check: Any, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_the_list_shows_each_deadline_and_the_worker_escalates_what_is_overdue(
    site: Site,
) -> None:
    overdue = site.file("为何停车费上涨？", "2026-11-02 10:00")  # due Thursday 5 November
    listed = eventually(lambda: site.listed().get(overdue, {}).get("status") == "escalated")
    assert listed, "the service's worker escalates an overdue inquiry by itself"
    shown = site.listed()[overdue]
    assert (shown["filed_on"], shown["due_on"], shown["working_days"]) == (
        "2026-11-02",
        "2026-11-05",
        3,
    )
    assert shown["calendar"].startswith("chinesecalendar ")
    assert shown["representative"] == "rep"
    assert shown["time_zone"] == "Asia/Shanghai"
    assert shown["escalated"]["reason"] == "overdue"
    assert shown["escalated"]["actor"] == "gongkai"
    # Once: the worker passes again and again, the chain has one escalation.
    time.sleep(0.5)
    with open_store(site.url) as store:
        topics = [r[5] for r in store.seal("tianhai").chain_rows(0, 100_000)]
    assert topics.count(b"gongkai/inquiry/escalated") == len(
        [i for i in site.listed().values() if i["escalated"]]
    )


def test_answered_judged_and_closed_over_http(site: Site) -> None:
    inquiry = site.file("电梯维修费如何分摊？", "2026-12-01 09:00")
    answered = site.post(f"/inquiries/{inquiry}/answer", {"answer": "按面积分摊"}, "clerk")
    assert answered.status_code == 201, answered.text
    refused = site.post(f"/inquiries/{inquiry}/unsatisfactory", {"reason": "不是我问的"}, "rep2")
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == PROBLEM
    judged = site.post(f"/inquiries/{inquiry}/unsatisfactory", {"reason": "未说明依据"}, "rep")
    assert judged.status_code == 201, judged.text
    # Answered late (after 4 December) and found unsatisfactory: escalated either way.
    assert eventually(lambda: site.listed().get(inquiry, {}).get("status") == "escalated")
    meeting = {
        "meeting": "two_committees",
        "held_on": "2026-12-09",
        "present": ["王建国", "李娜", "周兰"],
        "conclusion": "居委会书面说明依据并公开",
    }
    recorded = site.post(f"/inquiries/{inquiry}/meeting", meeting, "chair")
    assert recorded.status_code == 201, recorded.text
    closed = eventually(lambda: site.listed().get(inquiry, {}).get("status") == "closed")
    assert closed
    shown = site.client.get(f"{T}/inquiries/{inquiry}", headers=site.headers("resident")).json()
    assert shown["meeting"]["present"] == ["王建国", "李娜", "周兰"]
    assert shown["answered"]["answer"] == "按面积分摊"


def test_the_list_is_the_members_and_names_no_item_a_reader_may_not_see(site: Site) -> None:
    anonymous = site.client.get(f"{T}/inquiries")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM
    board = site.client.get(f"{T}/board", headers=site.headers("clerk")).json()["items"]
    secret = next(i["disclosure_id"] for i in board if i["scope"] == "leadership")
    inquiry = site.file("续租底价是多少？", "2026-12-07 09:00", disclosure_id=secret)
    assert eventually(lambda: inquiry in site.listed())
    assert site.listed("clerk")[inquiry]["disclosure_id"] == secret
    assert site.listed("resident")[inquiry]["disclosure_id"] is None
    unknown = site.client.get(f"{T}/inquiries/{uuid.uuid4()}", headers=site.headers("resident"))
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"meeting": "party", "held_on": "2026-12-09", "present": ["王"], "conclusion": "x"},
            "meeting",
        ),
        (
            {"meeting": "supervision", "held_on": "2026-12-09", "present": [], "conclusion": "x"},
            "present",
        ),
        (
            {"meeting": "supervision", "held_on": "09/12", "present": ["王"], "conclusion": "x"},
            "held_on",
        ),
    ],
)
def test_a_bad_meeting_record_is_refused_naming_the_field(
    site: Site, body: dict[str, Any], field: str
) -> None:
    inquiry = site.file("问", "2026-11-02 10:00")
    response = site.post(f"/inquiries/{inquiry}/meeting", body, "chair")
    assert response.status_code == 422, response.text
    assert field in response.text


def test_a_scheduler_escalates_with_projections_run_once(tmp_path: Any) -> None:
    url = demo_store(tmp_path, second_community=False)
    now = dt.datetime(2026, 11, 2, 10, tzinfo=CHINA)
    with open_store(url) as store, Ledger(store) as ledger:
        rep = Actor("rep", Role.RESIDENT_REPRESENTATIVE)
        ledger.community("tianhai").file_inquiry(rep, "k", question="问", now=now)

    def escalations() -> int:
        with open_store(url) as store:
            topics = [r[5] for r in store.seal("tianhai").chain_rows(0, 100_000)]
        return topics.count(b"gongkai/inquiry/escalated")

    assert main(["projections", "run", "--db", url, "--once"]) == 0  # catches up, escalates
    # This one, and the demo's own, which the demo recorded escalated.
    assert escalations() == 2
    assert main(["projections", "run", "--db", url, "--once"]) == 0  # finds nothing more
    assert escalations() == 2
