"""A community's chained eventsourcing recorder on PostgreSQL: it appends through the
community's ``<community>_append`` function (BEGIN, the call and COMMIT in one round
trip), reads the chain and its head, and finds stored commands. No NOTIFY is sent;
:meth:`PostgresChainedRecorder.subscribe` polls."""

from __future__ import annotations

from collections.abc import Collection, Sequence
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

from ledger.chain.hashing import ChainedEvent, Head
from ledger.store.base import (
    CommandRecord,
    DuplicateCommandError,
    PersonalKey,
    StoredCommand,
    check_community_id,
    commands_table,
    events_table,
    personal_keys_table,
)
from ledger.store.postgres.ddl import SCHEMA, ident
from ledger.store.recorder import ChainedRecorder

BEGIN: Final = sql.SQL("BEGIN")


COMMIT: Final = sql.SQL("COMMIT")


class PostgresChainedRecorder(ChainedRecorder, PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder, with every insert chained."""

    def __init__(self, datastore: PostgresDatastore, community_id: str) -> None:
        self.community_id = check_community_id(community_id)
        super().__init__(datastore, events_table_name=events_table(community_id))
        events = ident(SCHEMA, self.events_table_name)
        commands = ident(SCHEMA, commands_table(community_id))
        # Tables are made by 'gongkai db init', never by the running service.
        self.sql_create_statements = []
        self.append_statement = sql.SQL(
            "SELECT {fn}(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[], %s, %s, %s)"
        ).format(fn=ident(SCHEMA, f"{community_id}_append"))
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
        keys = ident(SCHEMA, personal_keys_table(community_id))
        # Destroys the key in the transaction of the erasure's event; raises (and so rolls
        # the transaction back) unless a live key was destroyed.
        self.destroy_key_statement = sql.SQL("SELECT {fn}(%s)").format(
            fn=ident(SCHEMA, f"{community_id}_destroy_key")
        )
        self.select_key_statement = sql.SQL(
            "SELECT person_id, key_id, key, created_at, erased_at FROM {k} WHERE person_id = %s"
        ).format(k=keys)
        self.insert_key_statement = sql.SQL(
            "INSERT INTO {k} (key_id, person_id, key, created_at) VALUES (%s, %s, %s, now()) "
            "ON CONFLICT (person_id) DO NOTHING"
        ).format(k=keys)
        self.select_keys_statement = sql.SQL(
            "SELECT key_id, key FROM {k} WHERE key_id = ANY(%s)"
        ).format(k=keys)
        self.select_erased_statement = sql.SQL(
            "SELECT person_id, erased_at FROM {k} WHERE erased_at IS NOT NULL"
        ).format(k=keys)
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
        erase_key: str | None = kwargs.get("erase_key")
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
                    if erase_key is not None:
                        conn.execute(self.destroy_key_statement, (erase_key,))
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
        ).format(t=ident(SCHEMA, self.events_table_name), w=where)
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

    def personal_key(self, person_id: str) -> PersonalKey | None:
        row = self._fetchone(self.select_key_statement, (person_id,))
        if row is None:
            return None
        return PersonalKey(
            row["person_id"],
            row["key_id"],
            None if row["key"] is None else bytes(row["key"]),
            row["created_at"].isoformat(),
            None if row["erased_at"] is None else row["erased_at"].isoformat(),
        )

    def add_personal_key(self, person_id: str, key_id: str, key: bytes) -> PersonalKey:
        with self.datastore.get_connection() as conn:
            conn.execute(self.insert_key_statement, (key_id, person_id, key))  # autocommit
        found = self.personal_key(person_id)
        assert found is not None
        return found

    def personal_keys(self, key_ids: Collection[str]) -> dict[str, bytes | None]:
        wanted = sorted(set(key_ids))
        if not wanted:
            return {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_keys_statement, (wanted,))
            return {
                r["key_id"]: None if r["key"] is None else bytes(r["key"]) for r in curs.fetchall()
            }

    def erased_people(self) -> dict[str, str]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_erased_statement)
            return {r["person_id"]: r["erased_at"].isoformat() for r in curs.fetchall()}

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
