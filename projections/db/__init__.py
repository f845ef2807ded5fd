"""Where the read models live: SQLite or PostgreSQL, behind one small interface
(:mod:`.base`), opened by :func:`open_read_db`."""

from projections.db.base import PROJECTIONS, ReadDB, Tx, open_read_db, read_db_url, schema_name

__all__ = ["PROJECTIONS", "ReadDB", "Tx", "open_read_db", "read_db_url", "schema_name"]
