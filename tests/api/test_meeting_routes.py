"""Residents' meetings over HTTP on the demo community: the clerk calls a meeting and
posts its notice; a notice less than three days before is refused with the rule named
and nothing stored; a meeting is not recorded as held before it starts; a proposal
under one fifth is refused. A meeting recorded on a clock of its own (through the
ledger, so that its times do not depend on the day the tests run) shows its agenda,
its count present and its resolutions to everyone, and the names of those present
only to the community's members."""

from __future__ import annotations

import datetime as dt
import html
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.clock import held_at
from ledger.domain.vocabulary import Role
from ledger.store import open_store
from tests.api.demo_service import catch_up, demo_store, reader_tokens

T = "/v1/communities/tianhai"
PROBLEM = "application/problem+json"
CHINA = dt.timezone(dt.timedelta(hours=8))
READERS = (("clerk", "tianhai"), ("resident", "tianhai"), ("resident", "xinhe"))
NAMES = [f"代表{n:02d}" for n in range(1, 46)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Any, str]]:
    url = demo_store(tmp_path_factory.mktemp("meetings"))
    tokens = {f"{r}.{c}": t for (r, c), t in reader_tokens(url, READERS).items()}
    settings = Settings(db_url=url, checkpoint_interval=0, worker=False)
    with TestClient(create_app(settings)) as client:
        yield client, tokens, url


def send(client: TestClient, token: str, path: str, body: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
    return client.post(T + path, json=body, headers=headers)


def head(client: TestClient) -> int:
    seq: int = client.get(f"{T}/head").json()["seq"]
    return seq


def calling(starts_at: dt.datetime, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "representatives",
        "members": 45,
        "agenda": ["审议老旧小区改造二期加装电梯实施方案"],
        "place": "社区二楼议事厅",
        "starts_at": starts_at.isoformat(),
        **fields,
    }


def test_the_clerk_calls_a_meeting_and_its_notice_needs_three_days(
    site: tuple[TestClient, Any, str],
) -> None:
    client, tokens, _ = site
    clerk = tokens["clerk.tianhai"]
    now = dt.datetime.now(CHINA)
    soon = send(client, clerk, "/meetings", calling(now + dt.timedelta(days=2, hours=23)))
    assert soon.status_code == 201, soon.text
    before = head(client)
    refused = send(client, clerk, f"/meetings/{soon.json()['result']['id']}/notice", {})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert "三天通知" in refused.json()["detail"]
    assert head(client) == before

    later = send(client, clerk, "/meetings", calling(now + dt.timedelta(days=4)))
    meeting = later.json()["result"]["id"]
    noticed = send(client, clerk, f"/meetings/{meeting}/notice", {})
    assert noticed.status_code == 201, noticed.text
    early = send(client, clerk, f"/meetings/{meeting}/attendance", {"present": NAMES[:30]})
    assert early.status_code == 409
    assert "before then" in early.json()["detail"]
    shown = client.get(f"{T}/meetings/{meeting}").json()
    assert (shown["status"], shown["present"], shown["resolutions"]) == ("notified", 0, [])


def test_a_proposal_under_one_fifth_is_refused_and_a_bad_call_named(
    site: tuple[TestClient, Any, str],
) -> None:
    client, tokens, _ = site
    clerk = tokens["clerk.tianhai"]
    starts = dt.datetime.now(CHINA) + dt.timedelta(days=10)
    under = send(client, clerk, "/meetings",
                 calling(starts, proposers=NAMES[:8], representatives=45))  # fmt: skip
    assert under.status_code == 409
    assert "五分之一" in under.json()["detail"]
    naive = send(client, clerk, "/meetings", calling(starts.replace(tzinfo=None)))
    assert naive.status_code == 422
    assert naive.headers["content-type"] == PROBLEM
    resident = send(client, tokens["resident.tianhai"], "/meetings", calling(starts))
    assert resident.status_code == 403


def test_a_meeting_held_shows_its_votes_to_all_and_its_names_to_members(
    site: tuple[TestClient, Any, str],
) -> None:
    client, tokens, url = site
    clerk = Actor("李娜", Role.CLERK)
    starts = dt.datetime(2026, 6, 20, 14, 30, tzinfo=CHINA)
    with open_store(url) as store, Ledger(store) as whole:
        book = whole.community("tianhai")
        with held_at(dt.datetime(2026, 6, 10, 9, tzinfo=CHINA)) as clock:
            made = book.call_meeting(
                clerk, "meeting-june", kind="representatives", members=45,
                agenda=["审议临街用房续租事项"], place="社区二楼议事厅", starts_at=starts,
                proposers=NAMES[:9], representatives=45,
            )  # fmt: skip
            meeting = str(made.result["id"])
            book.post_meeting_notice(clerk, "meeting-june:notice", meeting)
            clock.set(starts)
            book.record_attendance(clerk, "meeting-june:present", meeting, present=NAMES[:42])
            book.vote_resolution(clerk, "meeting-june:1", meeting, title="续租方案",
                                 votes_for=28, votes_against=10, abstaining=4)  # fmt: skip
            book.vote_resolution(clerk, "meeting-june:2", meeting, title="提高租金标准",
                                 votes_for=27, votes_against=15, abstaining=0)  # fmt: skip
    public = client.get(f"{T}/meetings/{meeting}").json()
    assert (public["status"], public["present"], public["quorate"]) == ("held", 42, True)
    assert [(r["number"], r["passed"]) for r in public["resolutions"]] == [(1, True), (2, False)]
    assert public["present_names"] is None
    assert public["proposers"] == 9, "the count, not the names"
    for outsider in ("resident.xinhe",):
        seen = client.get(f"{T}/meetings/{meeting}",
                          headers={"Authorization": f"Bearer {tokens[outsider]}"})  # fmt: skip
        assert seen.json()["present_names"] is None
    member = client.get(
        f"{T}/meetings/{meeting}",
        headers={"Authorization": f"Bearer {tokens['resident.tianhai']}"},
    ).json()
    assert member["present_names"] == sorted(NAMES[:42])
    assert member["proposers"] == sorted(NAMES[:9])
    assert client.get(f"{T}/meetings/{uuid.uuid4()}").status_code == 404

    # The portal's page lists it with its votes, and without the names of those present.
    catch_up(url)
    page = html.unescape(client.get("/c/tianhai/meetings").text)
    article = page[page.index(f'data-meeting="{meeting}"') :]
    article = article[: article.index("</article>")]
    assert 'data-status="held"' in article
    assert "应到45人，实到42人" in article
    assert "9名居民代表提议" in article
    assert article.count('data-passed="yes"') == 1
    assert article.count('data-passed="no"') == 1
    assert "续租方案" in article
    assert not any(name in page for name in NAMES)
    board = client.get("/c/tianhai").text
    assert 'href="/c/tianhai/meetings"' in board
