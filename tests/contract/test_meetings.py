"""Residents' meetings on SQLite and PostgreSQL alike, on a clock the test holds (China
time): called by the residents' committee or on the representatives' proposal, noticed
three days before, held with more than half of its members present, its resolutions
passed with two thirds of those present, a matter of residents' interests voted only
after it was posted for comment, and each passed resolution posted after. Each refusal
names its rule and leaves the chain's head where it was."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.domain.base import Actor
from ledger.domain.clock import HeldClock, held_at
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidInputError, InvalidTransitionError, PermissionDeniedError
from tests.contract.test_ledger_contract import CLERK, DRAFT, RESIDENT, key, posted

CHINA = dt.timezone(dt.timedelta(hours=8))
STARTS = dt.datetime(2026, 12, 17, 14, 30, tzinfo=CHINA)
REPRESENTATIVES = [f"代表{n:02d}" for n in range(1, 46)]  # 45 representatives
CHAIR_OF_COMMITTEE = Actor("王建国", Role.COMMITTEE_CHAIR)


@pytest.fixture
def clock() -> Iterator[HeldClock]:
    with held_at(dt.datetime(2026, 12, 1, 9, tzinfo=CHINA)) as held:
        yield held


def call(ledger: CommunityLedger, **fields: Any) -> str:
    arguments: dict[str, Any] = {
        "kind": "representatives",
        "members": 45,
        "agenda": ["审议临街用房续租事项", "审议加装电梯实施方案"],
        "place": "社区二楼议事厅",
        "starts_at": STARTS,
        **fields,
    }
    return str(ledger.call_meeting(CLERK, key(), **arguments).result["id"])


def held(ledger: CommunityLedger, clock: HeldClock, present: int) -> str:
    """A meeting of 45 noticed on the 1st, with ``present`` members at its start."""
    meeting = call(ledger)
    ledger.post_meeting_notice(CLERK, key(), meeting)
    clock.set(STARTS)
    ledger.record_attendance(CLERK, key(), meeting, present=REPRESENTATIVES[:present])
    return meeting


def vote(ledger: CommunityLedger, meeting: str, votes_for: int, **fields: Any) -> Any:
    arguments: dict[str, Any] = {
        "title": "临街用房续租方案",
        "votes_for": votes_for,
        "votes_against": 0,
        "abstaining": 0,
        **fields,
    }
    return ledger.vote_resolution(CLERK, key(), meeting, **arguments).result


def refused(ledger: CommunityLedger, error: type[Exception], said: str, act: Any) -> None:
    before = ledger.head()
    with pytest.raises(error, match=said):
        act()
    assert ledger.head() == before


def last_state(ledger: CommunityLedger) -> dict[str, Any]:
    (entry,) = ledger.entries(after=ledger.head().seq - 1, limit=1)
    value: dict[str, Any] = json.loads(entry.state)
    return value


def test_a_meeting_with_exactly_half_present_cannot_be_held(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    meeting = call(ledger, members=44)
    ledger.post_meeting_notice(CLERK, key(), meeting)
    clock.set(STARTS)
    done = ledger.record_attendance(CLERK, key(), meeting, present=REPRESENTATIVES[:22])
    assert done.result["status"] == "not_quorate"
    assert last_state(ledger)["quorate"] is False
    refused(ledger, InvalidTransitionError, "过半数出席", lambda: vote(ledger, meeting, 22))


def test_one_more_than_half_holds_the_meeting(ledger: CommunityLedger, clock: HeldClock) -> None:
    meeting = call(ledger, members=44)
    ledger.post_meeting_notice(CLERK, key(), meeting)
    clock.set(STARTS)
    done = ledger.record_attendance(CLERK, key(), meeting, present=REPRESENTATIVES[:23])
    assert done.result["status"] == "held"


def test_a_resolution_passes_at_exactly_two_thirds_and_fails_one_vote_short(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    meeting = held(ledger, clock, present=42)
    vote(ledger, meeting, 28, votes_against=10, abstaining=4)
    assert (last_state(ledger)["passed"], last_state(ledger)["number"]) == (True, 1)
    vote(ledger, meeting, 27, votes_against=15)
    assert (last_state(ledger)["passed"], last_state(ledger)["number"]) == (False, 2)
    # More votes than people present is no count.
    refused(
        ledger, InvalidInputError, "43 votes from 42 present",
        lambda: vote(ledger, meeting, 30, votes_against=13),
    )  # fmt: skip


def test_a_proposal_of_one_fifth_calls_a_meeting_and_just_under_is_refused(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    proposed = call(ledger, proposers=REPRESENTATIVES[:9], representatives=45)
    state = last_state(ledger)
    assert (state["called_by"], state["proposers"]) == (
        "representatives_proposal", sorted(REPRESENTATIVES[:9])
    )  # fmt: skip
    assert proposed
    refused(
        ledger, InvalidTransitionError, "五分之一",
        lambda: call(ledger, proposers=REPRESENTATIVES[:8], representatives=45),
    )  # fmt: skip
    # A name signed twice counts once.
    twice = [*REPRESENTATIVES[:8], REPRESENTATIVES[0]]
    refused(
        ledger, InvalidTransitionError, "8 of 45",
        lambda: call(ledger, proposers=twice, representatives=45),
    )  # fmt: skip


def test_the_notice_goes_up_three_days_before_and_not_2_days_23_hours(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    early = call(ledger)
    clock.set(STARTS - dt.timedelta(days=3))
    ledger.post_meeting_notice(CLERK, key(), early)
    late = call(ledger)
    clock.set(STARTS - dt.timedelta(days=2, hours=23))
    refused(
        ledger, InvalidTransitionError, "三天通知",
        lambda: ledger.post_meeting_notice(CLERK, key(), late),
    )  # fmt: skip


def test_a_meeting_is_not_recorded_as_held_before_its_time_or_its_notice(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    unnoticed = call(ledger)
    clock.set(STARTS)
    refused(
        ledger, InvalidTransitionError, "only after its notice",
        lambda: ledger.record_attendance(CLERK, key(), unnoticed, present=REPRESENTATIVES),
    )  # fmt: skip
    clock.set(dt.datetime(2026, 12, 1, 9, tzinfo=CHINA))
    meeting = call(ledger)
    ledger.post_meeting_notice(CLERK, key(), meeting)
    clock.set(STARTS - dt.timedelta(minutes=1))
    refused(
        ledger, InvalidTransitionError, "cannot be recorded as held before",
        lambda: ledger.record_attendance(CLERK, key(), meeting, present=REPRESENTATIVES),
    )  # fmt: skip


def test_a_matter_of_residents_interests_is_voted_only_after_it_was_posted(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    meeting = held(ledger, clock, present=40)
    refused(
        ledger, InvalidInputError, "posted for comment",
        lambda: vote(ledger, meeting, 35, affects_residents=True),
    )  # fmt: skip
    draft = str(ledger.draft_disclosure(CLERK, key(), **DRAFT).result["id"])
    refused(
        ledger, InvalidTransitionError, "never posted",
        lambda: vote(ledger, meeting, 35, affects_residents=True, comment_disclosure_id=draft),
    )  # fmt: skip
    commented = posted(ledger)
    vote(ledger, meeting, 35, affects_residents=True, comment_disclosure_id=commented)
    assert last_state(ledger)["comment_disclosure_id"] == commented


def test_a_passed_resolution_is_posted_after_and_a_failed_one_is_not(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    meeting = held(ledger, clock, present=30)
    vote(ledger, meeting, 20)  # 1: exactly two thirds of 30
    vote(ledger, meeting, 19)  # 2: one short
    decision = posted(ledger)
    ledger.post_resolution(CLERK, key(), meeting, number=1, disclosure_id=decision)
    assert last_state(ledger)["disclosure_id"] == decision
    refused(
        ledger, InvalidTransitionError, "did not pass",
        lambda: ledger.post_resolution(CLERK, key(), meeting, number=2, disclosure_id=decision),
    )  # fmt: skip
    refused(
        ledger, InvalidTransitionError, "already posted",
        lambda: ledger.post_resolution(CLERK, key(), meeting, number=1, disclosure_id=decision),
    )  # fmt: skip


def test_only_the_residents_committee_calls_and_records(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    for who in (RESIDENT, CHAIR_OF_COMMITTEE):

        def act(who: Actor = who) -> Any:
            return ledger.call_meeting(
                who, key(), kind="residents", members=10, agenda=["议题"], place="议事厅",
                starts_at=STARTS,
            )  # fmt: skip

        refused(ledger, PermissionDeniedError, "may not call meeting", act)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "party"}, "kind"),
        ({"members": 0}, "members"),
        ({"members": True}, "members"),
        ({"agenda": []}, "agenda"),
        ({"agenda": "议题"}, "agenda"),
        ({"starts_at": dt.datetime(2026, 12, 17, 14, 30)}, "starts_at"),
        ({"proposers": ["代表01"], "representatives": 0}, "representatives"),
    ],
)
def test_a_bad_call_is_refused_with_its_field(
    ledger: CommunityLedger, clock: HeldClock, fields: dict[str, Any], field: str
) -> None:
    before = ledger.head()
    with pytest.raises(InvalidInputError) as caught:
        call(ledger, **fields)
    assert caught.value.field == field
    assert ledger.head() == before


def test_once_representatives_are_registered_only_those_in_office_propose(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    """The proposal is counted against the representatives in office, not a number the
    caller gives, and is signed only by them; a term ends three years on."""
    for name in REPRESENTATIVES[:10]:
        done = ledger.elect_representative(CLERK, key(), name=name, group="3号楼居民小组",
                                           term_from="2023-12-02")  # fmt: skip
        assert done.result["term_until"] == "2026-12-01"
    for name in REPRESENTATIVES[10:20]:
        ledger.elect_representative(CLERK, key(), name=name, group="5号楼居民小组",
                                    term_from="2024-01-10")  # fmt: skip
    # On 2026-12-01 all 20 serve: 4 is one fifth.
    made = ledger.call_meeting(
        CLERK, key(), kind="representatives", members=20, agenda=["议题"], place="议事厅",
        starts_at=STARTS, proposers=REPRESENTATIVES[:4], representatives=999,
    )  # fmt: skip
    assert made.result["representatives"] == 20
    refused(
        ledger, InvalidTransitionError, "not a representative in office",
        lambda: call(ledger, proposers=[*REPRESENTATIVES[:4], "张三"], representatives=20),
    )  # fmt: skip
    # The next day the first ten's terms have ended: 2 of the 10 left is one fifth,
    # and one whose term ended signs nothing.
    clock.set(dt.datetime(2026, 12, 2, 9, tzinfo=CHINA))
    refused(
        ledger, InvalidTransitionError, "代表01 is not a representative in office",
        lambda: call(ledger, proposers=REPRESENTATIVES[:4], representatives=20),
    )  # fmt: skip
    assert call(ledger, proposers=REPRESENTATIVES[10:12], representatives=0)
    refused(
        ledger, InvalidTransitionError, "1 of 10",
        lambda: call(ledger, proposers=REPRESENTATIVES[10:11], representatives=0),
    )  # fmt: skip
    # Re-elected (连选连任) from the day after.
    ledger.elect_representative(CLERK, key(), name=REPRESENTATIVES[0], group="3号楼居民小组",
                                term_from="2026-12-02")  # fmt: skip
    refused(
        ledger, InvalidTransitionError, "in office on 2026-12-02",
        lambda: ledger.elect_representative(CLERK, key(), name=REPRESENTATIVES[0],
                                            group="3号楼居民小组", term_from="2026-12-02"),
    )  # fmt: skip
