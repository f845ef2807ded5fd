"""Raw access to a community's events table, bypassing gongkai, for tamper tests.

A hostile administrator can do anything the database lets its owner do: here that is
switching off the append-only triggers and rewriting rows. Rows are handled in their
stored representation (SQLite keeps originator IDs as hex text, PostgreSQL as uuid).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COLUMNS = ("seq", "prev_hash", "hash", "originator_id", "originator_version", "topic", "state")
Row = dict[str, Any]


@dataclass
class RawTable:
    backend: str
    url: str
    community_id: str

    @property
    def table(self) -> str:
        return f"{self.community_id}_events"

    def read(self) -> list[Row]:
        raise NotImplementedError

    def replace_all(self, rows: list[Row]) -> None:
        """Replace the whole table's contents, triggers off."""
        raise NotImplementedError

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        """Run one statement as the table's owner, triggers on."""
        raise NotImplementedError


class SQLiteRawTable(RawTable):
    @property
    def path(self) -> Path:
        main = Path(self.url.removeprefix("sqlite:///"))
        return main.with_name(f"{main.stem}.{self.community_id}{main.suffix}")

    def read(self) -> list[Row]:
        with closing(sqlite3.connect(self.path)) as conn:
            cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM {self.table} ORDER BY seq")
            return [dict(zip(COLUMNS, r, strict=True)) for r in cur.fetchall()]

    def replace_all(self, rows: list[Row]) -> None:
        with closing(sqlite3.connect(self.path)) as conn, conn:
            conn.execute(f"DROP TRIGGER IF EXISTS {self.table}_no_delete")
            conn.execute(f"DROP TRIGGER IF EXISTS {self.table}_no_update")
            conn.execute(f"DELETE FROM {self.table}")
            conn.executemany(
                f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) VALUES (?,?,?,?,?,?,?)",
                [tuple(r[c] for c in COLUMNS) for r in rows],
            )

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        with closing(sqlite3.connect(self.path)) as conn, conn:
            conn.execute(statement.format(table=self.table), params)


class PostgresRawTable(RawTable):
    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url)

    def read(self) -> list[Row]:
        with self._connect() as conn:
            cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM {self.table} ORDER BY seq")
            return [dict(zip(COLUMNS, r, strict=True)) for r in cur.fetchall()]

    def replace_all(self, rows: list[Row]) -> None:
        with self._connect() as conn:
            conn.execute(f"ALTER TABLE {self.table} DISABLE TRIGGER USER")
            conn.execute(f"DELETE FROM {self.table}")
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s)",
                    [tuple(r[c] for c in COLUMNS) for r in rows],
                )
            conn.execute(f"ALTER TABLE {self.table} ENABLE TRIGGER USER")

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        with self._connect() as conn:
            conn.execute(statement.format(table=self.table), params)


def raw_table(backend: str, url: str, community_id: str) -> RawTable:
    if backend == "sqlite":
        return SQLiteRawTable(backend, url, community_id)
    return PostgresRawTable(backend, url, community_id)
