"""What a witness keeps: :class:`WitnessState`, the SQLite file that holds, per
origin, the latest checkpoint it cosigned and the refusals with their signed evidence.
The check of the old size and the update happen in one ``BEGIN IMMEDIATE`` transaction,
so two concurrent requests cannot roll the witness back (the race described at the end
of the add-checkpoint section of the spec)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import StoreError


@dataclass(frozen=True)
class CosignedCheckpoint:
    """The latest checkpoint the witness cosigned for ``origin``: its size and root, and the
    note with the log signatures the witness verified and the witness's cosignature."""

    origin: str
    size: int
    root: bytes
    note: str


@dataclass(frozen=True)
class Refusal:
    """A validly signed checkpoint that failed a consistency check: evidence against the
    log (a fork, a bad proof), kept with the whole request."""

    origin: str
    received_at: int
    status: int
    reason: str
    request: bytes


_SCHEMA = """
CREATE TABLE IF NOT EXISTS witness_checkpoint (
    origin TEXT PRIMARY KEY,
    origin_hash TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL CHECK (length(root) = 32),
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_refusal (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS witness_refusal_origin ON witness_refusal (origin, id);
"""


def origin_hash(origin: str) -> str:
    """The lowercase hex SHA-256 of an origin, as in the monitoring URL."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


class WitnessTransaction:
    """One ``BEGIN IMMEDIATE`` transaction on the state of one origin (see
    :meth:`WitnessState.begin`)."""

    def __init__(self, conn: sqlite3.Connection, origin: str) -> None:
        self._conn = conn
        self.origin = origin
        row = conn.execute(
            "SELECT size, root, note FROM witness_checkpoint WHERE origin = ?", (origin,)
        ).fetchone()
        self.latest = CosignedCheckpoint(origin, row[0], bytes(row[1]), row[2]) if row else None
        """What the witness last cosigned for the origin, read under the write lock."""

    def save(self, size: int, root: bytes, note: str) -> None:
        self._conn.execute(
            "INSERT INTO witness_checkpoint (origin, origin_hash, size, root, note)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (origin) DO UPDATE"
            " SET size = excluded.size, root = excluded.root, note = excluded.note",
            (self.origin, origin_hash(self.origin), size, root, note),
        )

    def record_refusal(self, received_at: int, status: int, reason: str, request: bytes) -> None:
        self._conn.execute(
            "INSERT INTO witness_refusal (origin, received_at, status, reason, request)"
            " VALUES (?, ?, ?, ?, ?)",
            (self.origin, received_at, status, reason, request),
        )


class WitnessState:
    """The witness's SQLite file, created on first use: one row per origin with the latest
    cosigned checkpoint, and the refusals kept as evidence."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the witness state {self.path}: {e}") from e
        try:
            # Durable before the answer: "The witness MUST persist the new checkpoint before
            # responding." WAL lets monitors read while a request holds the write lock.
            conn.execute("PRAGMA synchronous = FULL")
            if not self._ready:
                conn.execute("PRAGMA journal_mode = WAL")
                # executescript() commits first; the script holds its own write lock.
                conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
                self._ready = True
        except sqlite3.Error as e:
            conn.close()
            raise StoreError(f"cannot use the witness state {self.path}: {e}") from e
        return conn

    @contextmanager
    def begin(self, origin: str) -> Iterator[WitnessTransaction]:
        """Hold the write lock of the state file while the caller checks and updates the
        origin's row: commit if the block ends normally, roll back if it raises."""
        with closing(self._connect()) as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                txn = WitnessTransaction(conn, origin)
            except sqlite3.Error as e:
                raise StoreError(f"cannot lock the witness state {self.path}: {e}") from e
            try:
                yield txn
                conn.commit()
            except sqlite3.Error as e:
                with suppress(sqlite3.Error):
                    conn.rollback()
                raise StoreError(f"cannot save the witness state {self.path}: {e}") from e
            except BaseException:
                with suppress(sqlite3.Error):
                    conn.rollback()
                raise

    def latest(self, origin: str) -> CosignedCheckpoint | None:
        return self._select("origin = ?", origin)

    def latest_by_hash(self, hex_hash: str) -> CosignedCheckpoint | None:
        return self._select("origin_hash = ?", hex_hash)

    def _select(self, where: str, value: str) -> CosignedCheckpoint | None:
        with closing(self._connect()) as conn:
            try:
                row = conn.execute(
                    f"SELECT origin, size, root, note FROM witness_checkpoint WHERE {where}",
                    (value,),
                ).fetchone()
            except sqlite3.Error as e:
                raise StoreError(f"cannot read the witness state {self.path}: {e}") from e
        return CosignedCheckpoint(row[0], row[1], bytes(row[2]), row[3]) if row else None

    def refusals(self, origin: str) -> list[Refusal]:
        """The evidence kept for ``origin``, oldest first."""
        with closing(self._connect()) as conn:
            try:
                rows = conn.execute(
                    "SELECT origin, received_at, status, reason, request FROM witness_refusal"
                    " WHERE origin = ? ORDER BY id",
                    (origin,),
                ).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"cannot read the witness state {self.path}: {e}") from e
        return [Refusal(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]
