"""The accounts database's tables, in SQL that SQLite and PostgreSQL both accept.

Times the code compares (expiry, failed attempts) are whole seconds since the epoch
(BIGINT); the account's creation time is kept as written, UTC ISO 8601. Secrets are never
stored: tokens and session ids as SHA-256, passwords as argon2id.
"""

from __future__ import annotations

from typing import Final

from projections.db import ReadDB

STATEMENTS: Final = (
    "CREATE TABLE IF NOT EXISTS accounts ("
    " username TEXT PRIMARY KEY,"
    " display_name TEXT NOT NULL,"
    " role TEXT NOT NULL,"
    " community TEXT,"
    " password_hash TEXT NOT NULL,"
    " disabled BIGINT NOT NULL DEFAULT 0,"
    " created_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bearer_tokens ("
    " id TEXT PRIMARY KEY,"
    " token_hash TEXT NOT NULL UNIQUE,"
    " username TEXT NOT NULL REFERENCES accounts (username),"
    " label TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL,"
    " revoked_at BIGINT)",
    "CREATE INDEX IF NOT EXISTS bearer_tokens_username ON bearer_tokens (username)",
    "CREATE TABLE IF NOT EXISTS web_sessions ("
    " session_hash TEXT PRIMARY KEY,"
    " username TEXT NOT NULL REFERENCES accounts (username),"
    " csrf_secret TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " expires_at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS web_sessions_username ON web_sessions (username)",
    # Kept in the database, not in memory, so that every worker process counts the same
    # failures; rows older than the window are pruned as new ones arrive.
    "CREATE TABLE IF NOT EXISTS login_failures ("
    " username TEXT NOT NULL,"
    " client TEXT NOT NULL,"
    " failed_at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS login_failures_username ON login_failures (username, failed_at)",
    "CREATE INDEX IF NOT EXISTS login_failures_client ON login_failures (client, failed_at)",
)


def ensure_schema(db: ReadDB) -> None:
    """Create the tables if they are missing; existing rows are left alone."""
    with db.transaction() as tx:
        for statement in STATEMENTS:
            tx.execute(statement)
