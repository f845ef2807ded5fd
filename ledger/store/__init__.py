"""Stores: where the chained logs live. ``open_store(url)`` picks the backend by URL.

``sqlite:///relative/path``, ``sqlite:////absolute/path`` or ``postgresql://...``.
The PostgreSQL backend is imported only when asked for, so that SQLite users need no
PostgreSQL driver at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

from ledger.errors import StoreError
from ledger.store.backend import Store
from ledger.store.base import DEFAULT_DB_URL, Community

__all__ = [
    "DB_PASSWORD_FILE_ENV",
    "DEFAULT_DB_URL",
    "Community",
    "Store",
    "default_url",
    "open_store",
    "redacted_url",
    "with_password_file",
]

# The name of a variable, not a password.
DB_PASSWORD_FILE_ENV: Final = "GONGKAI_DB_PASSWORD_FILE"  # noqa: S105
_POSTGRES_SCHEMES: Final = ("postgresql://", "postgres://")


def default_url() -> str:
    """``GONGKAI_DB`` if set, else the embedded SQLite default; with the password read
    from the file named by ``GONGKAI_DB_PASSWORD_FILE`` merged in, if that is set."""
    url = os.environ.get("GONGKAI_DB") or DEFAULT_DB_URL
    password_file = os.environ.get(DB_PASSWORD_FILE_ENV)
    return with_password_file(url, Path(password_file)) if password_file else url


def with_password_file(url: str, password_file: Path) -> str:
    """``url`` (``postgresql://user@host/db``) with the password held in ``password_file``.

    Container platforms hand secrets over as files (``/run/secrets/...``), which keeps
    them out of the environment, where anyone who may inspect the container reads them.
    Trailing line breaks are dropped, as the postgres image does with its own
    ``POSTGRES_PASSWORD_FILE``, so that both read the same password from one file.
    A URL that already has a password is refused: two sources of one secret would
    leave it unclear which one is used.
    """
    if not url.startswith(_POSTGRES_SCHEMES):
        raise StoreError(
            f"{DB_PASSWORD_FILE_ENV} applies to postgresql:// URLs only, not to "
            f"{redacted_url(url)}"
        )
    parts = urlsplit(url)
    if parts.password is not None or "password" in parse_qs(parts.query, keep_blank_values=True):
        raise StoreError(
            f"the database URL already has a password; give it without one when "
            f"{DB_PASSWORD_FILE_ENV} is set"
        )
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if not at or not userinfo:
        raise StoreError(
            f"the database URL names no user for the password of {DB_PASSWORD_FILE_ENV}: "
            "use postgresql://USER@HOST/DB"
        )
    password = quote(_read_password(password_file), safe="")
    return urlunsplit(parts._replace(netloc=f"{userinfo}:{password}@{hosts}"))


def _read_password(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoreError(f"{DB_PASSWORD_FILE_ENV}: no password file at {path}") from None
    except IsADirectoryError:
        raise StoreError(f"{DB_PASSWORD_FILE_ENV}: {path} is a directory, not a file") from None
    except OSError as e:
        raise StoreError(f"{DB_PASSWORD_FILE_ENV}: cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise StoreError(f"{DB_PASSWORD_FILE_ENV}: {path} is not UTF-8 text") from None
    password = text.rstrip("\r\n")
    if not password:
        raise StoreError(f"{DB_PASSWORD_FILE_ENV}: the password file {path} is empty")
    return password


def redacted_url(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``: fit for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hosts = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hosts}"))


def open_store(url: str | None = None) -> Store:
    """Open the store at ``url`` (default: :func:`default_url`)."""
    url = url or default_url()
    if url.startswith("sqlite:///"):
        from ledger.store.sqlite import SQLiteStore

        path = url.removeprefix("sqlite:///")
        if not path or path.startswith(":memory:"):
            raise StoreError("SQLite stores need a file path: sqlite:///path/to/file.sqlite3")
        return SQLiteStore(url, Path(path))
    if url.startswith(_POSTGRES_SCHEMES):
        from ledger.store.postgres import PostgresStore

        return PostgresStore(url)
    raise StoreError(
        f"unsupported database URL {redacted_url(url)!r}: use sqlite:///path or postgresql://user@host/db"
    )
