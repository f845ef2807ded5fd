"""Where the read models live: a database of their own beside the ledger's, in which a
projection's rows and its tracking position change in one transaction. Other state that
is not the ledger's (accounts, for one) lives in a database of the same kind, by name.

SQLite: the file ``<ledger>.<name>.sqlite3`` beside the ledger's registry file.
PostgreSQL: the ledger's database, schema ``gongkai_<name>`` (``gongkai_read`` for the
projections). Statements are written once, with ``?`` placeholders and types both accept
(TEXT, BIGINT).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Final, Protocol


class Tx(Protocol):
    """One transaction's statements."""

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None: ...

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class ReadDB(ABC):
    """The read models' database."""

    #: "sqlite" or "postgres", for the few statements that differ.
    dialect: str

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction: committed when the block ends, rolled back on an error.
        Writers of one database take turns; readers never wait for them."""

    @abstractmethod
    def reading(self) -> AbstractContextManager[Tx]:
        """A read-only transaction: one consistent view, which waits for no writer."""

    def grant(self, role: str) -> None:
        """Let ``role`` read and write every table here (PostgreSQL; SQLite has no
        roles, so by default there is nothing to do)."""
        del role

    @abstractmethod
    def close(self) -> None: ...


PROJECTIONS: Final = "projections"
_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,30}")


def read_db_url(store_url: str, name: str = PROJECTIONS) -> str:
    """The database called ``name`` beside the ledger at ``store_url``."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"a database name is a-z, 0-9 and _, not {name!r}")
    if store_url.startswith("sqlite:///"):
        path = Path(store_url.removeprefix("sqlite:///"))
        return "sqlite:///" + str(path.with_name(f"{path.stem}.{name}.sqlite3"))
    return store_url


def schema_name(name: str) -> str:
    """The PostgreSQL schema of the database called ``name``."""
    return "gongkai_read" if name == PROJECTIONS else f"gongkai_{name}"
