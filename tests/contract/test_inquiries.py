"""Inquiries (质询) on a working-day clock, on SQLite and PostgreSQL alike: filed by a
residents' representative with the deadline and the calendar that counted it, answered
by the committee's clerk, marked unsatisfactory by the one who asked, escalated by the
service exactly once when due, and closed by the record of the accountability meeting.
Every time is given explicitly, in UTC; the dates are China's."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.application import CommunityLedger, Ledger
from ledger.application.community import SYSTEM
from ledger.domain.base import Actor
from ledger.domain.inquiry import Inquiry, InquiryStatus
from ledger.domain.vocabulary import Role
from ledger.domain.working_days import CALENDAR
from ledger.errors import InvalidInputError, InvalidTransitionError, PermissionDeniedError
from ledger.store import open_store
from tests.contract.test_ledger_contract import CHAIR, CLERK, RESIDENT, key, posted

REPRESENTATIVE = Actor("周*兰", Role.RESIDENT_REPRESENTATIVE)
OTHER_REPRESENTATIVE = Actor("孙*明", Role.RESIDENT_REPRESENTATIVE)
MEMBER = Actor("陈红梅", Role.COMMITTEE_MEMBER)
QUESTION = "3号楼电梯维修费用为何由居民分摊？请说明依据。"


def utc(text: str) -> dt.datetime:
    """A China time written as 'YYYY-MM-DD HH:MM', as the UTC instant it is."""
    china = dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return china.astimezone(dt.UTC)


def file(ledger: CommunityLedger, at: str, **fields: Any) -> str:
    done = ledger.file_inquiry(REPRESENTATIVE, key(), question=QUESTION, now=utc(at), **fields)
    return str(done.result["id"])


def state_of(ledger: CommunityLedger, seq: int) -> dict[str, Any]:
    (entry,) = ledger.entries(after=seq - 1, limit=1)
    value: dict[str, Any] = json.loads(entry.state)
    return value


def escalate(ledger: CommunityLedger, inquiry: str, at: str) -> str | None:
    done = ledger.escalate_inquiry(SYSTEM, inquiry, now=utc(at))
    return None if done is None else str(done.result["reason"])


def test_the_filing_records_its_deadline_and_the_calendar_that_counted_it(
    ledger: CommunityLedger,
) -> None:
    # The eve of 国庆 2026: 1st-7th off; the 8th, 9th and Saturday the 10th (调休).
    done = ledger.file_inquiry(
        REPRESENTATIVE,
        key(),
        question=QUESTION,
        on_behalf_of="3号楼居民",
        now=utc("2026-09-30 10:00"),
    )
    assert done.result["due_on"] == "2026-10-10"
    state = state_of(ledger, done.last_seq)
    assert (state["filed_on"], state["due_on"], state["working_days"]) == (
        "2026-09-30",
        "2026-10-10",
        3,
    )
    assert state["calendar"] == CALENDAR
    assert state["on_behalf_of"] == "3号楼居民"
    assert state["representative"] == REPRESENTATIVE.name, "the account's name when none given"


@pytest.mark.parametrize(
    ("at", "filed_on", "due_on"),
    [
        ("2026-12-07 23:59", "2026-12-07", "2026-12-10"),  # Monday, a minute before midnight
        ("2026-12-08 00:00", "2026-12-08", "2026-12-11"),  # Tuesday, at midnight
    ],
)
def test_the_day_of_filing_is_chinas(
    ledger: CommunityLedger, at: str, filed_on: str, due_on: str
) -> None:
    done = ledger.file_inquiry(REPRESENTATIVE, key(), question=QUESTION, now=utc(at))
    state = state_of(ledger, done.last_seq)
    assert (state["filed_on"], state["due_on"]) == (filed_on, due_on)


def test_a_filing_whose_deadline_runs_past_the_calendar_is_refused(
    ledger: CommunityLedger,
) -> None:
    before = ledger.head()
    with pytest.raises(InvalidInputError, match="cannot be counted"):
        ledger.file_inquiry(REPRESENTATIVE, key(), question=QUESTION, now=utc("2026-12-30 09:00"))
    assert ledger.head() == before


def test_an_unanswered_inquiry_is_escalated_the_day_after_its_deadline(
    ledger: CommunityLedger,
) -> None:
    inquiry = file(ledger, "2026-12-07 09:00")  # due Thursday the 10th
    assert escalate(ledger, inquiry, "2026-12-10 23:59") is None, "the last day is not over"
    assert escalate(ledger, inquiry, "2026-12-11 00:00") == "overdue"
    assert escalate(ledger, inquiry, "2026-12-14 09:00") is None, "once"
    found = ledger.get(Inquiry, inquiry, "inquiry")
    assert found.status is InquiryStatus.ESCALATED
    topics = [e.topic for e in ledger.entries(after=0, limit=50)]
    assert topics.count("gongkai/inquiry/escalated") == 1
    escalated = next(e for e in ledger.entries(after=0, limit=50) if e.topic.endswith("escalated"))
    state = json.loads(escalated.state)
    assert (state["actor_role"], state["found_on"]) == ("system", "2026-12-11")


def test_an_answer_on_the_last_working_day_is_not_escalated(ledger: CommunityLedger) -> None:
    inquiry = file(ledger, "2026-12-07 09:00")
    ledger.answer_inquiry(
        CLERK, key(), inquiry, answer="依据业主大会决议", now=utc("2026-12-10 23:30")
    )
    assert escalate(ledger, inquiry, "2026-12-11 08:00") is None
    assert escalate(ledger, inquiry, "2027-03-01 08:00") is None
    assert ledger.get(Inquiry, inquiry, "inquiry").status is InquiryStatus.ANSWERED


def test_an_answer_after_the_deadline_is_escalated(ledger: CommunityLedger) -> None:
    inquiry = file(ledger, "2026-12-07 09:00")
    ledger.answer_inquiry(CLERK, key(), inquiry, answer="迟到的答复", now=utc("2026-12-11 09:00"))
    assert escalate(ledger, inquiry, "2026-12-11 09:05") == "answered_late"


def test_an_answer_marked_unsatisfactory_is_escalated(ledger: CommunityLedger) -> None:
    inquiry = file(ledger, "2026-12-07 09:00")
    ledger.answer_inquiry(CLERK, key(), inquiry, answer="按规定分摊", now=utc("2026-12-08 10:00"))
    assert escalate(ledger, inquiry, "2026-12-08 10:01") is None
    with pytest.raises(InvalidTransitionError, match="only the representative who filed"):
        ledger.mark_unsatisfactory(OTHER_REPRESENTATIVE, key(), inquiry, reason="不满意")
    ledger.mark_unsatisfactory(REPRESENTATIVE, key(), inquiry, reason="未说明依据的文件")
    with pytest.raises(InvalidTransitionError, match="already marked"):
        ledger.mark_unsatisfactory(REPRESENTATIVE, key(), inquiry, reason="再次")
    assert escalate(ledger, inquiry, "2026-12-08 10:05") == "unsatisfactory"


def test_the_meeting_closes_an_escalated_inquiry_only(ledger: CommunityLedger) -> None:
    inquiry = file(ledger, "2026-12-07 09:00")
    meeting: dict[str, Any] = {
        "meeting": "supervision",
        "held_on": "2026-12-15",
        "present": ["王建国", "陈红梅", "周*兰", "李娜"],
        "conclusion": "居委会于三日内书面说明分摊依据，并在公开栏公布。",
    }
    with pytest.raises(InvalidTransitionError, match="escalated"):
        ledger.record_meeting(CHAIR, key(), inquiry, **meeting)
    escalate(ledger, inquiry, "2026-12-11 09:00")
    with pytest.raises(PermissionDeniedError):
        ledger.record_meeting(CLERK, key(), inquiry, **meeting)
    with pytest.raises(InvalidInputError) as refused:
        ledger.record_meeting(CHAIR, key(), inquiry, **{**meeting, "present": []})
    assert refused.value.field == "present"
    with pytest.raises(InvalidInputError) as bad_kind:
        ledger.record_meeting(CHAIR, key(), inquiry, **{**meeting, "meeting": "party"})
    assert bad_kind.value.field == "meeting"
    ledger.record_meeting(MEMBER, key(), inquiry, **meeting)
    closed = ledger.get(Inquiry, inquiry, "inquiry")
    assert closed.status is InquiryStatus.CLOSED
    with pytest.raises(InvalidTransitionError, match="closed"):
        ledger.answer_inquiry(CLERK, key(), inquiry, answer="晚了", now=utc("2026-12-16 09:00"))
    assert escalate(ledger, inquiry, "2026-12-20 09:00") is None


def test_who_files_and_who_answers(ledger: CommunityLedger) -> None:
    before = ledger.head()
    for who in (RESIDENT, CLERK, CHAIR):
        with pytest.raises(PermissionDeniedError):
            ledger.file_inquiry(who, key(), question=QUESTION, now=utc("2026-12-07 09:00"))
    inquiry = file(ledger, "2026-12-07 09:00")
    for who in (REPRESENTATIVE, CHAIR, RESIDENT):
        with pytest.raises(PermissionDeniedError):
            ledger.answer_inquiry(who, key(), inquiry, answer="答复", now=utc("2026-12-08 09:00"))
    with pytest.raises(PermissionDeniedError):
        ledger.escalate_inquiry(CHAIR, inquiry, now=utc("2026-12-20 09:00"))
    ledger.answer_inquiry(CLERK, key(), inquiry, answer="答复", now=utc("2026-12-08 09:00"))
    with pytest.raises(InvalidTransitionError, match="already been answered"):
        ledger.answer_inquiry(CLERK, key(), inquiry, answer="再答", now=utc("2026-12-08 09:00"))
    assert ledger.head().seq == before.seq + 2


def test_an_inquiry_about_an_item_names_one_that_exists(ledger: CommunityLedger) -> None:
    item = posted(ledger)
    file(ledger, "2026-12-07 09:00", disclosure_id=item)
    before = ledger.head()
    with pytest.raises(InvalidInputError):
        file(ledger, "2026-12-07 09:00", disclosure_id="not-a-uuid")
    assert ledger.head() == before


@pytest.fixture
def second_worker(store_url: str, ledger: CommunityLedger) -> Iterator[CommunityLedger]:
    """The same community through another store connection and ledger, as another
    process of the service sees it."""
    store = open_store(store_url)
    other = Ledger(store)
    try:
        yield other.community(ledger.community.id)
    finally:
        other.close()
        store.close()


def escalate_at_once(books: list[CommunityLedger], inquiry: str, at: str) -> list[str | None]:
    """Each of ``books`` escalates ``inquiry`` at the same moment; what each answered."""
    barrier = threading.Barrier(len(books))
    reasons: list[str | None] = []

    def run(book: CommunityLedger) -> None:
        barrier.wait()
        reasons.append(escalate(book, inquiry, at))

    threads = [threading.Thread(target=run, args=(b,)) for b in books]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return reasons


def test_two_workers_escalate_an_inquiry_exactly_once(
    ledger: CommunityLedger, second_worker: CommunityLedger
) -> None:
    for _ in range(5):
        inquiry = file(ledger, "2026-12-07 09:00")
        reasons = escalate_at_once([ledger, second_worker], inquiry, "2026-12-11 09:00")
        # Both report it escalated (the second from the first's record), or the second
        # finds it done already (None); the chain has it once.
        assert len(reasons) == 2
        assert "overdue" in reasons
        assert set(reasons) <= {"overdue", None}
        escalations = [
            e
            for e in ledger.entries(after=0, limit=10_000)
            if e.topic.endswith("escalated") and str(e.originator_id) == inquiry
        ]
        assert len(escalations) == 1
