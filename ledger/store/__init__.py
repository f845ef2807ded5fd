"""Stores: where the chained logs live. ``open_store(url)`` picks the backend by URL.

``sqlite:///relative/path``, ``sqlite:////absolute/path`` or ``postgresql://...``.
The PostgreSQL backend is imported only when asked for, so that SQLite users need no
PostgreSQL driver at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

from ledger.errors import StoreError
from ledger.store.base import DEFAULT_DB_URL, Community, Store

__all__ = ["DEFAULT_DB_URL", "Community", "Store", "default_url", "open_store"]


def default_url() -> str:
    """``GONGKAI_DB`` if set, else the embedded SQLite default."""
    return os.environ.get("GONGKAI_DB") or DEFAULT_DB_URL


def open_store(url: str | None = None) -> Store:
    """Open the store at ``url`` (default: :func:`default_url`)."""
    url = url or default_url()
    if url.startswith("sqlite:///"):
        from ledger.store.sqlite import SQLiteStore

        path = url.removeprefix("sqlite:///")
        if not path or path.startswith(":memory:"):
            raise StoreError("SQLite stores need a file path: sqlite:///path/to/file.sqlite3")
        return SQLiteStore(url, Path(path))
    if url.startswith(("postgresql://", "postgres://")):
        from ledger.store.postgres import PostgresStore

        return PostgresStore(url)
    raise StoreError(
        f"unsupported database URL {url!r}: use sqlite:///path or postgresql://user@host/db"
    )
