"""The seal's SQL, shared by both backends: the reads of tree nodes, chain rows and
checkpoints, and :class:`SealTransaction`, the reads and writes made under the
community's seal lock. Statements use ``?`` placeholders; each backend's cursor
translates them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Protocol

from ledger.errors import StoreError
from ledger.store.base import (
    Node,
    RawRow,
    StoredCheckpoint,
    checkpoints_table,
    events_table,
    tree_table,
)

# How many nodes one SELECT asks for at most (SQLite's default variable limit is 32766).
_READ_CHUNK: Final = 500


class Cursor(Protocol):
    """The little of a DB-API connection this module uses; placeholders are ``?`` and
    each backend translates them."""

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int: ...

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None: ...


class SealTransaction:
    """Reads and writes inside the community's seal lock, in one transaction: whoever
    holds it is the only one extending the tree or signing a checkpoint."""

    def __init__(self, cursor: Cursor, community_id: str, *, arrays: bool = False) -> None:
        self._c = cursor
        self._arrays = arrays
        self.community_id = community_id
        self._tree = tree_table(community_id)
        self._checkpoints = checkpoints_table(community_id)

    def tree_size(self) -> int:
        return _tree_size(self._c, self._tree)

    def read_nodes(self, nodes: Sequence[Node]) -> dict[Node, bytes]:
        return _read_nodes(self._c, self._tree, nodes, arrays=self._arrays)

    def chain_rows(self, after: int, limit: int) -> list[RawRow]:
        """Chain rows with ``seq > after``, in order, as the verifier reads them."""
        return _chain_rows(self._c, self.community_id, after, limit)

    def insert_nodes(self, nodes: Sequence[tuple[Node, bytes]]) -> None:
        self._c.executemany(
            f"INSERT INTO {self._tree} (level, idx, hash) VALUES (?, ?, ?)",
            [(level, idx, digest) for (level, idx), digest in nodes],
        )

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        return _latest_checkpoint(self._c, self._checkpoints)

    def insert_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._c.execute(
            f"INSERT INTO {self._checkpoints} (tree_size, root, note, signed_at) "
            "VALUES (?, ?, ?, ?)",
            (checkpoint.tree_size, checkpoint.root, checkpoint.note, checkpoint.signed_at),
        )


def _tree_size(c: Cursor, table: str) -> int:
    # Leaves are added in order, so the number of leaves is one past the last leaf.
    rows = c.query(f"SELECT max(idx) FROM {table} WHERE level = 0")
    value = rows[0][0] if rows else None
    return 0 if value is None else int(value) + 1


def _read_nodes(
    c: Cursor, table: str, nodes: Sequence[Node], *, arrays: bool = False
) -> dict[Node, bytes]:
    wanted = list(dict.fromkeys(nodes))
    found: dict[Node, bytes] = {}
    if arrays and wanted:
        # PostgreSQL: one join against two arrays plans far faster than many ORs.
        rows = c.query(
            f"SELECT t.level, t.idx, t.hash FROM {table} t "
            "JOIN unnest(?::integer[], ?::bigint[]) AS q(level, idx) USING (level, idx)",
            ([n[0] for n in wanted], [n[1] for n in wanted]),
        )
        found = {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}
    else:
        for start in range(0, len(wanted), _READ_CHUNK):
            chunk = wanted[start : start + _READ_CHUNK]
            where = " OR ".join("(level = ? AND idx = ?)" for _ in chunk)
            params = [v for node in chunk for v in node]
            for level, idx, digest in c.query(
                f"SELECT level, idx, hash FROM {table} WHERE {where}", params
            ):
                found[(int(level), int(idx))] = bytes(digest)
    missing = [n for n in wanted if n not in found]
    if missing:
        raise StoreError(
            f"the Merkle tree in {table} lacks {len(missing)} node(s), e.g. level "
            f"{missing[0][0]} index {missing[0][1]}: it is incomplete or was altered"
        )
    return found


def _chain_rows(c: Cursor, community_id: str, after: int, limit: int) -> list[RawRow]:
    rows = c.query(
        "SELECT seq, prev_hash, hash, originator_id, originator_version, topic, state "
        f"FROM {events_table(community_id)} WHERE seq > ? ORDER BY seq LIMIT ?",
        (after, limit),
    )
    return [_raw_row(r) for r in rows]


def _latest_checkpoint(c: Cursor, table: str) -> StoredCheckpoint | None:
    rows = c.query(
        f"SELECT tree_size, root, note, signed_at FROM {table} ORDER BY tree_size DESC LIMIT 1"
    )
    return _checkpoint(rows[0]) if rows else None


def _checkpoint(row: Sequence[Any]) -> StoredCheckpoint:
    return StoredCheckpoint(int(row[0]), bytes(row[1]), row[2], row[3])


def _raw_row(row: Sequence[Any]) -> RawRow:
    seq, prev, digest, oid, version, topic, state = row
    if isinstance(oid, str):
        # SQLite keeps the UUID as 32 hex digits; anything else was not written by us
        # and is passed on in a form whose hash cannot match.
        try:
            oid_bytes = bytes.fromhex(oid) if len(oid) == 32 else b"!" + oid.encode()
        except ValueError:
            oid_bytes = b"!" + oid.encode()
    elif isinstance(oid, bytes):
        oid_bytes = oid
    else:  # a UUID object from the PostgreSQL driver
        oid_bytes = oid.bytes
    topic_bytes = topic.encode("utf-8") if isinstance(topic, str) else bytes(topic)
    return (
        int(seq),
        bytes(prev),
        bytes(digest),
        oid_bytes,
        int(version),
        topic_bytes,
        bytes(state),
    )
