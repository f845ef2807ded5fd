"""What every aggregate and event of gongkai shares.

Every event names its actor and the actor's role, and the time it was recorded
(``timestamp``, UTC, from :func:`ledger.domain.clock.now`). Each concrete event class
carries an explicit ``TOPIC``, the string stored with the event, so that renaming a
class never orphans stored events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from ledger.domain import clock
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs a command: a person's name (or account) and the role they act in."""

    name: str
    role: Role

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInputError("the actor's name must not be empty", field="actor")
        if not isinstance(self.role, Role):
            raise InvalidInputError(f"unknown role {self.role!r}", field="actor_role")

    def event_fields(self) -> dict[str, str]:
        return {"actor": self.name, "actor_role": self.role.value}


class LedgerAggregate(Aggregate):
    """Base of gongkai's aggregates: its events all carry the actor and role."""

    class Event(Aggregate.Event):
        actor: str
        actor_role: str

        @staticmethod
        def create_timestamp() -> dt.datetime:
            # The ledger's clock, not eventsourcing's: a caller may hold it at a time
            # of its story (ledger.domain.clock).
            return clock.now()

    def act(self, event_class: type[Aggregate.Event], actor: Actor, **fields: Any) -> None:
        """Trigger ``event_class`` on behalf of ``actor``."""
        self.trigger_event(event_class, **actor.event_fields(), **fields)


def register_event_topics(aggregate_class: type[Aggregate]) -> None:
    """Register the explicit topic of every event class defined on ``aggregate_class``,
    so that stored events resolve in a process that has not yet triggered one."""
    for value in vars(aggregate_class).values():
        # eventsourcing's metaclass redefines nested event classes as subclasses, so the
        # class stored on the aggregate inherits TOPIC rather than defining it.
        topic = isinstance(value, type) and getattr(value, "TOPIC", None)
        if topic:
            register_topic(topic, value)
