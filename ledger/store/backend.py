"""What every backend offers: the :class:`Store` interface that the SQLite and
PostgreSQL stores implement. The names they share, and the tables' layout, are in
:mod:`ledger.store.base`, which imports nothing of the store's, so that the recorder and
the seal store can use them without an import circle."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator

from ledger.errors import UnknownCommunityError
from ledger.store.base import Community, RawRow, check_community_id
from ledger.store.recorder import ChainedRecorder
from ledger.store.seal import SealStore


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
