"""The supervision committee's register on SQLite and PostgreSQL alike, each rule at its
boundary with the outcome written by hand [001]: a committee of 2 and of 6 is refused,
3 and 5 elected; each recusal (回避) case refused with the rule named; and, once a
committee is elected, a review of the committee's stage counts only from a member in
office with a key registered to them: a member whose term has ended, who resigned or was
recalled, or who is not a member, is refused, and nothing is stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.domain.base import Actor
from ledger.domain.clock import HeldClock, held_at
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidTransitionError, NotFoundError, PermissionDeniedError
from ledger.seal.keys import KeyKind, generate_key
from ledger.seal.review_seal import sign_review
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, key
from tests.contract.test_meetings import REPRESENTATIVES, STARTS, call
from tests.contract.test_review_seal_contract import review_of

CHINA = dt.timezone(dt.timedelta(hours=8))
PEOPLE = ["王建国", "陈红梅", "周杰", "吴敏", "郑华", "冯丽"]


@pytest.fixture
def clock() -> Iterator[HeldClock]:
    with held_at(dt.datetime(2026, 12, 1, 9, tzinfo=CHINA)) as held:
        yield held


@pytest.fixture
def meeting(ledger: CommunityLedger, clock: HeldClock) -> str:
    """A representatives' meeting held on 2026-12-17 with 30 of its 45 present."""
    found = call(ledger)
    ledger.post_meeting_notice(CLERK, key(), found)
    clock.set(STARTS)
    ledger.record_attendance(CLERK, key(), found, present=REPRESENTATIVES[:30])
    return found


def elect(ledger: CommunityLedger, meeting: str, members: list[str], **fields: Any) -> Any:
    arguments: dict[str, Any] = {
        "members": members,
        "chair": members[0],
        "term_from": "2026-12-17",
        "term_until": "2029-12-16",
        "meeting_id": meeting,
        **fields,
    }
    return ledger.elect_committee(CLERK, key(), **arguments)


def refused(ledger: CommunityLedger, error: type[Exception], said: str, act: Any) -> None:
    before = ledger.head()
    with pytest.raises(error, match=said):
        act()
    assert ledger.head() == before


@pytest.mark.parametrize(("size", "elected"), [(2, False), (3, True), (5, True), (6, False)])
def test_a_committee_has_three_to_five_members(
    ledger: CommunityLedger, meeting: str, size: int, elected: bool
) -> None:
    if elected:
        assert elect(ledger, meeting, PEOPLE[:size]).result["members"] == PEOPLE[:size]
    else:
        refused(ledger, InvalidTransitionError, "3 to 5",
                lambda: elect(ledger, meeting, PEOPLE[:size]))  # fmt: skip


@pytest.mark.parametrize(
    ("posts", "relations", "candidate", "as_chair", "said"),
    [
        ([("周杰", "residents_committee", "委员")], [], "周杰", False, "residents' committee"),
        ([("周杰", "residents_committee", "委员")], [], "周杰", True, "residents' committee"),
        ([("周杰", "party_branch", "委员")], [], "周杰", False, "party branch"),
        ([("周杰", "finance_staff", "出纳")], [], "周杰", False, "finance staff"),
        ([("刘文斌", "residents_committee", "主任")], [("周杰", "刘文斌", "配偶")], "周杰",
         False, "close relative"),
        ([("赵志刚", "party_branch", "书记")], [("赵志刚", "周杰", "兄弟姐妹")], "周杰",
         False, "close relative"),
    ],
)  # fmt: skip
def test_each_recusal_is_refused_with_its_rule(
    ledger: CommunityLedger,
    meeting: str,
    posts: list[tuple[str, str, str]],
    relations: list[tuple[str, str, str]],
    candidate: str,
    as_chair: bool,
    said: str,
) -> None:
    for person, body, post in posts:
        ledger.register_post(CLERK, key(), person=person, body=body, post=post)
    for person, relative, relation in relations:
        ledger.declare_relationship(CLERK, key(), person=person, relative=relative,
                                    relation=relation)  # fmt: skip
    members = [candidate, "陈红梅", "吴敏"]
    chair = candidate if as_chair else "陈红梅"
    refused(ledger, InvalidTransitionError, said,
            lambda: elect(ledger, meeting, members, chair=chair))  # fmt: skip


def test_a_party_branch_member_may_serve_as_the_chair_only(
    ledger: CommunityLedger, meeting: str
) -> None:
    ledger.register_post(CLERK, key(), person="王建国", body="party_branch", post="副书记")
    refused(ledger, InvalidTransitionError, "party branch",
            lambda: elect(ledger, meeting, ["陈红梅", "王建国", "吴敏"]))  # fmt: skip
    assert elect(ledger, meeting, ["王建国", "陈红梅", "吴敏"]).result["chair"] == "王建国"


def test_one_who_left_the_post_may_serve(ledger: CommunityLedger, meeting: str) -> None:
    ledger.register_post(CLERK, key(), person="周杰", body="finance_staff", post="出纳")
    ledger.leave_post(CLERK, key(), person="周杰", body="finance_staff")
    assert elect(ledger, meeting, ["陈红梅", "周杰", "吴敏"]).result["members"]


def test_a_meeting_without_its_quorum_elects_no_one(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    found = call(ledger)
    ledger.post_meeting_notice(CLERK, key(), found)
    clock.set(STARTS)
    ledger.record_attendance(CLERK, key(), found, present=REPRESENTATIVES[:22])
    refused(ledger, InvalidTransitionError, "not_quorate",
            lambda: elect(ledger, found, PEOPLE[:3]))  # fmt: skip


MEMBER = Actor("陈红梅", Role.COMMITTEE_MEMBER)
CHAIR_OF_COMMITTEE = Actor("王建国", Role.COMMITTEE_CHAIR)
MEMBER_KEY = generate_key("committee.gongkai.example/tianhai/chenhongmei", KeyKind.COSIGNER)


def submitted(ledger: CommunityLedger) -> str:
    d = str(ledger.draft_disclosure(CLERK, key(), **DRAFT).result["id"])
    ledger.submit_for_review(CLERK, key(), d)
    return d


def sealed(ledger: CommunityLedger, d: str, actor: Actor = MEMBER) -> Any:
    seal = sign_review(MEMBER_KEY, review_of(ledger, d))
    return ledger.review(actor, key(), d, stage="committee", outcome="approved",
                         opinion="同意公开", seal_key=seal[0], seal_signature=seal[1])  # fmt: skip


def test_once_elected_a_review_counts_only_from_a_member_in_office_with_a_key(
    ledger: CommunityLedger, meeting: str, clock: HeldClock
) -> None:
    d = submitted(ledger)
    # Before any election, the role is enough, as before.
    ledger.review(MEMBER, key(), d, stage="committee", outcome="approved", opinion="同意")
    elect(ledger, meeting, ["王建国", "陈红梅", "吴敏"], term_until="2027-06-30")
    d = submitted(ledger)
    refused(ledger, PermissionDeniedError, "no seal key is registered",
            lambda: ledger.review(MEMBER, key(), d, stage="committee", outcome="approved",
                                  opinion="同意"))  # fmt: skip
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey)
    assert sealed(ledger, d).result
    outsider = Actor("钱多多", Role.COMMITTEE_MEMBER)
    other = submitted(ledger)
    refused(ledger, PermissionDeniedError, "not a member",
            lambda: ledger.review(outsider, key(), other, stage="committee",
                                  outcome="approved", opinion="同意"))  # fmt: skip
    # The term ends on 2027-06-30: on 07-01 the same member is refused.
    clock.set(dt.datetime(2027, 6, 30, 23, 59, tzinfo=CHINA))
    assert sealed(ledger, submitted(ledger)).result
    clock.set(dt.datetime(2027, 7, 1, 0, 0, tzinfo=CHINA))
    d = submitted(ledger)
    refused(ledger, PermissionDeniedError, "term ended on 2027-06-30",
            lambda: sealed(ledger, d))  # fmt: skip


def test_a_member_who_resigned_or_was_recalled_reviews_no_more(
    ledger: CommunityLedger, meeting: str, clock: HeldClock
) -> None:
    elect(ledger, meeting, ["王建国", "陈红梅", "吴敏"])
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey)
    ledger.leave_committee(CLERK, key(), member="陈红梅", on="2027-01-10", reason="工作调动")
    clock.set(dt.datetime(2027, 1, 9, 18, tzinfo=CHINA))
    assert sealed(ledger, submitted(ledger)).result
    clock.set(dt.datetime(2027, 1, 10, 9, tzinfo=CHINA))
    d = submitted(ledger)
    refused(ledger, PermissionDeniedError, "left the committee on 2027-01-10",
            lambda: sealed(ledger, d))  # fmt: skip
    refused(ledger, InvalidTransitionError, "already left",
            lambda: ledger.leave_committee(CLERK, key(), member="陈红梅", on="2027-01-11",
                                           reason="再次"))  # fmt: skip
    ledger.leave_committee(CLERK, key(), member="吴敏", on="2027-01-10", reason="不称职",
                           meeting_id=meeting)  # fmt: skip
    wu = Actor("吴敏", Role.COMMITTEE_MEMBER)
    refused(ledger, PermissionDeniedError, "left the committee",
            lambda: ledger.review(wu, key(), d, stage="committee", outcome="approved",
                                  opinion="同意"))  # fmt: skip


def test_once_the_finance_group_has_members_only_they_sign_a_statement_off(
    ledger: CommunityLedger, meeting: str
) -> None:
    elect(ledger, meeting, ["王建国", "陈红梅", "吴敏"])
    ledger.close_period(CLERK, key(), period="2026-11")
    wu = Actor("吴敏", Role.COMMITTEE_MEMBER)
    ledger.assign_subgroup(CHAIR_OF_COMMITTEE, key(), member="陈红梅", subgroup="finance")
    refused(ledger, PermissionDeniedError, "not in the committee's finance group",
            lambda: ledger.sign_off_statement(wu, key(), period="2026-11"))  # fmt: skip
    ledger.sign_off_statement(MEMBER, key(), period="2026-11", opinion="账实相符")
    refused(ledger, NotFoundError, "not a member of the committee",
            lambda: ledger.assign_subgroup(CHAIR_OF_COMMITTEE, key(), member="钱多多",
                                           subgroup="opinions"))  # fmt: skip


def test_the_committee_reports_to_a_representatives_meeting_that_was_held(
    ledger: CommunityLedger, meeting: str, clock: HeldClock
) -> None:
    def report(to: str) -> Any:
        return ledger.deliver_committee_report(
            CHAIR_OF_COMMITTEE, key(), meeting_id=to, summary="本年度监督公开事项38项。"
        )

    refused(ledger, InvalidTransitionError, "no supervision committee", lambda: report(meeting))
    elect(ledger, meeting, ["王建国", "陈红梅", "吴敏"])
    assert report(meeting).result["meeting_id"] == meeting
    later = call(ledger, starts_at=STARTS + dt.timedelta(days=30))
    refused(ledger, InvalidTransitionError, "that was held", lambda: report(later))
