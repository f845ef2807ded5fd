"""The seal's tables in PostgreSQL (see :mod:`ledger.store.seal`).

The seal lock is a transaction-scoped advisory lock keyed by the community's tree table,
a different key from the one its appends take: extending the tree or signing a
checkpoint never makes a writer of events wait.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cache
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql
from psycopg.rows import tuple_row

from ledger.errors import StoreError
from ledger.store.seal import (
    SealStore,
    checkpoints_table,
    cosignatures_table,
    cosigners_table,
    tree_table,
)


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


class _PostgresCursor:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._cursor = conn.cursor(row_factory=tuple_row)

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
    """The seal tables of one community, through the store's connection pool. Reads
    run as single autocommit statements (tree nodes and checkpoints never change once
    written, so no snapshot is needed), one round trip each."""

    array_params = True

    def __init__(self, community_id: str, datastore: PostgresDatastore, lock_key: int) -> None:
        super().__init__(community_id)
        self._datastore = datastore
        self._lock_key = lock_key

    @contextmanager
    def _transaction(self, *, read_only: bool, lock: bool) -> Iterator[_PostgresCursor]:
        with self._datastore.get_connection() as conn:
            try:
                if read_only:
                    yield _PostgresCursor(conn)
                    return
                with conn.transaction():
                    if lock:
                        conn.execute("SET LOCAL lock_timeout = '60s'")
                        conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                    yield _PostgresCursor(conn)
            except psycopg.errors.UndefinedTable:
                raise StoreError(
                    f"community {self.community_id!r} has no seal tables: "
                    "run 'gongkai db init' to add them"
                ) from None
            except psycopg.Error as e:
                raise StoreError(f"seal store of {self.community_id!r}: {e}") from None

    def _reading(self) -> AbstractContextManager[_PostgresCursor]:
        return self._transaction(read_only=True, lock=False)

    def _writing(self) -> AbstractContextManager[_PostgresCursor]:
        return self._transaction(read_only=False, lock=False)

    def _locked(self) -> AbstractContextManager[_PostgresCursor]:
        return self._transaction(read_only=False, lock=True)
