"""The inquiry commands (质询): a residents' representative files one, the residents'
committee answers it, the representative may mark the answer unsatisfactory, the
service escalates what is due, and the committee records the meeting that closes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.disclosure import Disclosure
from ledger.domain.inquiry import Inquiry, Meeting
from ledger.domain.permissions import require_role
from ledger.domain.working_days import china_date, deadline
from ledger.errors import InvalidInputError

#: The most people a meeting's record names as present.
MAX_PRESENT = 200


class _NotDueError(Exception):
    """Raised inside a command to store nothing: the inquiry is no longer due."""


class InquiryCommands(CommandRunner):
    """Commands on :class:`~ledger.domain.inquiry.Inquiry` aggregates. ``now`` (UTC) is
    when the command is given, for its China date; the current time if None."""

    def file_inquiry(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        question: str,
        representative: str = "",
        on_behalf_of: str = "",
        disclosure_id: str = "",
        now: dt.datetime | None = None,
    ) -> CommandResult:
        """File an inquiry addressed to the residents' committee, due in three working
        days, signed with ``representative`` (the account's name if empty). Answers
        ``{"id": ..., "due_on": ...}``."""
        require_role(actor, "file_inquiry")
        asked = validate.text(question, "question", multiline=True, max_length=5_000)
        who = validate.text(representative, "representative", max_length=100, required=False)
        for_whom = validate.text(on_behalf_of, "on_behalf_of", max_length=200, required=False)
        about = validate.text(disclosure_id, "disclosure_id", max_length=40, required=False)
        due = deadline(china_date(now))  # refused past the calendar's last year

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            if about:
                self.get(Disclosure, about, "disclosure")
            inquiry = Inquiry.file(actor, who or actor.name, asked, for_whom, about, due)
            return [inquiry], {"id": str(inquiry.id), "due_on": due.due_on.isoformat()}

        arguments = {
            "question": asked,
            "representative": who,
            "on_behalf_of": for_whom,
            "disclosure_id": about,
        }
        return self.execute(actor, idempotency_key, "file_inquiry", arguments, build)

    def answer_inquiry(
        self,
        actor: Actor,
        idempotency_key: str,
        inquiry_id: UUID | str,
        *,
        answer: str,
        now: dt.datetime | None = None,
    ) -> CommandResult:
        require_role(actor, "answer_inquiry")
        reply = validate.text(answer, "answer", multiline=True, max_length=5_000)
        today = china_date(now)
        return self._on_inquiry(
            actor,
            idempotency_key,
            "answer_inquiry",
            inquiry_id,
            {"answer": reply},
            lambda i: i.answer(actor, reply, today),
        )

    def mark_unsatisfactory(
        self, actor: Actor, idempotency_key: str, inquiry_id: UUID | str, *, reason: str
    ) -> CommandResult:
        require_role(actor, "mark_unsatisfactory")
        why = validate.text(reason, "reason", multiline=True, max_length=2_000)
        return self._on_inquiry(
            actor,
            idempotency_key,
            "mark_unsatisfactory",
            inquiry_id,
            {"reason": why},
            lambda i: i.mark_unsatisfactory(actor, why),
        )

    def escalate_inquiry(
        self, actor: Actor, inquiry_id: UUID | str, now: dt.datetime | None = None
    ) -> CommandResult | None:
        """Escalate the inquiry if it is due on ``now``'s China date; None if it is not.
        The key is the inquiry's own, so that however many processes find it due, it is
        escalated once: a second finds the first's record and is answered from it."""
        require_role(actor, "escalate_inquiry")
        today = china_date(now)
        found = self.get(Inquiry, inquiry_id, "inquiry")
        if found.due_reason(today) is None:
            return None  # not due, or escalated already

        def change(inquiry: Inquiry) -> dict[str, Any]:
            if inquiry.due_reason(today) is None:
                raise _NotDueError  # another process escalated it since it was found due
            return {"reason": inquiry.escalate(actor, today).value}

        key = f"escalate:{found.id}"
        try:
            return self._on_inquiry(actor, key, "escalate_inquiry", found.id, {}, change)
        except _NotDueError:
            return None

    def record_meeting(
        self,
        actor: Actor,
        idempotency_key: str,
        inquiry_id: UUID | str,
        *,
        meeting: str,
        held_on: str,
        present: Sequence[str],
        conclusion: str,
    ) -> CommandResult:
        """The record of the accountability meeting, with its date, those present and
        its conclusion; it closes the inquiry."""
        require_role(actor, "record_meeting")
        kind = validate.choice(Meeting, meeting, "meeting")
        day = validate.date(held_on, "held_on")
        if isinstance(present, str) or len(present) > MAX_PRESENT:
            raise InvalidInputError(
                f"present is a list of at most {MAX_PRESENT} names", field="present"
            )
        names = [validate.text(n, "present", max_length=100) for n in present]
        if not names:
            raise InvalidInputError("name those present at the meeting", field="present")
        outcome = validate.text(conclusion, "conclusion", multiline=True, max_length=5_000)
        arguments = {
            "meeting": kind,
            "held_on": day.isoformat(),
            "present": names,
            "conclusion": outcome,
        }
        return self._on_inquiry(
            actor,
            idempotency_key,
            "record_meeting",
            inquiry_id,
            arguments,
            lambda i: i.record_meeting(actor, kind, day, names, outcome),
        )

    def _on_inquiry(
        self,
        actor: Actor,
        idempotency_key: str,
        command: str,
        inquiry_id: UUID | str,
        arguments: dict[str, Any],
        change: Callable[[Inquiry], dict[str, Any] | None],
    ) -> CommandResult:
        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            inquiry = self.get(Inquiry, inquiry_id, "inquiry")
            more = change(inquiry) or {}
            return [inquiry], {"id": str(inquiry.id), **more}

        return self.execute(
            actor, idempotency_key, command, {"id": str(inquiry_id), **arguments}, build
        )
