"""The part of a chained recorder that does not depend on the backend.

Both backends subclass eventsourcing's application recorder and replace its insert: the
chain head is read after the write lock is taken and the new rows are linked and hashed
in the same transaction as the insert (in Python on SQLite, in SQL on PostgreSQL), so no
acknowledged event is ever unchained and concurrent writers can never fork the chain.
The notification ID that eventsourcing hands to readers *is* the chain's ``seq``:
gapless and in commit order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from uuid import UUID

from ledger.chain.hashing import ChainedEvent, Head
from ledger.store.base import PersonalKey, StoredCommand


class ChainedRecorder(ABC):
    """Chain-aware reads that the application and the API need besides eventsourcing's."""

    community_id: str

    @abstractmethod
    def head(self) -> Head:
        """The current head of the chain (``Head(0, b"")`` when empty)."""

    @abstractmethod
    def find_command(self, idempotency_key: str) -> StoredCommand | None:
        """The stored command with this idempotency key, if any."""

    @abstractmethod
    def seq_of(self, originator_id: UUID, originator_version: int) -> int | None:
        """The chain ``seq`` of one stored event, if it exists."""

    @abstractmethod
    def read_chain(self, *, after: int = 0, limit: int = 100) -> list[ChainedEvent]:
        """Chain entries with ``seq > after`` in order, at most ``limit`` of them."""

    # --- the personal keys (ledger.domain.personal_data): beside the chain, not in it ----------

    @abstractmethod
    def personal_key(self, person_id: str) -> PersonalKey | None:
        """The key row of ``person_id`` (its key None once erased), if any."""

    @abstractmethod
    def add_personal_key(self, person_id: str, key_id: str, key: bytes) -> PersonalKey:
        """Store ``key`` for ``person_id`` unless the person has one already; answers
        the row stored (the earlier one, if another writer got there first)."""

    @abstractmethod
    def personal_keys(self, key_ids: Collection[str]) -> dict[str, bytes | None]:
        """Each of ``key_ids`` that the table holds: its key, or None once erased."""

    @abstractmethod
    def erased_people(self) -> dict[str, str]:
        """Every erased person's ID, and when they were erased (ISO 8601)."""
