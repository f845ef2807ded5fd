"""The SQLite backend: a registry file, and one file per community beside it.

``sqlite:///data/gongkai.sqlite3`` keeps the registry in ``data/gongkai.sqlite3`` and the
log of community ``tianhai`` in ``data/gongkai.tianhai.sqlite3``. One file per community
means that a write to one community never waits for SQLite's file lock held by another,
and that one community's log can be copied or handed over on its own.

Writers take SQLite's write lock with ``BEGIN IMMEDIATE`` *before* reading the chain head:
with a deferred ``BEGIN`` two processes could both read the same head and one would then
fail with "database is locked" when upgrading to a write.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Generator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
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
from ledger.store.recorder import ChainedRecorder
from ledger.store.seal import seal_tables
from ledger.store.sqlite.seal import SQLiteSealStore, seal_ddl

# Seconds a writer waits for another's write lock before giving up.
LOCK_TIMEOUT_SECONDS: Final = 60
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


def _append_only_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'gongkai: {table} is append-only'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'gongkai: {table} is append-only'); END",
    ]


def community_ddl(community_id: str) -> list[str]:
    """Tables and triggers of one community's file. STRICT makes SQLite enforce the
    column types, so a row cannot silently hold text where the chain hashed bytes."""
    events = events_table(community_id)
    commands = commands_table(community_id)
    return [
        f"CREATE TABLE IF NOT EXISTS {events} ("
        "seq INTEGER PRIMARY KEY, "
        "prev_hash BLOB NOT NULL, "
        "hash BLOB NOT NULL, "
        "originator_id TEXT NOT NULL, "
        "originator_version INTEGER NOT NULL, "
        "topic TEXT NOT NULL, "
        "state BLOB NOT NULL, "
        "UNIQUE (originator_id, originator_version)) STRICT",
        f"CREATE TABLE IF NOT EXISTS {commands} ("
        "idempotency_key TEXT PRIMARY KEY, "
        "fingerprint BLOB NOT NULL, "
        "result TEXT NOT NULL, "
        "originator_id TEXT NOT NULL, "
        "originator_version INTEGER NOT NULL, "
        "event_count INTEGER NOT NULL, "
        "recorded_at TEXT NOT NULL) STRICT, WITHOUT ROWID",
        *seal_ddl(community_id),
        *[
            t
            for table in (events, commands, *seal_tables(community_id))
            for t in _append_only_triggers(table)
        ],
    ]


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
        with self.datastore.get_connection(commit=True) as conn:
            curs = conn.cursor()
            try:
                curs.execute("BEGIN IMMEDIATE")
                try:
                    head = self._append(curs.sqlite_cursor, pending, command)
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
            except sqlite3.Error as e:
                raise _translate(e) from e
            finally:
                curs.sqlite_cursor.close()
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


class SQLiteStore(Store):
    """A registry file plus one file per community (see the module docstring)."""

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = path
        self._lock = threading.Lock()
        self._datastores: dict[str, SQLiteDatastore] = {}
        self._recorders: dict[str, SQLiteChainedRecorder] = {}
        self._seals: dict[str, SQLiteSealStore] = {}

    def community_path(self, community_id: str) -> Path:
        check_community_id(community_id)
        return self.path.with_name(f"{self.path.stem}.{community_id}{self.path.suffix}")

    def _connect_registry(self, *, read_only: bool = False) -> sqlite3.Connection:
        if not self.path.exists():
            raise StoreError(
                f"no database at {self.path}: create it with 'gongkai db init --db {self.url}'"
            )
        if read_only:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            return sqlite3.connect(uri, uri=True, timeout=LOCK_TIMEOUT_SECONDS)
        return sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_SECONDS)

    def init_schema(self, *, service_role: str | None = None) -> None:
        del service_role  # SQLite has no roles; the triggers are the lock on the door.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_SECONDS)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            with conn:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {REGISTRY_TABLE} ("
                    "id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL) STRICT"
                )
                for statement in _append_only_triggers(REGISTRY_TABLE):
                    conn.execute(statement)
        for community in self.communities():
            self._create_community_tables(community.id)

    def _create_community_tables(self, community_id: str) -> None:
        with closing(
            sqlite3.connect(self.community_path(community_id), timeout=LOCK_TIMEOUT_SECONDS)
        ) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            with conn:
                for statement in community_ddl(community_id):
                    conn.execute(statement)

    def add_community(self, community: Community) -> None:
        check_community_id(community.id)
        with closing(self._connect_registry()) as conn, conn:
            conn.execute(
                f"INSERT INTO {REGISTRY_TABLE} (id, name, created_at) VALUES (?,?,?) "
                "ON CONFLICT (id) DO NOTHING",
                (community.id, community.name, dt.datetime.now(dt.UTC).isoformat()),
            )
            (name,) = conn.execute(
                f"SELECT name FROM {REGISTRY_TABLE} WHERE id=?", (community.id,)
            ).fetchone()
        if name != community.name:
            raise StoreError(f"community {community.id!r} already exists as {name!r}")
        self._create_community_tables(community.id)

    def communities(self) -> list[Community]:
        try:
            with closing(self._connect_registry(read_only=True)) as conn:
                rows = conn.execute(
                    f"SELECT id, name FROM {REGISTRY_TABLE} ORDER BY id"
                ).fetchall()
        except sqlite3.OperationalError as e:
            raise StoreError(
                f"{self.path} has no gongkai tables: run 'gongkai db init --db {self.url}'"
            ) from e
        return [Community(id=r[0], name=r[1]) for r in rows]

    def recorder(self, community_id: str) -> SQLiteChainedRecorder:
        with self._lock:
            recorder = self._recorders.get(community_id)
            if recorder is None:
                path = self.community_path(community_id)
                if not path.exists():
                    raise UnknownCommunityError(f"no community {community_id!r} in this store")
                datastore = SQLiteDatastore(
                    str(path), lock_timeout=LOCK_TIMEOUT_SECONDS, pool_size=4, max_overflow=12
                )
                self._datastores[community_id] = datastore
                recorder = SQLiteChainedRecorder(datastore, community_id)
                self._recorders[community_id] = recorder
            return recorder

    def seal(self, community_id: str) -> SQLiteSealStore:
        with self._lock:
            seal = self._seals.get(community_id)
        if seal is None:
            self.community(community_id)
            seal = SQLiteSealStore(community_id, self.community_path(community_id))
            with self._lock:
                seal = self._seals.setdefault(community_id, seal)
        return seal

    def _connect_readonly(self, community_id: str) -> sqlite3.Connection:
        path = self.community_path(community_id)
        if not path.exists():
            raise UnknownCommunityError(f"no log for community {community_id!r} at {path}")
        # A reader that stops early leaves chain_rows' generator to be closed by the
        # garbage collector, which may run in another thread.
        return sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )

    def chain_rows(
        self, community_id: str, *, batch_size: int = 10_000
    ) -> Generator[RawRow, None, None]:
        with closing(self._connect_readonly(community_id)) as conn:
            # Read inside one transaction so that the whole scan sees one snapshot.
            conn.execute("BEGIN")
            cursor = conn.execute(
                "SELECT seq, prev_hash, hash, originator_id, originator_version, topic, state "
                f"FROM {events_table(community_id)} ORDER BY seq"
            )
            while batch := cursor.fetchmany(batch_size):
                for seq, prev, digest, oid, version, topic, state in batch:
                    yield (
                        seq,
                        _as_bytes(prev),
                        _as_bytes(digest),
                        _uuid_bytes(oid),
                        version,
                        _as_bytes(topic),
                        _as_bytes(state),
                    )

    def max_seq(self, community_id: str) -> int:
        with closing(self._connect_readonly(community_id)) as conn:
            (value,) = conn.execute(
                f"SELECT MAX(seq) FROM {events_table(community_id)}"
            ).fetchone()
        return int(value or 0)

    def close(self) -> None:
        with self._lock:
            for datastore in self._datastores.values():
                datastore.close()
            self._datastores.clear()
            self._recorders.clear()
            for seal in self._seals.values():
                seal.close()
            self._seals.clear()


def _as_bytes(value: object) -> bytes:
    # STRICT tables keep these as BLOB/TEXT; a table rebuilt by hand may not, and then
    # whatever is there is hashed as it reads.
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return repr(value).encode("utf-8")


def _uuid_bytes(value: object) -> bytes:
    # The chain hashes the UUID's 16 bytes; SQLite stores them as 32 lower-case hex
    # digits. Anything else is not what was written, so it is passed on in a form
    # whose hash cannot match.
    if isinstance(value, str) and len(value) == 32 and value == value.lower():
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    return b"!" + _as_bytes(value)
