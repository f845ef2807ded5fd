"""The read models in PostgreSQL (see :mod:`projections.db`): a schema of the ledger's
database, reached through a small pool."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from ledger.errors import InvalidInputError, StoreError
from projections.db.base import ReadDB


@cache
def _dialect(statement: str) -> str:
    # The shared SQL uses '?' placeholders and no literal '?' or '%'.
    return statement.replace("?", "%s")


@contextmanager
def _translated(schema: str) -> Iterator[None]:
    """The driver's errors that a caller can act on, as gongkai's: a value PostgreSQL
    cannot hold (a NUL character in text) is the caller's invalid input, and a missing
    table means the database was never set up; SQLite takes the first and has no
    second, as its file is made by 'gongkai db init' too."""
    try:
        yield
    except psycopg.errors.UndefinedTable as error:
        raise StoreError(
            f"the database has no {schema} tables: run 'gongkai db init' first"
        ) from error
    except psycopg.DataError as error:
        raise InvalidInputError(f"a value the database cannot hold: {error}") from error


class _PostgresTx:
    def __init__(self, conn: psycopg.Connection[Any], schema: str) -> None:
        self._conn = conn
        self._schema = schema

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        with _translated(self._schema):
            self._conn.execute(_dialect(statement), params)

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        with _translated(self._schema), self._conn.cursor() as cursor:
            cursor.executemany(_dialect(statement), list(rows))

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with _translated(self._schema):
            return self._conn.execute(_dialect(statement), params).fetchall()


class PostgresReadDB(ReadDB):
    dialect = "postgres"

    def __init__(self, url: str, schema: str, *, create: bool = True) -> None:
        if create:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
        self.schema = schema
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=4,
            kwargs={"options": f"-c search_path={schema}"},
            open=True,
        )

    @contextmanager
    def transaction(self) -> Iterator[_PostgresTx]:
        with self._pool.connection() as conn, conn.transaction():
            yield _PostgresTx(conn, self.schema)

    @contextmanager
    def reading(self) -> Iterator[_PostgresTx]:
        with self._pool.connection() as conn:
            conn.read_only = True
            try:
                with conn.transaction():
                    yield _PostgresTx(conn, self.schema)
            finally:
                conn.read_only = False

    def grant(self, role: str) -> None:
        with self._pool.connection() as conn, conn.transaction():
            params = {"s": sql.Identifier(self.schema), "r": sql.Identifier(role)}
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {s} TO {r}").format(**params))
            conn.execute(
                sql.SQL(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}"
                ).format(**params)
            )

    def close(self) -> None:
        self._pool.close()
