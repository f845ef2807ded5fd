"""The PostgreSQL backend: one database, two tables and one append function per community.

Each community's entries are appended by a PL/pgSQL function of its own,
``<community>_append``, created by ``gongkai db init``. In one call it takes the
community's transaction-scoped advisory lock, reads the chain head, links and hashes the
new entries with the layout of :mod:`ledger.chain.hashing` (``gongkai_entry_hash``, PostgreSQL's
``sha256``), inserts them with the idempotency row, and returns the first ``seq``. Doing
this in the database keeps the lock held only for the insert and the commit, not for
extra client round trips, so writers of one community queue no longer than
eventsourcing's own; the verifier recomputes every hash in Python, an independent
implementation of the same layout.

No NOTIFY is sent: PostgreSQL serializes the commits of every transaction that
notifies, database-wide, which would make one community's writers wait for another's
commits. Readers of the chain poll it (see :meth:`PostgresChainedRecorder.subscribe`).

Why an advisory lock: eventsourcing takes ``LOCK TABLE ... IN EXCLUSIVE MODE``, which
PostgreSQL grants only to roles holding UPDATE, DELETE or TRUNCATE, exactly what the
service's role must not have. The lock is keyed by community, so two communities are
written in parallel, and it is held to commit, so entries commit in ``seq`` order. The
``seq`` is computed under it rather than taken from a ``bigserial``, whose values are
not gapless (a rolled-back insert leaves a hole); its primary key is the backstop.

Append-only is enforced twice: triggers refuse UPDATE, DELETE and TRUNCATE for every
role, including the owner; and ``gongkai db init --service-role ROLE`` grants the
service's role only SELECT and INSERT.

This is the only module of the ledger that imports psycopg.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Generator, Sequence
from typing import Any, Final
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    InterfaceError,
    Notification,
    OperationalError,
    PersistenceError,
    StoredEvent,
    Subscription,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ledger.chain.hashing import ChainedEvent, Head
from ledger.errors import StoreError, UnknownCommunityError
from ledger.store.backend import Store
from ledger.store.base import (
    REGISTRY_TABLE,
    CommandRecord,
    Community,
    DuplicateCommandError,
    RawRow,
    StoredCommand,
    check_community_id,
    commands_table,
    events_table,
)
from ledger.store.postgres.seal import PostgresSealStore, close_read_connections, seal_ddl
from ledger.store.recorder import ChainedRecorder
from ledger.store.seal import seal_tables, tree_table

SCHEMA: Final = "public"
BEGIN: Final = sql.SQL("BEGIN")
COMMIT: Final = sql.SQL("COMMIT")
LOCK_TIMEOUT_SECONDS: Final = 60
REFUSE_FUNCTION: Final = "gongkai_refuse_change"
# Serializes concurrent 'db init' runs: DDL on the same catalog rows from two sessions
# at once fails with "tuple concurrently updated".
_SCHEMA_LOCK_KEY: Final = 0x676F6E676B6169  # "gongkai"


def _advisory_key(table: str) -> int:
    """A signed 64-bit advisory lock key for one community's writers."""
    digest = hashlib.sha256(f"gongkai:{SCHEMA}.{table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def _refuse_function_ddl() -> sql.Composed:
    return sql.SQL(
        "CREATE OR REPLACE FUNCTION {schema}.{fn}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'gongkai: % on %.% refused: the table is append-only', "
        "TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END $$"
    ).format(schema=_ident(SCHEMA), fn=_ident(REFUSE_FUNCTION))


def _append_only_ddl(table: str, service_role: str | None) -> list[sql.Composed]:
    target = _ident(SCHEMA, table)
    fn = _ident(SCHEMA, REFUSE_FUNCTION)
    statements = [
        sql.SQL(
            "CREATE OR REPLACE TRIGGER {name} BEFORE UPDATE OR DELETE ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION {fn}()"
        ).format(name=_ident(f"{table}_append_only"), t=target, fn=fn),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER {name} BEFORE TRUNCATE ON {t} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        ).format(name=_ident(f"{table}_no_truncate"), t=target, fn=fn),
        sql.SQL("REVOKE ALL ON {t} FROM PUBLIC").format(t=target),
    ]
    if service_role:
        statements += [
            sql.SQL("REVOKE ALL ON {t} FROM {role}").format(t=target, role=_ident(service_role)),
            sql.SQL("GRANT SELECT, INSERT ON {t} TO {role}").format(
                t=target, role=_ident(service_role)
            ),
        ]
    return statements


def _hash_functions_ddl() -> list[sql.Composed]:
    """The chain's byte layout (see ledger.chain.hashing) in SQL. int8send and int4send give
    big-endian bytes; sequence numbers, versions and lengths are never negative."""
    return [
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {schema}.gongkai_genesis_hash(community text) "
            "RETURNS bytea LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
            "SELECT sha256(convert_to(E'gongkai/chain/v1/genesis\\n', 'UTF8') "
            "|| convert_to(community, 'UTF8')) $$"
        ).format(schema=_ident(SCHEMA)),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {schema}.gongkai_entry_hash(seq bigint, prev_hash bytea, "
            "originator_id uuid, originator_version bigint, topic text, state bytea) "
            "RETURNS bytea LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
            "SELECT sha256(convert_to(E'gongkai/chain/v1/entry\\n', 'UTF8') "
            "|| int8send(seq) || prev_hash || uuid_send(originator_id) "
            "|| int8send(originator_version) "
            "|| int4send(octet_length(convert_to(topic, 'UTF8'))) || convert_to(topic, 'UTF8') "
            "|| int4send(octet_length(state)) || state) $$"
        ).format(schema=_ident(SCHEMA)),
    ]


def _append_function_ddl(community_id: str) -> sql.Composed:
    """``<community>_append``: lock, read the head, chain, insert, record the command.
    Community IDs are checked to be ``[a-z][a-z0-9_]*``, so they are safe in the body."""
    events = events_table(community_id)
    body = f"""
DECLARE
  head_seq bigint;
  head_hash bytea;
  n integer := cardinality(states);
  seqs bigint[] := '{{}}';
  prevs bytea[] := '{{}}';
  hashes bytea[] := '{{}}';
BEGIN
  -- Before the lock: what does not depend on the head. A second attempt with the same
  -- idempotency key fails here, on the key, without queueing for the lock.
  IF command_key IS NOT NULL THEN
    INSERT INTO {SCHEMA}."{commands_table(community_id)}"
        (idempotency_key, fingerprint, result, originator_id, originator_version,
         event_count, recorded_at)
      VALUES (command_key, command_fingerprint, command_result, originator_ids[1],
              originator_versions[1], n, now());
  END IF;
  PERFORM pg_advisory_xact_lock({_advisory_key(events)});
  SELECT e.seq, e.hash INTO head_seq, head_hash
    FROM {SCHEMA}."{events}" e ORDER BY e.seq DESC LIMIT 1;
  IF NOT FOUND THEN
    head_seq := 0;
    head_hash := {SCHEMA}.gongkai_genesis_hash('{community_id}');
  END IF;
  FOR i IN 1 .. n LOOP
    seqs[i] := head_seq + i;
    prevs[i] := head_hash;
    head_hash := {SCHEMA}.gongkai_entry_hash(head_seq + i, head_hash, originator_ids[i],
                                            originator_versions[i], topics[i], states[i]);
    hashes[i] := head_hash;
  END LOOP;
  INSERT INTO {SCHEMA}."{events}"
      (seq, prev_hash, hash, originator_id, originator_version, topic, state)
    SELECT * FROM unnest(seqs, prevs, hashes, originator_ids, originator_versions, topics,
                         states);
  RETURN head_seq + 1;
END"""
    return sql.SQL(
        "CREATE OR REPLACE FUNCTION {fn}(originator_ids uuid[], originator_versions bigint[], "
        "topics text[], states bytea[], command_key text, command_fingerprint bytea, "
        "command_result text) RETURNS bigint LANGUAGE plpgsql "
        "SET lock_timeout = '{timeout}s' AS {body}"
    ).format(
        fn=_ident(SCHEMA, f"{community_id}_append"),
        timeout=sql.SQL(str(LOCK_TIMEOUT_SECONDS)),
        body=sql.Literal(body),
    )


def community_ddl(community_id: str, service_role: str | None) -> list[sql.Composed]:
    events = events_table(community_id)
    commands = commands_table(community_id)
    return [
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {t} ("
            "seq bigint PRIMARY KEY, "
            "prev_hash bytea NOT NULL, "
            "hash bytea NOT NULL, "
            "originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, "
            "topic text NOT NULL, "
            "state bytea NOT NULL, "
            "UNIQUE (originator_id, originator_version))"
        ).format(t=_ident(SCHEMA, events)),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {t} ("
            "idempotency_key text PRIMARY KEY, "
            "fingerprint bytea NOT NULL, "
            "result text NOT NULL, "
            "originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, "
            "event_count integer NOT NULL, "
            "recorded_at timestamptz NOT NULL)"
        ).format(t=_ident(SCHEMA, commands)),
        *seal_ddl(community_id),
        *[
            statement
            for table in (events, commands, *seal_tables(community_id))
            for statement in _append_only_ddl(table, service_role)
        ],
        _append_function_ddl(community_id),
    ]


class PostgresChainedRecorder(ChainedRecorder, PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder, with every insert chained."""

    def __init__(self, datastore: PostgresDatastore, community_id: str) -> None:
        self.community_id = check_community_id(community_id)
        super().__init__(datastore, events_table_name=events_table(community_id))
        events = _ident(SCHEMA, self.events_table_name)
        commands = _ident(SCHEMA, commands_table(community_id))
        # Tables are made by 'gongkai db init', never by the running service.
        self.sql_create_statements = []
        self.append_statement = sql.SQL(
            "SELECT {fn}(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], %s, %s, %s)"
        ).format(fn=_ident(SCHEMA, f"{community_id}_append"))
        self.duplicate_command_constraint = f"{commands_table(community_id)}_pkey"
        self.select_head_statement = sql.SQL(
            "SELECT seq, hash FROM {t} ORDER BY seq DESC LIMIT 1"
        ).format(t=events)
        self.select_command_statement = sql.SQL(
            "SELECT c.idempotency_key, c.fingerprint, c.result, e.seq AS first_seq, "
            "e.seq + c.event_count - 1 AS last_seq FROM {c} c JOIN {e} e "
            "ON e.originator_id = c.originator_id AND e.originator_version = c.originator_version "
            "WHERE c.idempotency_key = %s"
        ).format(c=commands, e=events)
        self.select_chain_statement = sql.SQL(
            "SELECT seq, prev_hash, hash, originator_id, originator_version, topic, state "
            "FROM {t} WHERE seq > %s ORDER BY seq LIMIT %s"
        ).format(t=events)
        self.select_seq_statement = sql.SQL(
            "SELECT seq FROM {t} WHERE originator_id = %s AND originator_version = %s"
        ).format(t=events)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        command: CommandRecord | None = kwargs.get("command")
        params = (
            [s.originator_id for s in stored_events],
            [s.originator_version for s in stored_events],
            [s.topic for s in stored_events],
            [s.state for s in stored_events],
            command.idempotency_key if command else None,
            command.fingerprint if command else None,
            command.result if command else None,
        )
        # BEGIN, the append and COMMIT go to the server in one round trip: the commit
        # does not wait for the append's answer to reach this process and come back,
        # so the community's lock is held only for the server's own work. If the
        # append fails, the server skips the COMMIT and the transaction is rolled back.
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline() as pipeline:
                    conn.execute(BEGIN)
                    append = conn.execute(self.append_statement, params, prepare=True)
                    conn.execute(COMMIT)
                    pipeline.sync()
                row = append.fetchone()
            except psycopg.Error as e:
                conn.rollback()
                translated = self._translate(e)
                raise translated from (None if translated is e else e)
        assert row is not None
        first_seq = int(next(iter(row.values())))
        return list(range(first_seq, first_seq + len(stored_events)))

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        """Not offered: appends send no NOTIFY (see the module docstring), so a
        LISTEN-based subscription would never wake. Poll ``select_notifications``."""
        msg = "gongkai's PostgreSQL recorder sends no notifications: poll the chain instead"
        raise NotImplementedError(msg)

    def _translate(self, error: Exception) -> Exception:
        if (
            isinstance(error, psycopg.errors.UniqueViolation)
            and error.diag.constraint_name == self.duplicate_command_constraint
        ):
            return DuplicateCommandError(str(error))
        return _translate(error)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        if start is not None:
            clauses.append(sql.SQL("seq >= %s" if inclusive_of_start else "seq > %s"))
            params.append(start)
        if stop is not None:
            clauses.append(sql.SQL("seq <= %s"))
            params.append(stop)
        if topics:
            clauses.append(sql.SQL("topic = ANY(%s)"))
            params.append(list(topics))
        where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("")
        statement = sql.SQL(
            "SELECT seq, originator_id, originator_version, topic, state FROM {t}{w} "
            "ORDER BY seq LIMIT %s"
        ).format(t=_ident(SCHEMA, self.events_table_name), w=where)
        params.append(limit)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                Notification(
                    id=row["seq"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def max_notification_id(self) -> int | None:
        return self.head().seq

    def _fetchone(self, statement: sql.Composed, params: Sequence[Any] = ()) -> Any:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return curs.fetchone()

    def head(self) -> Head:
        row = self._fetchone(self.select_head_statement)
        return Head(row["seq"], row["hash"]) if row else Head(0, b"")

    def find_command(self, idempotency_key: str) -> StoredCommand | None:
        row = self._fetchone(self.select_command_statement, (idempotency_key,))
        if row is None:
            return None
        return StoredCommand(
            row["idempotency_key"],
            bytes(row["fingerprint"]),
            row["result"],
            row["first_seq"],
            row["last_seq"],
        )

    def seq_of(self, originator_id: UUID, originator_version: int) -> int | None:
        row = self._fetchone(self.select_seq_statement, (originator_id, originator_version))
        return int(row["seq"]) if row else None

    def read_chain(self, *, after: int = 0, limit: int = 100) -> list[ChainedEvent]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_chain_statement, (after, limit), prepare=True)
            return [
                ChainedEvent(
                    r["seq"],
                    bytes(r["prev_hash"]),
                    bytes(r["hash"]),
                    r["originator_id"],
                    r["originator_version"],
                    r["topic"],
                    bytes(r["state"]),
                )
                for r in curs.fetchall()
            ]


def _translate(error: Exception) -> Exception:
    if isinstance(error, PersistenceError | DuplicateCommandError):
        return error
    if isinstance(error, psycopg.errors.IntegrityError):
        return IntegrityError(str(error))
    if isinstance(error, psycopg.OperationalError):
        return OperationalError(str(error))
    if isinstance(error, psycopg.InterfaceError):
        return InterfaceError(str(error))
    if isinstance(error, psycopg.Error):
        return PersistenceError(str(error))
    return error


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
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {t} (id text PRIMARY KEY, "
                        "name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
                    ).format(t=_ident(SCHEMA, REGISTRY_TABLE))
                )
                conn.execute(_refuse_function_ddl())
                for statement in _hash_functions_ddl():
                    conn.execute(statement)
                for statement in _append_only_ddl(REGISTRY_TABLE, service_role):
                    conn.execute(statement)
                if service_role:
                    # Tables made later by this role (new communities) get the same grants.
                    conn.execute(
                        sql.SQL(
                            "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} "
                            "GRANT SELECT, INSERT ON TABLES TO {role}"
                        ).format(s=_ident(SCHEMA), role=_ident(service_role))
                    )
                rows = conn.execute(
                    sql.SQL("SELECT id FROM {t}").format(t=_ident(SCHEMA, REGISTRY_TABLE))
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
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
                registry = _ident(SCHEMA, REGISTRY_TABLE)
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
                        t=_ident(SCHEMA, REGISTRY_TABLE)
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
            community_id, self._datastore, _advisory_key(tree_table(community_id))
        )

    def chain_rows(
        self, community_id: str, *, batch_size: int = 10_000
    ) -> Generator[RawRow, None, None]:
        table = _ident(SCHEMA, events_table(community_id))
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
                    t=_ident(SCHEMA, events_table(community_id))
                )
            ).fetchone()
        return int(row[0] or 0) if row else 0

    def close(self) -> None:
        with self._lock:
            self._recorders.clear()
        close_read_connections(self._datastore)
        self._datastore.close()
