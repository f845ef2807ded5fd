"""The SQLite store, the embedded default: a registry file and one file per community
(:mod:`.store`), with the seal's tables in it (:mod:`.seal`)."""

from ledger.store.sqlite.store import SQLiteChainedRecorder, SQLiteStore

__all__ = ["SQLiteChainedRecorder", "SQLiteStore"]
