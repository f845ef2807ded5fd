"""The SQLite store: the registry file, ``gongkai db init``, each community's file with
its recorder and seal store, and the raw reads the verifier makes (read-only
connections)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Generator
from contextlib import closing
from pathlib import Path
from typing import Final

from eventsourcing.sqlite import SQLiteDatastore

from ledger.errors import StoreError, UnknownCommunityError
from ledger.store.backend import Store
from ledger.store.base import REGISTRY_TABLE, Community, RawRow, check_community_id, events_table
from ledger.store.sqlite.ddl import append_only_triggers, community_ddl
from ledger.store.sqlite.recorder import SQLiteChainedRecorder
from ledger.store.sqlite.seal import SQLiteSealStore

# Seconds a writer waits for another's write lock before giving up.
LOCK_TIMEOUT_SECONDS: Final = 60


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
                for statement in append_only_triggers(REGISTRY_TABLE):
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
