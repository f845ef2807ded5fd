"""Where the read models live: SQLite or PostgreSQL, behind one small interface
(:mod:`.base`), opened by :func:`open_read_db` (:mod:`.factory`)."""

from projections.db.base import PROJECTIONS, ReadDB, Tx, read_db_url, schema_name
from projections.db.factory import open_read_db

__all__ = ["PROJECTIONS", "ReadDB", "Tx", "open_read_db", "read_db_url", "schema_name"]
