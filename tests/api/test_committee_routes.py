"""The supervision committee's register over HTTP on the demo community: the clerk
records a post and a declared relationship, an election refused for a recusal (409, the
rule named, nothing stored) and one accepted; everyone reads who serves and their
term, and only the community's members read the declared relationships."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.clock import held_at
from ledger.domain.vocabulary import Role
from ledger.store import open_store
from tests.api.test_meeting_routes import CHINA, NAMES, PROBLEM, T, head, send, site

__all__ = ["site"]  # the fixture, used by name


def held_meeting(url: str) -> str:
    """A representatives' meeting held with its quorum, recorded on a clock of its own."""
    clerk = Actor("李娜", Role.CLERK)
    starts = dt.datetime(2026, 6, 25, 14, 30, tzinfo=CHINA)
    with open_store(url) as store, Ledger(store) as whole:
        book = whole.community("tianhai")
        with held_at(dt.datetime(2026, 6, 20, 9, tzinfo=CHINA)) as clock:
            made = book.call_meeting(
                clerk, "election-meeting", kind="representatives", members=45,
                agenda=["推选居务监督委员会成员"], place="社区二楼议事厅", starts_at=starts,
            )  # fmt: skip
            meeting = str(made.result["id"])
            book.post_meeting_notice(clerk, "election-meeting:notice", meeting)
            clock.set(starts)
            book.record_attendance(clerk, "election-meeting:present", meeting,
                                   present=NAMES[:40])  # fmt: skip
    return meeting


def test_the_register_refuses_a_recused_member_and_shows_who_serves(
    site: tuple[TestClient, Any, str],
) -> None:
    client, tokens, url = site
    clerk = tokens["clerk.tianhai"]
    meeting = held_meeting(url)
    posted = send(client, clerk, "/committee/posts",
                  {"person": "刘文斌", "body": "residents_committee", "post": "主任"})  # fmt: skip
    assert posted.status_code == 201, posted.text
    declared = send(client, clerk, "/committee/relationships",
                    {"person": "周杰", "relative": "刘文斌", "relation": "配偶"})  # fmt: skip
    assert declared.status_code == 201, declared.text
    election = {
        "members": ["王建国", "周杰", "吴敏"],
        "chair": "王建国",
        "term_from": "2026-06-25",
        "term_until": "2029-06-24",
        "meeting_id": meeting,
    }
    before = head(client)
    refused = send(client, clerk, "/committee/election", election)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert "close relative (近亲属) of 刘文斌" in refused.json()["detail"]
    assert head(client) == before
    elected = send(client, clerk, "/committee/election",
                   {**election, "members": ["王建国", "陈红梅", "吴敏"]})  # fmt: skip
    assert elected.status_code == 201, elected.text

    public = client.get(f"{T}/committee").json()
    assert (public["chair"], public["term_until"]) == ("王建国", "2029-06-24")
    assert [m["name"] for m in public["members"] if m["in_office"]] == ["王建国", "陈红梅", "吴敏"]
    assert public["posts"] == {"刘文斌": ["residents_committee"]}
    assert "relatives" not in public
    member = client.get(
        f"{T}/committee", headers={"Authorization": f"Bearer {tokens['resident.tianhai']}"}
    ).json()
    assert member["relatives"] == {"刘文斌": ["周杰"], "周杰": ["刘文斌"]}
    bad = send(client, clerk, "/committee/relationships",
               {"person": "周杰", "relative": "吴敏", "relation": "朋友"})  # fmt: skip
    assert bad.status_code == 422
    assert "近亲属" in bad.json()["detail"]
