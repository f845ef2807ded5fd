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
import sys
from typing import Any, Final
from uuid import UUID

from ledger.errors import InvalidInputError
from ledger.store.base import RawRow

_PREFIX: Final = "gongkai/"


class LedgerEvent:
    """One chain entry: ``kind`` is the topic after ``gongkai/<area>/``. Its state is
    decoded when first asked for, so that a projection that skips most entries (the
    board, rebuilt alone) does not pay for decoding them."""

    __slots__ = (
        "_raw",
        "_recorded_at",
        "_state",
        "aggregate_id",
        "area",
        "kind",
        "oid",
        "seq",
        "version",
    )

    def __init__(
        self, seq: int, oid: bytes, version: int, area: str, kind: str, raw_state: bytes
    ) -> None:
        self.seq = seq
        self.oid = oid  # the aggregate's UUID as stored (16 zero bytes if malformed)
        self.aggregate_id = _uuid_text(oid)  # the UUID's canonical text
        self.version = version  # 1 for the aggregate's first event (the store keeps it unique)
        self.area = area  # "disclosure", "correction", "finance"
        self.kind = kind  # "drafted", "objection-raised", "entry-recorded", ...
        self._raw = raw_state
        self._state: dict[str, Any] | None = None
        self._recorded_at: str | None = None

    @property
    def state(self) -> dict[str, Any]:
        """The event's stored fields; {} if they are not a JSON object."""
        if self._state is None:
            self._state = _state(self._raw)
        return self._state

    @property
    def key(self) -> UUID:
        """The aggregate's UUID."""
        return UUID(bytes=self.oid)

    def text(self, name: str) -> str:
        """A text field; "" when missing."""
        value = (self._state if self._state is not None else self.state).get(name)
        return value if type(value) is str else ""  # JSON makes no subclass of str

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
        """When the ledger recorded the event (ISO 8601, UTC, as stored); "" if unknown.
        Several read models ask for it: it is worked out once."""
        if self._recorded_at is None:
            value = self.state.get("timestamp")
            if isinstance(value, dict):
                value = value.get("_data_")
            self._recorded_at = value if isinstance(value, str) else ""
        return self._recorded_at

    @property
    def actor(self) -> str:
        return self.text("actor")

    @property
    def actor_role(self) -> str:
        return self.text("actor_role")


def ledger_event(row: RawRow) -> LedgerEvent | None:
    """The event of a chain row; None for a row whose topic is not gongkai's."""
    seq, _prev, _hash, oid, version, topic_bytes, state_bytes = row
    names = _TOPICS.get(topic_bytes)
    if names is None:
        names = _topic_names(topic_bytes)
        if len(_TOPICS) < _TOPICS_KEPT:  # bounded, whatever topics a store holds
            _TOPICS[topic_bytes] = names
    if not names:
        return None
    # Same fallback as the board's fold: a malformed originator ID is not worth a crash.
    if len(oid) != 16:
        oid = bytes(16)
    area, kind = names
    return LedgerEvent(seq, oid, version, area, kind, state_bytes)


#: Each topic's (area, kind), or () if it is not gongkai's: a ledger has a few dozen
#: topics and a catch-up reads every entry's.
_TOPICS: Final[dict[bytes, tuple[str, str] | tuple[()]]] = {}
_TOPICS_KEPT: Final = 1024


def _topic_names(topic_bytes: bytes) -> tuple[str, str] | tuple[()]:
    topic = topic_bytes.decode("utf-8", errors="replace")
    area, _, kind = topic.removeprefix(_PREFIX).partition("/")
    if not topic.startswith(_PREFIX) or not kind:
        return ()
    return sys.intern(area), sys.intern(kind)


def _uuid_text(oid: bytes) -> str:
    """``str(UUID(bytes=oid))``, without building the UUID: a catch-up does this for
    every entry."""
    h = oid.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_decode: Final = json.JSONDecoder().decode


def _state(raw: bytes) -> dict[str, Any]:
    try:
        value = _decode(raw.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError is one
        return {}
    return value if isinstance(value, dict) else {}


def id_text(value: UUID | str, field: str) -> str:
    """The canonical text of an ID a reader asked about, as the read models store it;
    :class:`InvalidInputError` naming ``field`` for text that is not a UUID."""
    try:
        return str(value if isinstance(value, UUID) else UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInputError(f"{field} is not a UUID: {value!r}", field=field) from None
