"""The seal's tables in PostgreSQL (see :mod:`ledger.store.seal`).

The seal lock is a transaction-scoped advisory lock keyed by the community's tree table,
a different key from the one its appends take: extending the tree or signing a
checkpoint never makes a writer of events wait.

Reads do not go through the store's pool but through a few connections of their own
(:class:`_ReadConnections`): a proof is one indexed query of about 70 µs in the server,
and the pool's checkout, which hands its connections out in turn so that each read
wakes another server process, cost more than the query.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cache
from typing import Any, Final

import psycopg
from eventsourcing.postgres import ConnectionPool, PostgresDatastore
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row

from ledger.errors import StoreError
from ledger.store.base import (
    Node,
    checkpoints_table,
    cosignatures_table,
    cosigners_table,
    tree_table,
)
from ledger.store.seal import SealStore


def seal_ddl(community_id: str) -> list[sql.Composed]:
    """The seal's tables; the caller adds the append-only triggers and grants."""
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {t} (level integer NOT NULL, idx bigint NOT NULL, "
            "hash bytea NOT NULL, PRIMARY KEY (level, idx))"
        ).format(t=sql.Identifier(tree_table(community_id))),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {t} (tree_size bigint PRIMARY KEY, root bytea NOT NULL, "
            "note text NOT NULL, signed_at text NOT NULL)"
        ).format(t=sql.Identifier(checkpoints_table(community_id))),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {t} (tree_size bigint NOT NULL, key_name text NOT NULL, "
            "key_id bytea NOT NULL, line text NOT NULL, timestamp bigint NOT NULL, "
            "added_at text NOT NULL, PRIMARY KEY (tree_size, key_name, key_id))"
        ).format(t=sql.Identifier(cosignatures_table(community_id))),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {t} (vkey text PRIMARY KEY, name text NOT NULL, "
            "key_id bytea NOT NULL, role text NOT NULL, label text NOT NULL, "
            "added_at text NOT NULL)"
        ).format(t=sql.Identifier(cosigners_table(community_id))),
    ]


@cache
def _dialect(statement: str) -> str:
    # The shared SQL uses '?' placeholders and no literal '?' or '%'.
    return statement.replace("?", "%s")


# Idle read connections kept per store: enough for a few threads reading at once.
_IDLE_READERS: Final = 4


class _ReadConnections:
    """Autocommit connections for the seal reads of one store, shared by all its seal
    stores (a :class:`PostgresSealStore` is made per request).

    A read takes the connection returned last (so a thread reading in a loop keeps one
    warm server process and its prepared statements) or opens one; at most
    ``_IDLE_READERS`` are kept between reads, so connections follow the number of reads
    in flight, not of threads. A connection that is broken, or not idle when returned
    (an interrupted query), is closed instead of kept. Closing the store's pool ends
    them: the next read finds the pool closed, and :func:`close_read_connections`
    closes them at once.
    """

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._idle: list[psycopg.Connection[Any]] = []
        self._closed = False

    def checkout(self) -> psycopg.Connection[Any]:
        # What each checkout of the pool does too: nothing once it is open, and it
        # raises PoolClosed once the store was closed.
        try:
            self._pool.open()
        except psycopg.Error:
            self.close()
            raise
        with self._lock:
            if self._idle:
                return self._idle.pop()
        # The pool's own settings (host, user, password...; psycopg_pool lets them be
        # functions), in autocommit: each read is one statement, and the tree nodes and
        # checkpoints it reads never change.
        conninfo, kwargs = self._pool.conninfo, self._pool.kwargs
        if callable(conninfo):
            conninfo = conninfo()
        if callable(kwargs):
            kwargs = kwargs()
        conn = psycopg.connect(
            conninfo, **{**(kwargs or {}), "row_factory": tuple_row, "autocommit": True}
        )
        try:
            # Left to choose, the server plans the node query anew on every execution
            # (it cannot tell how long the arrays are), which costs more than running
            # it. Every read here is a lookup by key or a range of one, and the same
            # plan suits any values.
            conn.execute("SET plan_cache_mode = force_generic_plan")
        except BaseException:
            conn.close()
            raise
        return conn

    def checkin(self, conn: psycopg.Connection[Any]) -> None:
        if conn.broken:
            # After a server restart every idle connection is dead too: drop them, so
            # that one read fails rather than one per idle connection.
            conn.close()
            self.close_idle()
            return
        if not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE:
            with self._lock:
                if not self._closed and len(self._idle) < _IDLE_READERS:
                    self._idle.append(conn)
                    return
        conn.close()

    def close_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.close_idle()


_readers: weakref.WeakKeyDictionary[PostgresDatastore, _ReadConnections] = (
    weakref.WeakKeyDictionary()
)
_readers_lock = threading.Lock()


def _read_connections(datastore: PostgresDatastore) -> _ReadConnections:
    """The read connections of the store whose datastore this is, made on first use and
    closed when the datastore is collected, if not before."""
    with _readers_lock:
        readers = _readers.get(datastore)
        if readers is None:
            readers = _readers[datastore] = _ReadConnections(datastore.pool)
            weakref.finalize(datastore, readers.close)
        return readers


def close_read_connections(datastore: PostgresDatastore) -> None:
    """Close the seal's read connections of a store that is being closed."""
    with _readers_lock:
        readers = _readers.pop(datastore, None)
    if readers is not None:
        readers.close()


class _PostgresCursor:
    def __init__(self, conn: psycopg.Connection[Any], *, binary: bool = False) -> None:
        # Binary results spare the server the hex encoding of every bytea.
        self._cursor = conn.cursor(row_factory=tuple_row, binary=binary)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # Prepared at once: a proof is one such query, and there are many.
        self._cursor.execute(_dialect(statement), params, prepare=True)
        return self._cursor.fetchall()

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        self._cursor.execute(_dialect(statement), params)
        return self._cursor.rowcount

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(_dialect(statement), rows)


class PostgresSealStore(SealStore):
    """The seal tables of one community. Writes go through the store's connection pool;
    reads through the store's read connections (see :class:`_ReadConnections`), as
    single autocommit statements (tree nodes and checkpoints never change once written,
    so no snapshot is needed), one round trip each."""

    array_params = True

    def __init__(self, community_id: str, datastore: PostgresDatastore, lock_key: int) -> None:
        super().__init__(community_id)
        self._datastore = datastore
        self._readers = _read_connections(datastore)
        self._lock_key = lock_key
        # The nodes of a proof, with their places in the request. The arrays go as
        # text ('{0,1,...}'): adapting two lists of ints costs more than parsing them.
        self._nodes_query = (
            "SELECT q.ord, t.hash FROM unnest(?::integer[], ?::bigint[]) "
            f"WITH ORDINALITY AS q(level, idx, ord) JOIN {self._tree} t USING (level, idx)"
        )

    def read_nodes(self, nodes: Sequence[Node]) -> dict[Node, bytes]:
        wanted = list(dict.fromkeys(nodes))
        if not wanted:
            return {}
        levels = "{" + ",".join(str(level) for level, _ in wanted) + "}"
        indices = "{" + ",".join(str(idx) for _, idx in wanted) + "}"
        with self._reading() as c:
            rows = c.query(self._nodes_query, (levels, indices))
        found = {wanted[ordinal - 1]: bytes(digest) for ordinal, digest in rows}
        if len(found) < len(wanted):
            # Rare: let the shared code read again and name what is missing.
            return super().read_nodes(nodes)
        return found

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except psycopg.errors.UndefinedTable:
            raise StoreError(
                f"community {self.community_id!r} has no seal tables: "
                "run 'gongkai db init' to add them"
            ) from None
        except psycopg.Error as e:
            raise StoreError(f"seal store of {self.community_id!r}: {e}") from None

    @contextmanager
    def _reading(self) -> Iterator[_PostgresCursor]:
        with self._errors():
            conn = self._readers.checkout()
            try:
                yield _PostgresCursor(conn, binary=True)
            finally:
                self._readers.checkin(conn)

    @contextmanager
    def _transaction(self, *, lock: bool) -> Iterator[_PostgresCursor]:
        with self._datastore.get_connection() as conn, self._errors(), conn.transaction():
            if lock:
                conn.execute("SET LOCAL lock_timeout = '60s'")
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            yield _PostgresCursor(conn)

    def _writing(self) -> AbstractContextManager[_PostgresCursor]:
        return self._transaction(lock=False)

    def _locked(self) -> AbstractContextManager[_PostgresCursor]:
        return self._transaction(lock=True)
