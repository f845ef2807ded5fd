"""The community's settings: the review gates it chooses (:mod:`ledger.domain.gates`),
recorded by the supervision committee's chair with the reason."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.gates import CommunitySettings, Gates, settings_id
from ledger.domain.permissions import require_role
from ledger.errors import InvalidInputError


class SettingsCommands(CommandRunner):
    """Commands on the :class:`~ledger.domain.gates.CommunitySettings` aggregate."""

    def choose_gates(
        self, actor: Actor, idempotency_key: str, *, reason: str, **gates: Any
    ) -> CommandResult:
        """Record the gates in force from now on; each one not given holds, as the
        seeds' rules have it."""
        require_role(actor, "choose_gates")
        why = validate.text(reason, "reason", multiline=True, max_length=2_000)
        unknown = sorted(set(gates) - set(Gates.__dataclass_fields__))
        if unknown:
            raise InvalidInputError(f"no gate named {unknown[0]!r}", field=unknown[0])
        for name, value in gates.items():
            if not isinstance(value, bool):
                raise InvalidInputError(f"{name} is true or false", field=name)
        chosen = Gates(**gates)

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            try:
                found: Aggregate = self.repository.get(settings_id(self.community.id))
            except AggregateNotFoundError:
                found = CommunitySettings.choose(actor, self.community.id, chosen, why)
            else:
                if not isinstance(found, CommunitySettings):
                    raise InvalidInputError("the community's settings are not settings")
                found.change(actor, chosen, why)
            return [found], chosen.as_fields()

        arguments = {**chosen.as_fields(), "reason": why}
        return self.execute(actor, idempotency_key, "choose_gates", arguments, build)
