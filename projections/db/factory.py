"""Opening a read database: the backend follows from the ledger's URL. The backends
import only :mod:`projections.db.base`, never this module, and each is imported here
only when asked for, so that SQLite users need no PostgreSQL driver."""

from __future__ import annotations

from pathlib import Path

from ledger.errors import StoreError
from projections.db.base import PROJECTIONS, ReadDB, read_db_url, schema_name


def open_read_db(store_url: str, name: str = PROJECTIONS, *, create: bool = True) -> ReadDB:
    """Open the database called ``name`` beside the ledger at ``store_url``; by default,
    the read models'. With ``create`` it is made if missing (``gongkai db init`` and
    the tests do that); the service opens it without, and a missing one is a
    :class:`StoreError` saying how to make it."""
    url = read_db_url(store_url, name)
    if url.startswith("sqlite:///"):
        from projections.db.sqlite import SQLiteReadDB

        path = Path(url.removeprefix("sqlite:///"))
        if not create and not path.exists():
            raise StoreError(f"no {name} database at {path}: run 'gongkai db init' first")
        return SQLiteReadDB(path)
    from projections.db.postgres import PostgresReadDB

    return PostgresReadDB(url, schema_name(name), create=create)
