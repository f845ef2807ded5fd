"""Where a community's seal is kept: Merkle tree nodes, signed checkpoints, cosignatures,
and the verifier keys of the cosigners the community accepts.

Four append-only tables per community, beside its events:

* ``<community>_tree``: one row per *complete* subtree of the RFC 6962 tree, keyed by
  ``(level, idx)`` (the subtree over leaves ``[idx << level, (idx + 1) << level)``),
  level 0 holding the leaf hashes. A complete subtree's hash never changes, so the
  table only ever grows, and any root or proof is computed from O(log n) of its rows
  (see :mod:`ledger.seal.merkle`). Tiles of C2SP ``tlog-tiles`` are the rows at levels 0, 8,
  16, ... read in runs of 256.
* ``<community>_checkpoints``: every checkpoint the log signed, as its signed note.
* ``<community>_cosignatures``: the cosignature lines added to them.
* ``<community>_cosigners``: the verifier keys of the committee members and witnesses
  whose cosignatures the community accepts.

The tree is derived data: anyone can rebuild it from the chain and compare. What makes
it binding is the signed checkpoints, whose keys are not in the database.

Both backends share this module and its SQL (:mod:`ledger.store.seal_sql`); each
supplies connections and its lock.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Final

from ledger.store.base import (
    Cosigner,
    Node,
    RawRow,
    StoredCheckpoint,
    StoredCosignature,
    check_community_id,
    checkpoints_table,
    cosignatures_table,
    cosigners_table,
    events_table,
    tree_table,
)
from ledger.store.seal_sql import (
    Cursor,
    SealTransaction,
    _chain_rows,
    _checkpoint,
    _latest_checkpoint,
    _read_nodes,
    _tree_size,
)


class BlockReader:
    """A node reader for proofs of many neighbouring leaves (an export of a range): it
    reads the 256-leaf block around each low node in one query and keeps the few nodes
    above block level, so a million proofs cost a few thousand queries and bounded
    memory instead of a million queries."""

    LEVELS: Final = 8
    KEEP_BLOCKS: Final = 4

    def __init__(self, store: SealStore) -> None:
        self._store = store
        # A few blocks: the leaf's own and the tree's last, which every proof near the
        # right edge needs too.
        self._blocks: dict[int, dict[Node, bytes]] = {}
        self._high: dict[Node, bytes] = {}

    def __call__(self, nodes: Sequence[Node]) -> dict[Node, bytes]:
        found: dict[Node, bytes] = {}
        missing: list[Node] = []
        for level, idx in nodes:
            if level < self.LEVELS:
                digest = self._block((idx << level) >> self.LEVELS).get((level, idx))
            else:
                digest = self._high.get((level, idx))
            if digest is None:
                missing.append((level, idx))
            else:
                found[(level, idx)] = digest
        if missing:
            fetched = self._store.read_nodes(missing)
            self._high.update((n, h) for n, h in fetched.items() if n[0] >= self.LEVELS)
            found.update(fetched)
        return found

    def _block(self, block: int) -> dict[Node, bytes]:
        nodes = self._blocks.get(block)
        if nodes is None:
            if len(self._blocks) >= self.KEEP_BLOCKS:
                # Drop the oldest but keep the highest block (the right edge).
                keep = max(self._blocks)
                oldest = next(b for b in self._blocks if b != keep)
                del self._blocks[oldest]
            nodes = self._store.read_block(block, self.LEVELS)
            self._blocks[block] = nodes
        return nodes


class SealStore(ABC):
    """One community's seal tables. Reads open their own short transaction; the tree
    and checkpoints are written only inside :meth:`locked`."""

    # Whether the backend takes arrays as query parameters (PostgreSQL does).
    array_params: bool = False

    def __init__(self, community_id: str) -> None:
        self.community_id = check_community_id(community_id)
        self._tree = tree_table(community_id)
        self._checkpoints = checkpoints_table(community_id)
        self._cosignatures = cosignatures_table(community_id)
        self._cosigners = cosigners_table(community_id)

    @abstractmethod
    def _reading(self) -> AbstractContextManager[Cursor]:
        """A read-only transaction."""

    @abstractmethod
    def _writing(self) -> AbstractContextManager[Cursor]:
        """A write transaction, committed when the block ends without error."""

    @abstractmethod
    def _locked(self) -> AbstractContextManager[Cursor]:
        """A write transaction holding the community's seal lock."""

    @contextmanager
    def locked(self) -> Iterator[SealTransaction]:
        """The seal lock and a transaction, committed when the block ends normally."""
        with self._locked() as cursor:
            yield SealTransaction(cursor, self.community_id, arrays=self.array_params)

    def tree_size(self) -> int:
        with self._reading() as c:
            return _tree_size(c, self._tree)

    def read_nodes(self, nodes: Sequence[Node]) -> dict[Node, bytes]:
        """The stored hashes of ``nodes``; :class:`StoreError` if one is missing."""
        if not nodes:
            return {}
        with self._reading() as c:
            return _read_nodes(c, self._tree, nodes, arrays=self.array_params)

    def chain_length(self) -> int:
        """The chain's last ``seq`` (0 when empty)."""
        with self._reading() as c:
            rows = c.query(f"SELECT max(seq) FROM {events_table(self.community_id)}")
        return int(rows[0][0] or 0) if rows else 0

    def chain_rows(self, after: int, limit: int) -> list[RawRow]:
        """Chain rows with ``seq > after``, in order, outside the seal lock."""
        with self._reading() as c:
            return _chain_rows(c, self.community_id, after, limit)

    def read_block(self, block: int, levels: int = 8) -> dict[Node, bytes]:
        """Every stored node of levels ``0..levels-1`` over the leaves of the aligned block
        ``[block << levels, (block + 1) << levels)``: one query for a tile's worth."""
        clauses = " OR ".join("(level = ? AND idx >= ? AND idx < ?)" for _ in range(levels))
        params = [
            v
            for level in range(levels)
            for v in (level, block << (levels - level), (block + 1) << (levels - level))
        ]
        with self._reading() as c:
            rows = c.query(f"SELECT level, idx, hash FROM {self._tree} WHERE {clauses}", params)
        return {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}

    def read_node_range(self, level: int, start: int, stop: int) -> list[bytes]:
        """The hashes of nodes ``start..stop-1`` at ``level``, in order, as far as stored."""
        with self._reading() as c:
            rows = c.query(
                f"SELECT hash FROM {self._tree} WHERE level = ? AND idx >= ? AND idx < ? "
                "ORDER BY idx",
                (level, start, stop),
            )
        return [bytes(r[0]) for r in rows]

    def checkpoint(self, tree_size: int | None = None) -> StoredCheckpoint | None:
        """The checkpoint of ``tree_size``, or the latest one when it is ``None``."""
        with self._reading() as c:
            if tree_size is None:
                return _latest_checkpoint(c, self._checkpoints)
            rows = c.query(
                f"SELECT tree_size, root, note, signed_at FROM {self._checkpoints} "
                "WHERE tree_size = ?",
                (tree_size,),
            )
        return _checkpoint(rows[0]) if rows else None

    def checkpoints(self, *, limit: int = 100, below: int | None = None) -> list[StoredCheckpoint]:
        """Signed checkpoints, largest first."""
        with self._reading() as c:
            rows = c.query(
                f"SELECT tree_size, root, note, signed_at FROM {self._checkpoints} "
                "WHERE tree_size < ? ORDER BY tree_size DESC LIMIT ?",
                (below if below is not None else 2**62, limit),
            )
        return [_checkpoint(r) for r in rows]

    def add_cosignature(self, cosignature: StoredCosignature) -> bool:
        """Store a cosignature; ``False`` if this key already cosigned this checkpoint."""
        with self._writing() as c:
            return (
                c.execute(
                    f"INSERT INTO {self._cosignatures} (tree_size, key_name, key_id, line, "
                    "timestamp, added_at) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (tree_size, key_name, key_id) DO NOTHING",
                    (
                        cosignature.tree_size,
                        cosignature.key_name,
                        cosignature.key_id,
                        cosignature.line,
                        cosignature.timestamp,
                        cosignature.added_at,
                    ),
                )
                == 1
            )

    def cosignatures(self, tree_sizes: Sequence[int]) -> list[StoredCosignature]:
        """Cosignatures of the checkpoints of ``tree_sizes``, in the order they came."""
        if not tree_sizes:
            return []
        marks = ",".join("?" * len(tree_sizes))
        with self._reading() as c:
            rows = c.query(
                f"SELECT tree_size, key_name, key_id, line, timestamp, added_at "
                f"FROM {self._cosignatures} WHERE tree_size IN ({marks}) "
                "ORDER BY tree_size, added_at, key_name",
                list(tree_sizes),
            )
        return [StoredCosignature(r[0], r[1], bytes(r[2]), r[3], int(r[4]), r[5]) for r in rows]

    def add_cosigner(self, cosigner: Cosigner) -> bool:
        """Accept a cosigner's key; ``False`` if it was already accepted."""
        with self._writing() as c:
            return (
                c.execute(
                    f"INSERT INTO {self._cosigners} (vkey, name, key_id, role, label, added_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (vkey) DO NOTHING",
                    (
                        cosigner.vkey,
                        cosigner.name,
                        cosigner.key_id,
                        cosigner.role,
                        cosigner.label,
                        cosigner.added_at,
                    ),
                )
                == 1
            )

    def cosigners(self) -> list[Cosigner]:
        with self._reading() as c:
            rows = c.query(
                f"SELECT vkey, name, key_id, role, label, added_at FROM {self._cosigners} "
                "ORDER BY added_at, vkey"
            )
        return [Cosigner(r[0], r[1], bytes(r[2]), r[3], r[4], r[5]) for r in rows]
