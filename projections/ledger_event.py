"""A chain row read as a gongkai event: its topic, the aggregate it belongs to, and the
fields of its stored state, for the read models that look at more than one kind of
aggregate (history, audit trail).

The state is eventsourcing's JSON of the event: plain values are stored as they are,
while a UUID or a datetime is stored as ``{"_type_": ..., "_data_": ...}``. Read models
keep such values as text, so they are unwrapped here, and a field that is missing or of
an unexpected shape reads as empty rather than failing: a projection must not stop on an
entry it cannot fully read, and the verifier, not the read model, judges the entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from ledger.errors import InvalidInputError
from ledger.store.base import RawRow

_PREFIX: Final = "gongkai/"


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One chain entry: ``kind`` is the topic after ``gongkai/<area>/``."""

    seq: int
    aggregate_id: str
    area: str  # "disclosure", "correction", "finance"
    kind: str  # "drafted", "objection-raised", "entry-recorded", ...
    state: dict[str, Any]

    def text(self, name: str) -> str:
        """A text field; "" when missing."""
        value = self.state.get(name)
        return value if isinstance(value, str) else ""

    def number(self, name: str) -> int | None:
        """An integer field; None when missing."""
        value = self.state.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def uuid(self, name: str) -> str | None:
        """A UUID field as its canonical text; None when missing or malformed."""
        value = self.state.get(name)
        if isinstance(value, dict):
            value = value.get("_data_")
        if not isinstance(value, str):
            return None
        try:
            return str(UUID(value))
        except ValueError:
            return None

    def strings(self, name: str) -> list[str]:
        """A list-of-text field (attachments); [] when missing."""
        value = self.state.get(name)
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    @property
    def recorded_at(self) -> str:
        """When the ledger recorded the event (ISO 8601, UTC, as stored); "" if unknown."""
        value = self.state.get("timestamp")
        if isinstance(value, dict):
            value = value.get("_data_")
        return value if isinstance(value, str) else ""

    @property
    def actor(self) -> str:
        return self.text("actor")

    @property
    def actor_role(self) -> str:
        return self.text("actor_role")


def ledger_event(row: RawRow) -> LedgerEvent | None:
    """The event of a chain row; None for a row whose topic is not gongkai's."""
    seq, _prev, _hash, oid, _version, topic_bytes, state_bytes = row
    topic = topic_bytes.decode("utf-8", errors="replace")
    area, _, kind = topic.removeprefix(_PREFIX).partition("/")
    if not topic.startswith(_PREFIX) or not kind:
        return None
    # Same fallback as the board's fold: a malformed originator ID is not worth a crash.
    aggregate_id = UUID(bytes=oid) if len(oid) == 16 else UUID(int=0)
    return LedgerEvent(seq, str(aggregate_id), area, kind, _state(state_bytes))


def _state(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def id_text(value: UUID | str, field: str) -> str:
    """The canonical text of an ID a reader asked about, as the read models store it;
    :class:`InvalidInputError` naming ``field`` for text that is not a UUID."""
    try:
        return str(value if isinstance(value, UUID) else UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInputError(f"{field} is not a UUID: {value!r}", field=field) from None
