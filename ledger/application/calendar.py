"""The disclosure calendar's commands (公开目录): the clerk adopts an obligation, the
supervision committee approves it, the clerk retires one no longer owed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.disclosure import Disclosure
from ledger.domain.gates import require_scope_allowed
from ledger.domain.obligation import Cadence, Obligation, ObligationStatus, check_period
from ledger.domain.permissions import require_role
from ledger.domain.vocabulary import CATEGORY_BY_CODE, Scope
from ledger.errors import InvalidInputError, InvalidTransitionError


class CalendarCommands(CommandRunner):
    """Commands on :class:`~ledger.domain.obligation.Obligation` aggregates."""

    def adopt_obligation(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        title: str,
        category: str,
        cadence: str,
        due_days: object,
        scope: str,
        basis: str = "",
    ) -> CommandResult:
        require_role(actor, "adopt_obligation")
        name = validate.text(title, "title", max_length=200)
        if category not in CATEGORY_BY_CODE:
            raise InvalidInputError(
                f"unknown category {category!r}; expected one of: {', '.join(CATEGORY_BY_CODE)}",
                field="category",
            )
        how_often = validate.choice(Cadence, cadence, "cadence")
        if isinstance(due_days, bool) or not isinstance(due_days, int):
            raise InvalidInputError("due_days is a whole number", field="due_days")
        to_whom = validate.choice(Scope, scope, "scope")
        rule = validate.text(basis, "basis", multiline=True, max_length=1_000, required=False)
        arguments = {
            "title": name,
            "category": category,
            "cadence": how_often,
            "due_days": due_days,
            "scope": to_whom,
            "basis": rule,
        }

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            # An obligation's items take its scope: it may not be one its category's
            # items cannot have.
            require_scope_allowed(category, to_whom, self.gates())
            obligation = Obligation.adopt(
                actor,
                title=name,
                category=category,
                cadence=how_often,
                due_days=due_days,
                scope=to_whom,
                basis=rule,
            )
            return [obligation], {"id": str(obligation.id)}

        return self.execute(actor, idempotency_key, "adopt_obligation", arguments, build)

    def approve_obligation(
        self, actor: Actor, idempotency_key: str, obligation_id: UUID | str, *, opinion: str = ""
    ) -> CommandResult:
        require_role(actor, "approve_obligation")
        said = validate.text(opinion, "opinion", multiline=True, max_length=2_000, required=False)
        return self._on_obligation(
            actor,
            idempotency_key,
            "approve_obligation",
            obligation_id,
            {"opinion": said},
            lambda o: o.approve(actor, said),
        )

    def retire_obligation(
        self, actor: Actor, idempotency_key: str, obligation_id: UUID | str, *, reason: str
    ) -> CommandResult:
        require_role(actor, "retire_obligation")
        why = validate.text(reason, "reason", multiline=True, max_length=2_000)
        return self._on_obligation(
            actor,
            idempotency_key,
            "retire_obligation",
            obligation_id,
            {"reason": why},
            lambda o: o.retire(actor, why),
        )

    def _on_obligation(
        self,
        actor: Actor,
        idempotency_key: str,
        command: str,
        obligation_id: UUID | str,
        arguments: dict[str, Any],
        change: Callable[[Obligation], None],
    ) -> CommandResult:
        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            obligation = self.get(Obligation, obligation_id, "obligation")
            change(obligation)
            return [obligation], {"id": str(obligation.id)}

        return self.execute(
            actor, idempotency_key, command, {"id": str(obligation_id), **arguments}, build
        )


class CoverageCommands(CommandRunner):
    """The clerk says which obligation and period a draft disclosure fulfils."""

    def declare_coverage(
        self,
        actor: Actor,
        idempotency_key: str,
        disclosure_id: UUID | str,
        *,
        obligation_id: str,
        period: str = "",
    ) -> CommandResult:
        require_role(actor, "declare_coverage")
        which = validate.text(obligation_id, "obligation_id", max_length=40)
        when = validate.text(period, "period", max_length=20, required=False)
        arguments = {"id": str(disclosure_id), "obligation_id": which, "period": when}

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            obligation = self.get(Obligation, which, "obligation")
            if obligation.status is not ObligationStatus.IN_FORCE:
                raise InvalidTransitionError(
                    f"the obligation is {obligation.status.value}: only one in force is covered"
                )
            check_period(obligation.cadence, when)
            disclosure = self.get(Disclosure, disclosure_id, "disclosure")
            disclosure.declare_coverage(
                actor, str(obligation.id), when, obligation.category, obligation.scope
            )
            return [disclosure], {"id": str(disclosure.id), "obligation_id": str(obligation.id)}

        return self.execute(actor, idempotency_key, "declare_coverage", arguments, build)
