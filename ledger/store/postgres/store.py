"""The PostgreSQL store: the registry of communities, ``gongkai db init`` (schema,
roles, grants, under a schema-wide advisory lock), each community's recorder and seal
store, and the raw reads the verifier makes."""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ledger.errors import StoreError, UnknownCommunityError
from ledger.store.backend import Store
from ledger.store.base import (
    REGISTRY_TABLE,
    Community,
    RawRow,
    check_community_id,
    events_table,
    tree_table,
)
from ledger.store.postgres.ddl import (
    SCHEMA,
    SCHEMA_LOCK_KEY,
    advisory_key,
    append_only_ddl,
    community_ddl,
    hash_functions_ddl,
    ident,
    refuse_function_ddl,
)
from ledger.store.postgres.recorder import PostgresChainedRecorder
from ledger.store.postgres.seal import PostgresSealStore, close_read_connections


class PostgresStore(Store):
    """One PostgreSQL database; see the module docstring."""

    def __init__(self, url: str, *, pool_size: int = 4, max_overflow: int = 12) -> None:
        self.url = url
        try:
            params = conninfo_to_dict(url)
        except psycopg.ProgrammingError as e:
            raise StoreError(f"not a PostgreSQL URL: {e}") from None
        self._conninfo = make_conninfo(
            "", **{k: str(v) for k, v in params.items() if v is not None}
        )
        self._datastore = PostgresDatastore(
            dbname=str(params.get("dbname") or "postgres"),
            host=str(params.get("host") or "localhost"),
            port=str(params.get("port") or "5432"),
            user=str(params.get("user") or ""),
            password=str(params.get("password") or ""),
            pool_size=pool_size,
            max_overflow=max_overflow,
            lock_timeout=60,
        )
        self._lock = threading.Lock()
        self._recorders: dict[str, PostgresChainedRecorder] = {}

    def connect(
        self, *, autocommit: bool = True, read_only: bool = False
    ) -> psycopg.Connection[Any]:
        """A connection of its own, outside the pool (DDL, and the verifier's raw reads,
        which run with every transaction read-only)."""
        options = "-c default_transaction_read_only=on" if read_only else None
        try:
            return psycopg.connect(self._conninfo, autocommit=autocommit, options=options)
        except psycopg.Error as e:
            raise StoreError(f"cannot connect to PostgreSQL: {e}") from None

    def init_schema(self, *, service_role: str | None = None) -> None:
        with self.connect(autocommit=False) as conn:
            try:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {t} (id text PRIMARY KEY, "
                        "name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
                    ).format(t=ident(SCHEMA, REGISTRY_TABLE))
                )
                conn.execute(refuse_function_ddl())
                for statement in hash_functions_ddl():
                    conn.execute(statement)
                for statement in append_only_ddl(REGISTRY_TABLE, service_role):
                    conn.execute(statement)
                if service_role:
                    # Tables made later by this role (new communities) get the same grants.
                    conn.execute(
                        sql.SQL(
                            "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} "
                            "GRANT SELECT, INSERT ON TABLES TO {role}"
                        ).format(s=ident(SCHEMA), role=ident(service_role))
                    )
                rows = conn.execute(
                    sql.SQL("SELECT id FROM {t}").format(t=ident(SCHEMA, REGISTRY_TABLE))
                ).fetchall()
                for (community_id,) in rows:
                    for statement in community_ddl(community_id, service_role):
                        conn.execute(statement)
                conn.commit()
            except psycopg.Error as e:
                raise StoreError(f"cannot create the schema: {e}") from None

    def add_community(self, community: Community) -> None:
        check_community_id(community.id)
        with self.connect(autocommit=False) as conn:
            try:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
                registry = ident(SCHEMA, REGISTRY_TABLE)
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {t} (id, name) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING"
                    ).format(t=registry),
                    (community.id, community.name),
                )
                row = conn.execute(
                    sql.SQL("SELECT name FROM {t} WHERE id = %s").format(t=registry),
                    (community.id,),
                ).fetchone()
                if row is None or row[0] != community.name:
                    raise StoreError(
                        f"community {community.id!r} already exists as {row and row[0]!r}"
                    )
                for statement in community_ddl(community.id, None):
                    conn.execute(statement)
                conn.commit()
            except psycopg.errors.UndefinedTable:
                raise StoreError(
                    "the database has no gongkai tables: run 'gongkai db init' first"
                ) from None
            except psycopg.Error as e:
                raise StoreError(f"cannot add community {community.id!r}: {e}") from None

    def communities(self) -> list[Community]:
        with self.connect(read_only=True) as conn:
            try:
                rows = conn.execute(
                    sql.SQL("SELECT id, name FROM {t} ORDER BY id").format(
                        t=ident(SCHEMA, REGISTRY_TABLE)
                    )
                ).fetchall()
            except psycopg.errors.UndefinedTable:
                raise StoreError(
                    "the database has no gongkai tables: run 'gongkai db init' first"
                ) from None
        return [Community(id=r[0], name=r[1]) for r in rows]

    def recorder(self, community_id: str) -> PostgresChainedRecorder:
        with self._lock:
            recorder = self._recorders.get(community_id)
            if recorder is None:
                self.community(community_id)  # raises UnknownCommunityError
                recorder = PostgresChainedRecorder(self._datastore, community_id)
                self._recorders[community_id] = recorder
            return recorder

    def seal(self, community_id: str) -> PostgresSealStore:
        self.community(community_id)
        return PostgresSealStore(
            community_id, self._datastore, advisory_key(tree_table(community_id))
        )

    def chain_rows(
        self, community_id: str, *, batch_size: int = 10_000
    ) -> Generator[RawRow, None, None]:
        table = ident(SCHEMA, events_table(community_id))
        # Raw bytes straight from the server: uuid_send gives the UUID's 16 bytes and
        # convert_to the topic's stored UTF-8, so nothing is decoded on the way.
        with (
            self.connect(autocommit=False, read_only=True) as conn,
            conn.cursor(name="gongkai_verify", binary=True) as cursor,
        ):
            cursor.itersize = batch_size
            try:
                cursor.execute(
                    sql.SQL(
                        "SELECT seq, prev_hash, hash, uuid_send(originator_id), "
                        "originator_version, convert_to(topic, 'UTF8'), state "
                        "FROM {t} ORDER BY seq"
                    ).format(t=table)
                )
            except psycopg.errors.UndefinedTable:
                raise UnknownCommunityError(
                    f"no log for community {community_id!r} in this database"
                ) from None
            while batch := cursor.fetchmany(batch_size):
                yield from batch

    def max_seq(self, community_id: str) -> int:
        with self.connect(read_only=True) as conn:
            row = conn.execute(
                sql.SQL("SELECT max(seq) FROM {t}").format(
                    t=ident(SCHEMA, events_table(community_id))
                )
            ).fetchone()
        return int(row[0] or 0) if row else 0

    def close(self) -> None:
        with self._lock:
            self._recorders.clear()
        close_read_connections(self._datastore)
        self._datastore.close()
