"""A community's chained eventsourcing recorder on SQLite. A writer takes the file's
write lock with ``BEGIN IMMEDIATE`` before it reads the chain head, then links, hashes
and inserts its entries with the command's idempotency row in that one transaction."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from ledger.chain.hashing import (
    ChainedEvent,
    Head,
    entry_hash_from_suffix,
    entry_suffix,
    genesis_hash,
)
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
from ledger.store.recorder import ChainedRecorder
from ledger.store.sqlite.ddl import community_ddl

# After finding its last head stale, a writer reads the head for this many appends.
READ_HEAD_AFTER_COLLISION: Final = 64


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """A stored event ready to be chained: its columns, and the part of its hash
    preimage that does not depend on its place in the chain."""

    columns: tuple[str, int, str, bytes]  # originator_id hex, version, topic, state
    suffix: bytes

    @property
    def originator_id_hex(self) -> str:
        return self.columns[0]

    @property
    def originator_version(self) -> int:
        return self.columns[1]

    @classmethod
    def of(cls, s: StoredEvent) -> PendingEntry:
        if not isinstance(s.originator_id, UUID):
            raise TypeError(f"originator IDs must be UUIDs, not {s.originator_id!r}")
        return cls(
            (s.originator_id.hex, s.originator_version, s.topic, s.state),
            entry_suffix(s.originator_id.bytes, s.originator_version, s.topic.encode(), s.state),
        )

    def hash_at(self, seq: int, prev_hash: bytes) -> bytes:
        return entry_hash_from_suffix(seq, prev_hash, self.suffix)


def _translate(error: sqlite3.Error) -> PersistenceError:
    if isinstance(error, sqlite3.IntegrityError):
        return IntegrityError(str(error))
    if isinstance(error, sqlite3.OperationalError):
        return OperationalError(str(error))
    return PersistenceError(str(error))


class SQLiteChainedRecorder(ChainedRecorder, SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder, with every insert chained."""

    def __init__(self, datastore: SQLiteDatastore, community_id: str) -> None:
        self.community_id = check_community_id(community_id)
        self.commands_table_name = commands_table(community_id)
        super().__init__(datastore, events_table_name=events_table(community_id))
        t = self.events_table_name
        self.insert_events_statement = (
            f"INSERT INTO {t} (seq, prev_hash, hash, originator_id, originator_version, "
            "topic, state) VALUES (?,?,?,?,?,?,?)"
        )
        self.select_head_statement = f"SELECT seq, hash FROM {t} ORDER BY seq DESC LIMIT 1"
        self.insert_command_statement = (
            f"INSERT INTO {self.commands_table_name} (idempotency_key, fingerprint, result, "
            "originator_id, originator_version, event_count, recorded_at) "
            "VALUES (?,?,?,?,?,?,strftime('%Y-%m-%dT%H:%M:%fZ','now')) "
            "ON CONFLICT (idempotency_key) DO NOTHING"
        )
        self.keys_table_name = personal_keys_table(community_id)
        self.genesis = genesis_hash(community_id)
        # The head this process last committed, and how many appends should read the
        # head instead of trusting it; see _append.
        self._last_head: Head | None = None
        self._trust_last_head = 0

    def construct_create_table_statements(self) -> list[str]:
        return community_ddl(self.community_id)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        # Everything that does not depend on the chain's head is prepared before the
        # write lock is taken, so that writers queue for as short a time as possible.
        pending = [PendingEntry.of(s) for s in stored_events]
        command: CommandRecord | None = kwargs.get("command")
        erase_key: str | None = kwargs.get("erase_key")
        with self.datastore.get_connection(commit=True) as conn:
            curs = conn.cursor()
            try:
                if erase_key is not None:
                    # Deleted content is overwritten with zeros, not left in free space.
                    curs.execute("PRAGMA secure_delete=ON")
                curs.execute("BEGIN IMMEDIATE")
                try:
                    head = self._append(curs.sqlite_cursor, pending, command)
                    if erase_key is not None:
                        self._destroy_key(curs.sqlite_cursor, erase_key)
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
            except sqlite3.Error as e:
                raise _translate(e) from e
            finally:
                curs.sqlite_cursor.close()
            if erase_key is not None:
                self._truncate_wal(conn.cursor())
        self._last_head = head
        return list(range(head.seq - len(pending) + 1, head.seq + 1))

    def _append(
        self, c: sqlite3.Cursor, pending: list[PendingEntry], command: CommandRecord | None
    ) -> Head:
        """Inside the write transaction: record the command, link and insert the entries;
        returns the new head."""
        if command is not None:
            first = pending[0]
            c.execute(
                self.insert_command_statement,
                (
                    command.idempotency_key,
                    command.fingerprint,
                    command.result,
                    first.originator_id_hex,
                    first.originator_version,
                    len(pending),
                ),
            )
            if c.rowcount == 0:
                raise DuplicateCommandError(command.idempotency_key)
        # The head this process last committed saves a read. If another writer has
        # appended since, the first new seq is taken and the primary key refuses it;
        # then the head is read, and is read for the next appends too, since other
        # writers are evidently busy.
        head = self._last_head if self._trust_last_head <= 0 else None
        self._trust_last_head -= 1
        if head is None:
            head = self._read_head(c)
        try:
            return self._insert_rows(c, head, pending)
        except sqlite3.IntegrityError as e:
            if not str(e).endswith(f"{self.events_table_name}.seq"):
                raise
        self._trust_last_head = READ_HEAD_AFTER_COLLISION
        return self._insert_rows(c, self._read_head(c), pending)

    def _destroy_key(self, c: sqlite3.Cursor, key_id: str) -> None:
        """Inside the write transaction of the erasure's event: the key becomes NULL."""
        c.execute(
            f"UPDATE {self.keys_table_name} SET key = NULL, erased_at = ? "
            "WHERE key_id = ? AND key IS NOT NULL",
            (_now(), key_id),
        )
        if c.rowcount != 1:
            raise IntegrityError(f"personal key {key_id} is not held, or is already erased")

    @staticmethod
    def _truncate_wal(curs: SQLiteCursor) -> None:
        """Copy the write-ahead log into the file and empty it, so that the page images
        holding the destroyed key do not linger in it. A reader still in a transaction
        holds a checkpoint back; the next erasure (or SQLite's own checkpoints, which
        reuse the log from its start) overwrite those frames later."""
        try:
            curs.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            curs.fetchall()
        finally:
            curs.sqlite_cursor.close()

    def personal_key(self, person_id: str) -> PersonalKey | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT person_id, key_id, key, created_at, erased_at "
                f"FROM {self.keys_table_name} WHERE person_id = ?",
                (person_id,),
            )
            row = c.fetchone()
        return PersonalKey(*row) if row else None

    def add_personal_key(self, person_id: str, key_id: str, key: bytes) -> PersonalKey:
        with self.datastore.transaction(commit=True) as c:
            c.execute("PRAGMA secure_delete=ON")
            c.execute(
                f"INSERT INTO {self.keys_table_name} (key_id, person_id, key, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (person_id) DO NOTHING",
                (key_id, person_id, key, _now()),
            )
        found = self.personal_key(person_id)
        assert found is not None
        return found

    def personal_keys(self, key_ids: Collection[str]) -> dict[str, bytes | None]:
        wanted = sorted(set(key_ids))
        if not wanted:
            return {}
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT key_id, key FROM {self.keys_table_name} "
                f"WHERE key_id IN ({','.join('?' * len(wanted))})",
                wanted,
            )
            return {row[0]: row[1] for row in c.fetchall()}

    def erased_people(self) -> dict[str, str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT person_id, erased_at FROM {self.keys_table_name} "
                "WHERE erased_at IS NOT NULL"
            )
            return {row[0]: row[1] for row in c.fetchall()}

    def _read_head(self, c: sqlite3.Cursor) -> Head:
        row = c.execute(self.select_head_statement).fetchone()
        return Head(row[0], row[1]) if row else Head(0, b"")

    def _insert_rows(self, c: sqlite3.Cursor, head: Head, pending: list[PendingEntry]) -> Head:
        seq, prev = head.seq, head.hash if head.seq else self.genesis
        rows = []
        for entry in pending:
            seq += 1
            digest = entry.hash_at(seq, prev)
            rows.append((seq, prev, digest, *entry.columns))
            prev = digest
        if len(rows) == 1:
            c.execute(self.insert_events_statement, rows[0])
        else:
            c.executemany(self.insert_events_statement, rows)
        return Head(seq, prev)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        # The library reads "rowid", which SQLite names after our INTEGER PRIMARY KEY.
        clauses: list[str] = []
        params: list[Any] = []
        if start is not None:
            clauses.append("seq>=?" if inclusive_of_start else "seq>?")
            params.append(start)
        if stop is not None:
            clauses.append("seq<=?")
            params.append(stop)
        if topics:
            clauses.append(f"topic IN ({','.join('?' * len(topics))})")
            params.extend(topics)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        statement = (
            "SELECT seq, originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} {where}ORDER BY seq LIMIT ?"
        )
        params.append(limit)
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [
                Notification(
                    id=row[0],
                    originator_id=UUID(row[1]),
                    originator_version=row[2],
                    topic=row[3],
                    state=row[4],
                )
                for row in c.fetchall()
            ]

    def _max_notification_id(self, c: SQLiteCursor) -> int:
        c.execute(f"SELECT MAX(seq) FROM {self.events_table_name}")
        value: int | None = c.fetchone()[0]
        return value or 0

    def head(self) -> Head:
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_head_statement)
            row = c.fetchone()
        return Head(row[0], row[1]) if row else Head(0, b"")

    def find_command(self, idempotency_key: str) -> StoredCommand | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT c.idempotency_key, c.fingerprint, c.result, e.seq, "
                "e.seq + c.event_count - 1 "
                f"FROM {self.commands_table_name} c JOIN {self.events_table_name} e "
                "ON e.originator_id = c.originator_id "
                "AND e.originator_version = c.originator_version "
                "WHERE c.idempotency_key=?",
                (idempotency_key,),
            )
            row = c.fetchone()
        return StoredCommand(*row) if row else None

    def seq_of(self, originator_id: UUID, originator_version: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT seq FROM {self.events_table_name} "
                "WHERE originator_id=? AND originator_version=?",
                (originator_id.hex, originator_version),
            )
            row = c.fetchone()
        return int(row[0]) if row else None

    def read_chain(self, *, after: int = 0, limit: int = 100) -> list[ChainedEvent]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT seq, prev_hash, hash, originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} WHERE seq>? ORDER BY seq LIMIT ?",
                (after, limit),
            )
            rows = c.fetchall()
        return [ChainedEvent(r[0], r[1], r[2], UUID(r[3]), r[4], r[5], r[6]) for r in rows]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
