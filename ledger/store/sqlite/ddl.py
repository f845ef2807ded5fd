"""The SQLite schema of a community's file: its events and commands tables, the seal's
tables, and the triggers that refuse UPDATE and DELETE on every one of them."""

from __future__ import annotations

from ledger.store.base import commands_table, events_table, personal_keys_table, seal_tables
from ledger.store.sqlite.seal import seal_ddl


def append_only_triggers(table: str) -> list[str]:
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
        # Not append-only: erasing a person sets their key to NULL (see
        # ledger.domain.personal_data); the connection that does it has secure_delete on.
        f"CREATE TABLE IF NOT EXISTS {personal_keys_table(community_id)} ("
        "key_id TEXT PRIMARY KEY, "
        "person_id TEXT NOT NULL UNIQUE, "
        "key BLOB, "
        "created_at TEXT NOT NULL, "
        "erased_at TEXT) STRICT",
        *seal_ddl(community_id),
        *[
            t
            for table in (events, commands, *seal_tables(community_id))
            for t in append_only_triggers(table)
        ],
    ]
