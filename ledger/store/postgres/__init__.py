"""The PostgreSQL store: one database, two tables and one append function per
community (:mod:`.store`), and the seal's tables in it (:mod:`.seal`). With
:mod:`projections.db.postgres`, the only code that imports psycopg."""

from ledger.store.postgres.store import PostgresChainedRecorder, PostgresStore

__all__ = ["PostgresChainedRecorder", "PostgresStore"]
