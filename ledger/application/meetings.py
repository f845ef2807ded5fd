"""The commands of residents' meetings and representatives' meetings (居民会议 / 居民代表
会议): the residents' committee's clerk calls one (on the representatives' proposal, with
their names), posts its notice, records who attended and each resolution's vote, and
posts each passed resolution as a disclosure (:mod:`ledger.domain.residents_meeting`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.disclosure import Disclosure
from ledger.domain.permissions import require_role
from ledger.domain.representatives import RepresentativesRegister, representatives_id
from ledger.domain.residents_meeting import MeetingKind, ResidentsMeeting
from ledger.domain.working_days import china_date
from ledger.errors import InvalidInputError, InvalidTransitionError

#: The most people a meeting names (its members present, a proposal's signatures).
MAX_NAMES = 2_000
MAX_AGENDA = 30


class MeetingCommands(CommandRunner):
    """Commands on :class:`~ledger.domain.residents_meeting.ResidentsMeeting` aggregates."""

    def call_meeting(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        kind: str,
        members: int,
        agenda: Sequence[str],
        place: str,
        starts_at: dt.datetime,
        proposers: Sequence[str] | None = None,
        representatives: int = 0,
    ) -> CommandResult:
        """Call a meeting; with ``proposers``, on the proposal of those representatives
        (one fifth or more of ``representatives``). Answers ``{"id": ...}``."""
        require_role(actor, "call_meeting")
        which = validate.choice(MeetingKind, kind, "kind")
        count = _count(members, "members")
        items = _names(agenda, "agenda", 500, MAX_AGENDA)
        if not items:
            raise InvalidInputError("a meeting has an agenda (议题)", field="agenda")
        where = validate.text(place, "place", max_length=200)
        if not isinstance(starts_at, dt.datetime) or starts_at.tzinfo is None:
            raise InvalidInputError("the start is a time with its zone", field="starts_at")
        signed = None if proposers is None else _names(proposers, "proposers", 100, MAX_NAMES)
        total = _count(representatives, "representatives", minimum=0)

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            counted = total if signed is None else self._signers_in_office(signed, total)
            meeting = ResidentsMeeting.call(
                actor, kind=which, members=count, agenda=items, place=where,
                starts_at=starts_at, proposers=signed, representatives=counted,
            )  # fmt: skip
            return [meeting], {"id": str(meeting.id), "representatives": counted}

        arguments = {
            "kind": which.value,
            "members": count,
            "agenda": items,
            "place": where,
            "starts_at": starts_at.isoformat(),
            "proposers": signed,
            "representatives": total,
        }
        return self.execute(actor, idempotency_key, "call_meeting", arguments, build)

    def _signers_in_office(self, signers: Sequence[str], given: int) -> int:
        """How many representatives a proposal is counted against: those in office today
        once the community keeps its register of representatives (each signer must be
        one of them), else the number given."""
        register = self.representatives_register()
        if register is None:
            return given
        serving = register.serving(china_date())
        strangers = sorted(set(signers) - set(serving))
        if strangers:
            raise InvalidTransitionError(
                f"{strangers[0]} is not a representative in office: a proposal is signed by "
                "the residents' representatives [003 四]"
            )
        return len(serving)

    def representatives_register(self) -> RepresentativesRegister | None:
        """The community's register of representatives, if it keeps one."""
        try:
            found: Aggregate = self.repository.get(representatives_id(self.community.id))
        except AggregateNotFoundError:
            return None
        if not isinstance(found, RepresentativesRegister):
            raise InvalidTransitionError("the register of representatives is not one")
        return found

    def elect_representative(
        self, actor: Actor, idempotency_key: str, *, name: str, group: str, term_from: str
    ) -> CommandResult:
        """``name`` elected a representative by the residents' ``group`` from
        ``term_from``, for three years (its last day is worked out). Answers it."""
        require_role(actor, "elect_representative")
        who = validate.text(name, "name", max_length=100)
        where = validate.text(group, "group", max_length=100)
        begins = validate.date(term_from, "term_from")

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            register = self.representatives_register() or RepresentativesRegister.open(
                actor, self.community.id
            )
            ends = register.elect(actor, who, where, begins)
            return [register], {"name": who, "term_until": ends.isoformat()}

        arguments = {"name": who, "group": where, "term_from": begins.isoformat()}
        return self.execute(actor, idempotency_key, "elect_representative", arguments, build)

    def post_meeting_notice(
        self,
        actor: Actor,
        idempotency_key: str,
        meeting_id: UUID | str,
        *,
        disclosure_id: str = "",
    ) -> CommandResult:
        """The notice with the agenda posted now (as ``disclosure_id`` on the board, if
        given): at least three days before the meeting."""
        require_role(actor, "post_meeting_notice")
        notice = validate.text(disclosure_id, "disclosure_id", max_length=40, required=False)

        def act(meeting: ResidentsMeeting) -> None:
            if notice:
                self.get(Disclosure, notice, "disclosure")
            meeting.post_notice(actor, notice)

        arguments = {"disclosure_id": notice}
        return self._on_meeting(actor, idempotency_key, "post_meeting_notice", meeting_id,
                                arguments, act)  # fmt: skip

    def record_attendance(
        self, actor: Actor, idempotency_key: str, meeting_id: UUID | str, *, present: Sequence[str]
    ) -> CommandResult:
        """Who is present, once the meeting has begun; the record says whether it could
        be held (more than half of its members)."""
        require_role(actor, "record_attendance")
        names = _names(present, "present", 100, MAX_NAMES)
        return self._on_meeting(
            actor, idempotency_key, "record_attendance", meeting_id, {"present": names},
            lambda m: m.record_attendance(actor, names),
        )  # fmt: skip

    def vote_resolution(
        self,
        actor: Actor,
        idempotency_key: str,
        meeting_id: UUID | str,
        *,
        title: str,
        votes_for: int,
        votes_against: int,
        abstaining: int,
        affects_residents: bool = False,
        comment_disclosure_id: str = "",
    ) -> CommandResult:
        """A resolution's vote by those present. A matter that affects residents'
        interests names its posting for comment (``comment_disclosure_id``), made before
        the vote [003, 002]."""
        require_role(actor, "vote_resolution")
        what = validate.text(title, "title", max_length=200)
        counts = [_count(n, f, minimum=0) for n, f in (
            (votes_for, "votes_for"), (votes_against, "votes_against"),
            (abstaining, "abstaining"),
        )]  # fmt: skip
        posted = validate.text(
            comment_disclosure_id, "comment_disclosure_id", max_length=40, required=False
        )
        if affects_residents and not posted:
            raise InvalidInputError(
                "a matter that affects residents' interests is posted for comment before the "
                "vote: name that posting",
                field="comment_disclosure_id",
            )

        def act(meeting: ResidentsMeeting) -> None:
            if posted:
                earlier = self.get(Disclosure, posted, "disclosure")
                if not earlier.channels:
                    raise InvalidTransitionError(
                        "the matter was never posted for comment: post it, then vote"
                    )
            meeting.vote(
                actor, title=what, votes_for=counts[0], votes_against=counts[1],
                abstaining=counts[2], comment_disclosure_id=posted,
            )  # fmt: skip

        arguments = {
            "title": what,
            "votes_for": counts[0],
            "votes_against": counts[1],
            "abstaining": counts[2],
            "affects_residents": bool(affects_residents),
            "comment_disclosure_id": posted,
        }
        return self._on_meeting(actor, idempotency_key, "vote_resolution", meeting_id,
                                arguments, act)  # fmt: skip

    def post_resolution(
        self,
        actor: Actor,
        idempotency_key: str,
        meeting_id: UUID | str,
        *,
        number: int,
        disclosure_id: str,
    ) -> CommandResult:
        """A passed resolution posted after the meeting, as the disclosure named (posted
        on the board)."""
        require_role(actor, "post_resolution")
        which = _count(number, "number")
        posting = validate.text(disclosure_id, "disclosure_id", max_length=40)

        def act(meeting: ResidentsMeeting) -> None:
            if not self.get(Disclosure, posting, "disclosure").channels:
                raise InvalidTransitionError("the resolution's disclosure is not posted yet")
            meeting.post_resolution(actor, which, posting)

        arguments = {"number": which, "disclosure_id": posting}
        return self._on_meeting(actor, idempotency_key, "post_resolution", meeting_id,
                                arguments, act)  # fmt: skip

    def _on_meeting(
        self,
        actor: Actor,
        idempotency_key: str,
        command: str,
        meeting_id: UUID | str,
        arguments: dict[str, Any],
        act: Callable[[ResidentsMeeting], object],
    ) -> CommandResult:
        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            meeting = self.get(ResidentsMeeting, meeting_id, "meeting")
            act(meeting)
            return [meeting], {"id": str(meeting.id), "status": meeting.status.value}

        arguments = {"meeting_id": str(meeting_id), **arguments}
        return self.execute(actor, idempotency_key, command, arguments, build)


def _count(value: object, field: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"{field} is a whole number of at least {minimum}", field=field)
    return value


def _names(values: object, field: str, longest: int, most: int) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidInputError(f"{field} is a list", field=field)
    if len(values) > most:
        raise InvalidInputError(f"{field} names at most {most}", field=field)
    return [validate.text(v, field, max_length=longest) for v in values]
