"""What every backend offers, and the names they share.

A *store* is one database (an SQLite file with its community files beside it, or one
PostgreSQL database). It holds a registry of communities and, per community, two
append-only tables:

* ``<community>_events``: eventsourcing's stored events, each with its chain columns
  ``seq``, ``prev_hash`` and ``hash`` (see :mod:`ledger.chain.hashing`);
* ``<community>_commands``: one row per idempotency key, written in the same
  transaction as the events it produced, so that a retried command answers the first
  result and stores nothing twice. It names the command's first event by originator ID
  and version, and how many events it wrote: the events of one transaction have
  consecutive ``seq`` numbers, so the row can be written before they are numbered,
  outside the community's write lock.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ledger.errors import InvalidInputError, StoreError

if TYPE_CHECKING:
    from ledger.store.recorder import ChainedRecorder
    from ledger.store.seal import SealStore

COMMUNITY_ID_PATTERN: Final = re.compile(r"[a-z][a-z0-9_]{1,31}")
REGISTRY_TABLE: Final = "gongkai_communities"
DEFAULT_DB_URL: Final = "sqlite:///data/gongkai.sqlite3"

# A raw chain row, exactly as the verifier reads it:
# (seq, prev_hash, hash, originator_id, originator_version, topic, state).
# originator_id is the 16 UUID bytes; topic and state are bytes.
RawRow = tuple[int, bytes, bytes, bytes, int, bytes, bytes]


def check_community_id(community_id: str) -> str:
    """Return ``community_id`` if it can name a community, else raise.

    IDs become parts of table names, so they are restricted to lower-case ASCII letters,
    digits and underscores, starting with a letter, 2 to 32 characters.
    """
    if not isinstance(community_id, str) or not COMMUNITY_ID_PATTERN.fullmatch(community_id):
        raise InvalidInputError(
            f"community ID {community_id!r} must be 2-32 characters of a-z, 0-9 and _, "
            "starting with a letter",
            field="community",
        )
    return community_id


def events_table(community_id: str) -> str:
    return f"{check_community_id(community_id)}_events"


def commands_table(community_id: str) -> str:
    return f"{check_community_id(community_id)}_commands"


@dataclass(frozen=True, slots=True)
class Community:
    """A registered community: its ID (used in URLs and table names) and its name."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """What a command stores with its events, keyed by its idempotency key."""

    idempotency_key: str
    fingerprint: bytes
    result: str


@dataclass(frozen=True, slots=True)
class StoredCommand:
    """A command found by its idempotency key."""

    idempotency_key: str
    fingerprint: bytes
    result: str
    first_seq: int
    last_seq: int


class DuplicateCommandError(StoreError):
    """Raised inside the insert transaction when the idempotency key is already stored.

    The transaction is rolled back, so the events of the second attempt are not stored;
    the application then answers the first attempt's result.
    """


class Store(ABC):
    """A database holding communities' chained logs."""

    url: str

    @abstractmethod
    def init_schema(self, *, service_role: str | None = None) -> None:
        """Create the registry and every registered community's tables (idempotent)."""

    @abstractmethod
    def add_community(self, community: Community) -> None:
        """Register a community and create its tables; a no-op if it exists with the
        same name, an error if it exists with another."""

    @abstractmethod
    def communities(self) -> list[Community]:
        """Every registered community, ordered by ID."""

    def community(self, community_id: str) -> Community:
        """The community with this ID, or :class:`UnknownCommunityError`."""
        from ledger.errors import UnknownCommunityError

        check_community_id(community_id)
        for community in self.communities():
            if community.id == community_id:
                return community
        raise UnknownCommunityError(f"no community {community_id!r} in this store")

    @abstractmethod
    def recorder(self, community_id: str) -> ChainedRecorder:
        """The chained eventsourcing recorder of one community (cached per store)."""

    @abstractmethod
    def seal(self, community_id: str) -> SealStore:
        """The Merkle tree, checkpoints and cosignatures of one registered community."""

    @abstractmethod
    def chain_rows(
        self, community_id: str, *, batch_size: int = 10_000
    ) -> Generator[RawRow, None, None]:
        """Every chain row of a community ordered by ``seq``, read straight from the
        table in constant memory, without going through eventsourcing."""

    @abstractmethod
    def max_seq(self, community_id: str) -> int:
        """The highest stored ``seq`` (0 when empty): used for progress reporting only."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and file handles."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
