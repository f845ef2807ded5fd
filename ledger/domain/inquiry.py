"""An inquiry (质询): a residents' representative puts a question to the residents'
committee, which is to answer it satisfactorily within three working days (三个工作日);
otherwise the residents may have a mass supervision meeting (群众监督会议) hold it to
account [004 篇九 五、2], or the supervision committee a joint meeting of the two
committees (两委会议) [004 篇九 五、1].

The deadline is counted in China's working days when the inquiry is filed and recorded
with the calendar's version (:mod:`ledger.domain.working_days`), so a reader can count
it again from the record alone. The service itself escalates (:meth:`Inquiry.escalate`)
an inquiry not answered by the end of its deadline (China time), answered after it, or
whose answer the one who asked marked unsatisfactory; once. The record of the meeting
closes it.

Rules the aggregate enforces (each refusal raises before any event is recorded):

* the committee answers once, while the inquiry is not closed;
* only the representative who filed it marks the answer unsatisfactory, once;
* it is escalated once, and only when one of the three reasons holds;
* a meeting is recorded only for an escalated inquiry, and closes it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.ids import new_id
from ledger.domain.working_days import Deadline
from ledger.errors import InvalidTransitionError


class InquiryStatus(StrEnum):
    OPEN = "open"  # 待答复
    ANSWERED = "answered"  # 已答复
    ESCALATED = "escalated"  # 已提请问责
    CLOSED = "closed"  # 已办结


class EscalationReason(StrEnum):
    OVERDUE = "overdue"  # 三个工作日内未答复
    ANSWERED_LATE = "answered_late"  # 逾期答复
    UNSATISFACTORY = "unsatisfactory"  # 答复不满意


class Meeting(StrEnum):
    """The meeting that holds the committee to account."""

    SUPERVISION = "supervision"  # 群众监督会议
    TWO_COMMITTEES = "two_committees"  # 两委会议


def escalation_reason(
    due_on: dt.date, answered_on: dt.date | None, unsatisfactory: bool, today: dt.date
) -> EscalationReason | None:
    """Why an inquiry not yet escalated is to be on ``today`` (China date), if it is:
    no answer by the end of ``due_on``, an answer after it, or an answer marked
    unsatisfactory. The aggregate and the read model that finds candidates both ask."""
    if answered_on is None:
        return EscalationReason.OVERDUE if today > due_on else None
    if answered_on > due_on:
        return EscalationReason.ANSWERED_LATE
    return EscalationReason.UNSATISFACTORY if unsatisfactory else None


class Inquiry(LedgerAggregate):
    """One inquiry and its whole life."""

    class Filed(LedgerAggregate.Created):
        TOPIC = "gongkai/inquiry/filed"
        actor: str
        actor_role: str
        question: str
        representative: str  # the name the representative signs with
        on_behalf_of: str  # the residents the representative asks for ("" if none named)
        disclosure_id: str  # the item it is about, or ""
        filed_on: str  # the China date of filing, ISO
        due_on: str  # the last working day to answer by, ISO
        working_days: int
        calendar: str  # "chinesecalendar <version>": what counted the working days

        def apply(self, aggregate: Any) -> None:
            aggregate.filer = self.actor
            aggregate.due_on = dt.date.fromisoformat(self.due_on)

    class Answered(LedgerAggregate.Event):
        TOPIC = "gongkai/inquiry/answered"
        answer: str
        answered_on: str  # the China date of the answer, ISO

        def apply(self, aggregate: Any) -> None:
            aggregate.answered_on = dt.date.fromisoformat(self.answered_on)
            if aggregate.status is InquiryStatus.OPEN:
                aggregate.status = InquiryStatus.ANSWERED

    class MarkedUnsatisfactory(LedgerAggregate.Event):
        TOPIC = "gongkai/inquiry/marked-unsatisfactory"
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.unsatisfactory = True

    class Escalated(LedgerAggregate.Event):
        """Recorded by the service itself when an inquiry is due to be held to account."""

        TOPIC = "gongkai/inquiry/escalated"
        reason: str
        found_on: str  # the China date the service found it due, ISO

        def apply(self, aggregate: Any) -> None:
            aggregate.status = InquiryStatus.ESCALATED

    class MeetingRecorded(LedgerAggregate.Event):
        TOPIC = "gongkai/inquiry/meeting-recorded"
        meeting: str
        held_on: str  # ISO date
        present: list[str]
        conclusion: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = InquiryStatus.CLOSED

    filer: str
    due_on: dt.date

    def __init__(self, **_: Any) -> None:
        self.status = InquiryStatus.OPEN
        self.answered_on: dt.date | None = None
        self.unsatisfactory = False

    @classmethod
    def file(
        cls,
        actor: Actor,
        representative: str,
        question: str,
        on_behalf_of: str,
        disclosure_id: str,
        deadline: Deadline,
    ) -> Inquiry:
        return cls._create(
            cls.Filed,
            id=new_id(),
            **actor.event_fields(),
            question=question,
            representative=representative,
            on_behalf_of=on_behalf_of,
            disclosure_id=disclosure_id,
            filed_on=deadline.filed_on.isoformat(),
            due_on=deadline.due_on.isoformat(),
            working_days=deadline.working_days,
            calendar=deadline.calendar,
        )

    def answer(self, actor: Actor, answer: str, today: dt.date) -> None:
        if self.status is InquiryStatus.CLOSED:
            raise InvalidTransitionError("the inquiry is closed")
        if self.answered_on is not None:
            raise InvalidTransitionError("the inquiry has already been answered")
        self.act(self.Answered, actor, answer=answer, answered_on=today.isoformat())

    def mark_unsatisfactory(self, actor: Actor, reason: str) -> None:
        if actor.name != self.filer:
            raise InvalidTransitionError(
                "only the representative who filed the inquiry judges its answer"
            )
        if self.answered_on is None:
            raise InvalidTransitionError("the inquiry has not been answered yet")
        if self.unsatisfactory:
            raise InvalidTransitionError("the answer is already marked unsatisfactory")
        if self.status is InquiryStatus.CLOSED:
            raise InvalidTransitionError("the inquiry is closed")
        self.act(self.MarkedUnsatisfactory, actor, reason=reason)

    def due_reason(self, today: dt.date) -> EscalationReason | None:
        """Why the inquiry is to be escalated on ``today`` (China date), if it is."""
        if self.status in (InquiryStatus.ESCALATED, InquiryStatus.CLOSED):
            return None
        return escalation_reason(self.due_on, self.answered_on, self.unsatisfactory, today)

    def escalate(self, actor: Actor, today: dt.date) -> EscalationReason:
        reason = self.due_reason(today)
        if reason is None:
            raise InvalidTransitionError(
                f"the inquiry is {self.status.value} and not due to be escalated on {today}"
            )
        self.act(self.Escalated, actor, reason=reason.value, found_on=today.isoformat())
        return reason

    def record_meeting(
        self, actor: Actor, meeting: Meeting, held_on: dt.date, present: list[str], conclusion: str
    ) -> None:
        if self.status is not InquiryStatus.ESCALATED:
            raise InvalidTransitionError(
                f"a meeting closes an escalated inquiry; this one is {self.status.value}"
            )
        self.act(
            self.MeetingRecorded,
            actor,
            meeting=meeting.value,
            held_on=held_on.isoformat(),
            present=present,
            conclusion=conclusion,
        )


register_event_topics(Inquiry)
