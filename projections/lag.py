"""How far the read models are behind the ledger, per community: the chain's head
against each projection's position (the last entry it applied)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.store.backend import Store
from projections.db import ReadDB


@dataclass(frozen=True, slots=True)
class Lag:
    """One community: its chain's head, and each projection's position."""

    head: int
    positions: dict[str, int]

    @property
    def behind(self) -> int:
        """Entries the slowest projection has still to apply."""
        return self.head - min(self.positions.values(), default=self.head)

    def json(self) -> dict[str, object]:
        return {"head": self.head, "behind": self.behind, "positions": self.positions}


def read_model_lag(store: Store, db: ReadDB, projections: Sequence[str]) -> dict[str, Lag]:
    """The lag of every community of ``store``; a projection that has applied nothing
    of a community yet is at position 0."""
    with db.reading() as tx:
        rows = tx.query("SELECT projection, community, position FROM projection_tracking")
    tracked = {(str(p), str(c)): int(pos) for p, c, pos in rows}
    return {
        community.id: Lag(
            store.max_seq(community.id),
            {name: tracked.get((name, community.id), 0) for name in projections},
        )
        for community in store.communities()
    }
