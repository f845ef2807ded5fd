"""The seal's tables in a community's SQLite file (see :mod:`ledger.store.seal`).

They live in the same file as the community's events, so that extending the tree reads
the chain and writes the nodes in one transaction. The seal lock is SQLite's write lock
(``BEGIN IMMEDIATE``): while the tree is extended, appends to that community wait, which
is why the tree grows in bounded batches.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Final

from ledger.errors import StoreError, UnknownCommunityError
from ledger.store.base import checkpoints_table, cosignatures_table, cosigners_table, tree_table
from ledger.store.seal import SealStore

LOCK_TIMEOUT_SECONDS: Final = 60


def seal_ddl(community_id: str) -> list[str]:
    """The seal's tables; the caller adds the append-only triggers."""
    return [
        f"CREATE TABLE IF NOT EXISTS {tree_table(community_id)} ("
        "level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, "
        "PRIMARY KEY (level, idx)) STRICT, WITHOUT ROWID",
        f"CREATE TABLE IF NOT EXISTS {checkpoints_table(community_id)} ("
        "tree_size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, "
        "signed_at TEXT NOT NULL) STRICT",
        f"CREATE TABLE IF NOT EXISTS {cosignatures_table(community_id)} ("
        "tree_size INTEGER NOT NULL, key_name TEXT NOT NULL, key_id BLOB NOT NULL, "
        "line TEXT NOT NULL, timestamp INTEGER NOT NULL, added_at TEXT NOT NULL, "
        "PRIMARY KEY (tree_size, key_name, key_id)) STRICT, WITHOUT ROWID",
        f"CREATE TABLE IF NOT EXISTS {cosigners_table(community_id)} ("
        "vkey TEXT PRIMARY KEY, name TEXT NOT NULL, key_id BLOB NOT NULL, "
        "role TEXT NOT NULL, label TEXT NOT NULL, added_at TEXT NOT NULL) STRICT, WITHOUT ROWID",
    ]


class _SQLiteCursor:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(statement, params).fetchall()

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(statement, params).rowcount

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(statement, rows)


class SQLiteSealStore(SealStore):
    """The seal tables of one community's file. Each thread keeps its own connections
    (opening one costs ten times the query a proof needs); :meth:`close` closes them."""

    def __init__(self, community_id: str, path: Path) -> None:
        super().__init__(community_id)
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()

    def _connection(self, *, read_only: bool) -> sqlite3.Connection:
        attr = "reader" if read_only else "writer"
        conn: sqlite3.Connection | None = getattr(self._local, attr, None)
        if conn is None:
            conn = self._connect(read_only=read_only)
            setattr(self._local, attr, conn)
            with self._opened_lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        with self._opened_lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
        self._local = threading.local()

    def _connect(self, *, read_only: bool) -> sqlite3.Connection:
        if not self.path.exists():
            raise UnknownCommunityError(f"no log for community {self.community_id!r}")
        if read_only:
            return sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=LOCK_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,  # used by one thread; closed by whoever closes
            )
        return sqlite3.connect(
            self.path,
            timeout=LOCK_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )

    @contextmanager
    def _transaction(self, begin: str | None, *, read_only: bool) -> Iterator[_SQLiteCursor]:
        try:
            conn = self._connection(read_only=read_only)
            if begin is None:
                yield _SQLiteCursor(conn)
                return
            conn.execute(begin)
            try:
                yield _SQLiteCursor(conn)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                raise StoreError(
                    f"community {self.community_id!r} has no seal tables: "
                    "run 'gongkai db init' to add them"
                ) from None
            raise StoreError(f"seal store of {self.community_id!r}: {e}") from e
        except sqlite3.IntegrityError as e:
            raise StoreError(f"seal store of {self.community_id!r} refused a write: {e}") from e

    def _reading(self) -> AbstractContextManager[_SQLiteCursor]:
        # Statements on their own, without BEGIN and COMMIT: what is read here (tree
        # nodes, checkpoints, chain rows) never changes once written.
        return self._transaction(None, read_only=True)

    def _writing(self) -> AbstractContextManager[_SQLiteCursor]:
        return self._transaction("BEGIN IMMEDIATE", read_only=False)

    def _locked(self) -> AbstractContextManager[_SQLiteCursor]:
        return self._transaction("BEGIN IMMEDIATE", read_only=False)
