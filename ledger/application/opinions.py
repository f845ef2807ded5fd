"""The opinion commands (意见): a resident or representative leaves an opinion on a
posted disclosure, and the clerk answers it (答复)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.disclosure import Disclosure
from ledger.domain.permissions import require_role
from ledger.errors import InvalidInputError

#: The longest opinion or answer, in characters.
MAX_OPINION = 5_000


class OpinionCommands(CommandRunner):
    """Opinions on :class:`~ledger.domain.disclosure.Disclosure` aggregates."""

    def leave_opinion(
        self,
        actor: Actor,
        idempotency_key: str,
        disclosure_id: UUID | str,
        *,
        resident: str,
        text: str,
        text_public: bool,
    ) -> CommandResult:
        """Record an opinion on the version now posted. Answers ``{"id": disclosure,
        "opinion_id": ..., "version": ...}``."""
        require_role(actor, "leave_opinion")
        who = validate.text(resident, "resident", max_length=100)
        what = validate.text(text, "text", multiline=True, max_length=MAX_OPINION)
        if not isinstance(text_public, bool):
            raise InvalidInputError("text_public must be true or false", field="text_public")

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            disclosure = self.get(Disclosure, disclosure_id, "disclosure")
            opinion_id = disclosure.leave_opinion(actor, who, what, text_public=text_public)
            return [disclosure], {
                "id": str(disclosure.id),
                "opinion_id": str(opinion_id),
                "version": disclosure.version,
            }

        arguments = {
            "id": str(disclosure_id),
            "resident": who,
            "text": what,
            "text_public": text_public,
        }
        return self.execute(actor, idempotency_key, "leave_opinion", arguments, build)

    def answer_opinion(
        self,
        actor: Actor,
        idempotency_key: str,
        disclosure_id: UUID | str,
        opinion_id: UUID | str,
        *,
        answer: str,
    ) -> CommandResult:
        """Record the clerk's answer to one opinion, once."""
        require_role(actor, "answer_opinion")
        reply = validate.text(answer, "answer", multiline=True, max_length=MAX_OPINION)
        try:
            oid = opinion_id if isinstance(opinion_id, UUID) else UUID(str(opinion_id))
        except ValueError:
            raise InvalidInputError(
                f"opinion ID {opinion_id!r} is not a UUID", field="opinion_id"
            ) from None

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            disclosure = self.get(Disclosure, disclosure_id, "disclosure")
            disclosure.answer_opinion(actor, oid, reply)
            return [disclosure], {
                "id": str(disclosure.id),
                "opinion_id": str(oid),
                "version": disclosure.version,
            }

        arguments = {"id": str(disclosure_id), "opinion_id": str(oid), "answer": reply}
        return self.execute(actor, idempotency_key, "answer_opinion", arguments, build)
