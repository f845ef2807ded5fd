"""The committee's registered seal keys (监审印章备案): each key the chair recorded for a
member, in the order recorded; the latest of each member is the one in force. The
console shows them, and a reader's browser checks the seals on an item against them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent
from projections.runner import Projection


@dataclass(frozen=True, slots=True)
class RegisteredKey:
    member: str
    vkey: str
    seq: int
    recorded_at: str
    registered_by: str


class SealKeysProjection(Projection):
    name: ClassVar[str] = "seal_keys"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS seal_keys (community TEXT NOT NULL, "
            "seq BIGINT NOT NULL, member_key TEXT NOT NULL, member TEXT NOT NULL, "
            "vkey TEXT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL, "
            "PRIMARY KEY (community, seq)) WITHOUT ROWID",
        ]

    def tables(self) -> list[str]:
        return ["seal_keys"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        for event in events:
            if event.area != "seal-key" or event.kind not in ("registered", "replaced"):
                continue
            member = event.text("member")
            if event.kind == "replaced":  # names only the aggregate: its member came first
                found = tx.query(
                    "SELECT member FROM seal_keys WHERE community = ? AND member_key = ? "
                    "ORDER BY seq LIMIT 1",
                    (community_id, event.aggregate_id),
                )
                member = found[0][0] if found else ""
            tx.execute(
                "INSERT INTO seal_keys (community, seq, member_key, member, vkey, "
                "recorded_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    community_id,
                    event.seq,
                    event.aggregate_id,
                    member,
                    event.text("vkey"),
                    event.recorded_at,
                    event.text("actor"),
                ),
            )


def registered_keys(db: ReadDB, community_id: str) -> list[RegisteredKey]:
    """Every key registered in the community, oldest first."""
    with db.reading() as tx:
        rows = tx.query(
            "SELECT member, vkey, seq, recorded_at, actor FROM seal_keys "
            "WHERE community = ? ORDER BY seq",
            (community_id,),
        )
    return [RegisteredKey(m, v, int(seq), at, by) for m, v, seq, at, by in rows]


def keys_in_force(db: ReadDB, community_id: str) -> dict[str, RegisteredKey]:
    """Each member's latest key."""
    return {key.member: key for key in registered_keys(db, community_id)}
