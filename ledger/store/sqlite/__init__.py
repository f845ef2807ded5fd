"""The SQLite backend: a registry file, and one file per community beside it.

``sqlite:///data/gongkai.sqlite3`` keeps the registry in ``data/gongkai.sqlite3`` and the
log of community ``tianhai`` in ``data/gongkai.tianhai.sqlite3``. One file per community
means that a write to one community never waits for SQLite's file lock held by another,
and that one community's log can be copied or handed over on its own.

Writers take SQLite's write lock with ``BEGIN IMMEDIATE`` *before* reading the chain head:
with a deferred ``BEGIN`` two processes could both read the same head and one would then
fail with "database is locked" when upgrading to a write.

In this package: :mod:`.ddl` (a community's tables and triggers), :mod:`.recorder` (the
chained eventsourcing recorder), :mod:`.store` (the store) and :mod:`.seal` (the seal's
tables).
"""

from ledger.store.sqlite.recorder import SQLiteChainedRecorder
from ledger.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteChainedRecorder", "SQLiteStore"]
