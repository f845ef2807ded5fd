"""A residents' meeting or representatives' meeting (居民会议 / 居民代表会议) and its
resolutions [003 《社区居民或居民代表决策会议制度》], with the rules of
:mod:`ledger.domain.meeting_rules` enforced as it is recorded.

Its life: called (by the residents' committee, or on the proposal of one fifth of the
representatives, whose names are recorded), its notice with the agenda posted at least
three days before it starts, its attendance recorded once it has begun (the meeting is
valid only with more than half of its members present), each resolution voted (for,
against, abstaining; passed with two thirds of those present), and each passed
resolution posted after as a disclosure linked to the meeting. A matter that affects
residents' interests is voted on only after it was posted for comment, and the vote
names that posting.

Each refusal names its rule and raises before any event is recorded.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from ledger.domain import clock
from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.ids import new_id
from ledger.domain.meeting_rules import (
    notice_suffices,
    proposal_suffices,
    quorate,
    resolution_passes,
)
from ledger.errors import InvalidInputError, InvalidTransitionError


class MeetingKind(StrEnum):
    RESIDENTS = "residents"  # 居民会议
    REPRESENTATIVES = "representatives"  # 居民代表会议


class CalledBy(StrEnum):
    COMMITTEE = "residents_committee"  # 居委会召集
    PROPOSAL = "representatives_proposal"  # 五分之一以上的居民代表提议


class MeetingStatus(StrEnum):
    CALLED = "called"  # 已召集
    NOTIFIED = "notified"  # 已通知
    HELD = "held"  # 已举行 (with a quorum)
    NOT_QUORATE = "not_quorate"  # 出席未过半数, not held


class ResidentsMeeting(LedgerAggregate):
    """One meeting, from its call to its resolutions posted."""

    class Called(LedgerAggregate.Created):
        TOPIC = "gongkai/meeting/called"
        actor: str
        actor_role: str
        kind: str
        called_by: str
        members: int  # 应到: the meeting's members
        representatives: int  # the representatives a proposal is counted against (0: none)
        proposers: list[str]  # the representatives who signed the proposal
        agenda: list[str]
        place: str
        starts_at: str  # ISO, with its zone

        def apply(self, aggregate: Any) -> None:
            aggregate.kind = MeetingKind(self.kind)
            aggregate.called_by = CalledBy(self.called_by)
            aggregate.members = self.members
            aggregate.proposers = list(self.proposers)
            aggregate.agenda = list(self.agenda)
            aggregate.place = self.place
            aggregate.starts_at = dt.datetime.fromisoformat(self.starts_at)

    class NoticePosted(LedgerAggregate.Event):
        TOPIC = "gongkai/meeting/notice-posted"
        posted_at: str  # ISO: when the notice with the agenda went up
        disclosure_id: str  # the notice as posted on the board, or ""

        def apply(self, aggregate: Any) -> None:
            aggregate.status = MeetingStatus.NOTIFIED
            aggregate.notice = (self.posted_at, self.disclosure_id)

    class AttendanceRecorded(LedgerAggregate.Event):
        TOPIC = "gongkai/meeting/attendance-recorded"
        present: list[str]
        quorate: bool  # more than half of the members present

        def apply(self, aggregate: Any) -> None:
            aggregate.present = len(self.present)
            aggregate.present_names = list(self.present)
            aggregate.status = MeetingStatus.HELD if self.quorate else MeetingStatus.NOT_QUORATE

    class ResolutionVoted(LedgerAggregate.Event):
        TOPIC = "gongkai/meeting/resolution-voted"
        number: int  # 1, 2, ... in the order voted
        title: str
        votes_for: int
        votes_against: int
        abstaining: int
        present: int  # those present, whom two thirds are counted of
        passed: bool
        comment_disclosure_id: str  # the matter as posted for comment before, or ""

        def apply(self, aggregate: Any) -> None:
            aggregate.resolutions[self.number] = self.passed
            aggregate.votes.append(
                {
                    "number": self.number,
                    "title": self.title,
                    "votes_for": self.votes_for,
                    "votes_against": self.votes_against,
                    "abstaining": self.abstaining,
                    "present": self.present,
                    "passed": self.passed,
                    "comment_disclosure_id": self.comment_disclosure_id,
                }
            )

    class ResolutionPosted(LedgerAggregate.Event):
        TOPIC = "gongkai/meeting/resolution-posted"
        number: int
        disclosure_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.posted[self.number] = self.disclosure_id

    kind: MeetingKind
    called_by: CalledBy
    members: int
    proposers: list[str]
    agenda: list[str]
    place: str
    starts_at: dt.datetime

    def __init__(self, **_: Any) -> None:
        self.status = MeetingStatus.CALLED
        self.notice: tuple[str, str] | None = None  # (posted at, its disclosure)
        self.present = 0
        self.present_names: list[str] = []
        self.resolutions: dict[int, bool] = {}
        self.votes: list[dict[str, Any]] = []
        #: resolution number -> the disclosure it was posted as
        self.posted: dict[int, str] = {}

    @classmethod
    def call(
        cls,
        actor: Actor,
        *,
        kind: MeetingKind,
        members: int,
        agenda: list[str],
        place: str,
        starts_at: dt.datetime,
        proposers: list[str] | None = None,
        representatives: int = 0,
    ) -> ResidentsMeeting:
        """Call a meeting; with ``proposers``, on the representatives' proposal, which
        needs one fifth of ``representatives`` [003 四]."""
        if members < 1:
            raise InvalidInputError("a meeting has at least one member", field="members")
        if starts_at.tzinfo is None:
            raise InvalidInputError("a time without its time zone is ambiguous", field="starts_at")
        signed = sorted(set(proposers or []))
        if proposers is not None:
            if representatives < 1:
                raise InvalidInputError(
                    "a proposal is counted against the number of representatives",
                    field="representatives",
                )
            if not proposal_suffices(len(signed), representatives):
                raise InvalidTransitionError(
                    f"{len(signed)} of {representatives} representatives is under one fifth: "
                    "a meeting is called on the proposal of one fifth or more of the "
                    "representatives (五分之一以上的居民代表提议) [003 四]"
                )
        return cls._create(
            cls.Called,
            id=new_id(),
            **actor.event_fields(),
            kind=kind.value,
            called_by=(CalledBy.PROPOSAL if proposers is not None else CalledBy.COMMITTEE).value,
            members=members,
            representatives=representatives if proposers is not None else 0,
            proposers=signed,
            agenda=agenda,
            place=place,
            starts_at=starts_at.isoformat(),
        )

    def post_notice(self, actor: Actor, disclosure_id: str = "") -> None:
        """The notice with the agenda goes up now, at least three days before [003 五]."""
        if self.status is not MeetingStatus.CALLED:
            raise InvalidTransitionError(
                f"the notice is posted once; the meeting is {self.status}"
            )
        now = clock.now()
        if not notice_suffices(now, self.starts_at):
            raise InvalidTransitionError(
                f"the meeting starts at {self.starts_at.isoformat()}, less than three days "
                "after this notice: those who attend are told, with the agenda, three days "
                "before (召开前三天通知) [003 五]; call it for a later time"
            )
        self.act(self.NoticePosted, actor, posted_at=now.isoformat(), disclosure_id=disclosure_id)

    def record_attendance(self, actor: Actor, present: list[str]) -> bool:
        """Those present, once the meeting has begun; answers whether it is quorate."""
        if self.status is MeetingStatus.CALLED:
            raise InvalidTransitionError(
                "no notice was posted: a meeting is held only after its notice [003 五]"
            )
        if self.status is not MeetingStatus.NOTIFIED:
            raise InvalidTransitionError("the attendance is recorded once")
        if clock.now() < self.starts_at:
            raise InvalidTransitionError(
                f"the meeting starts at {self.starts_at.isoformat()}: it cannot be recorded "
                "as held before then"
            )
        names = sorted(set(present))
        if len(names) != len(present):
            raise InvalidInputError("a person is present once", field="present")
        if len(names) > self.members:
            raise InvalidInputError(
                f"{len(names)} present of a meeting of {self.members} members", field="present"
            )
        valid = quorate(len(names), self.members)
        self.act(self.AttendanceRecorded, actor, present=names, quorate=valid)
        return valid

    def vote(
        self,
        actor: Actor,
        *,
        title: str,
        votes_for: int,
        votes_against: int,
        abstaining: int,
        comment_disclosure_id: str = "",
    ) -> bool:
        """A resolution voted by those present; answers whether it passed [003 六]."""
        if self.status is MeetingStatus.NOT_QUORATE:
            raise InvalidTransitionError(
                f"{self.present} of {self.members} members present is not more than half: "
                "the meeting could not be held (过半数出席，才能举行) [003 五], and votes nothing"
            )
        if self.status is not MeetingStatus.HELD:
            raise InvalidTransitionError("resolutions are voted at a meeting being held")
        counts = (votes_for, votes_against, abstaining)
        if any(n < 0 for n in counts):
            raise InvalidInputError("a count of votes is not negative", field="votes_for")
        if sum(counts) > self.present:
            raise InvalidInputError(
                f"{sum(counts)} votes from {self.present} present", field="votes_for"
            )
        passed = resolution_passes(votes_for, self.present)
        self.act(
            self.ResolutionVoted,
            actor,
            number=len(self.resolutions) + 1,
            title=title,
            votes_for=votes_for,
            votes_against=votes_against,
            abstaining=abstaining,
            present=self.present,
            passed=passed,
            comment_disclosure_id=comment_disclosure_id,
        )
        return passed

    def post_resolution(self, actor: Actor, number: int, disclosure_id: str) -> None:
        """A passed resolution posted after the meeting, as the disclosure named."""
        if number not in self.resolutions:
            raise InvalidTransitionError(f"the meeting has no resolution {number}")
        if not self.resolutions[number]:
            raise InvalidTransitionError(
                f"resolution {number} did not pass: only a resolution that takes effect "
                "is posted as the meeting's decision"
            )
        if number in self.posted:
            raise InvalidTransitionError(f"resolution {number} is already posted")
        self.act(self.ResolutionPosted, actor, number=number, disclosure_id=disclosure_id)


register_event_topics(ResidentsMeeting)
