"""Projections catch up from the ledger, each entry applied exactly once.

A projection reads the community's chain rows after its tracking position and writes its
rows and its new position in one transaction of the read models' database, so a worker
stopped anywhere (even by SIGKILL) resumes where its last commit left it: nothing is
applied twice or skipped. The chain's ``seq`` is gapless, so the position is simply the
last ``seq`` applied, and a gap in what the source returns is refused rather than
skipped. :mod:`projections.worker` runs it in a thread of the service or of
``gongkai projections run``, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar, Final

from ledger.errors import StoreError
from ledger.store.backend import Store
from ledger.store.base import RawRow
from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent, ledger_event

TRACKING_DDL: Final = (
    "CREATE TABLE IF NOT EXISTS projection_tracking (projection TEXT NOT NULL, "
    "community TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (projection, community))"
)

FIRST_BATCH: Final = 500
MAX_BATCH: Final = 20_000

LAYOUTS_DDL: Final = (
    "CREATE TABLE IF NOT EXISTS projection_layouts (projection TEXT NOT NULL PRIMARY KEY, "
    "layout TEXT NOT NULL)"
)

#: Told the last entry applied, after each batch is committed.
Progress = Callable[[int], None]

#: (community, after, limit) -> the chain rows with seq > after, in order, at most limit.
RowSource = Callable[[str, int, int], Sequence[RawRow]]


class Projection(ABC):
    """A read model: its tables, and how a batch of chain entries changes them."""

    name: ClassVar[str]

    @abstractmethod
    def ddl(self) -> list[str]:
        """CREATE TABLE/INDEX IF NOT EXISTS statements, in the SQL both backends take; a
        table may end ``WITHOUT ROWID``, which only SQLite is given (:func:`for_dialect`)."""

    @abstractmethod
    def tables(self) -> list[str]:
        """The tables whose rows a rebuild deletes (each has a ``community`` column)."""

    @abstractmethod
    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        """Apply ``events``, the next entries after the tracking position in order, in
        one transaction. Entries of no gongkai topic are left out; a projection writes
        a batch with as few statements as it can (one insert for many rows)."""


def for_dialect(statement: str, dialect: str) -> str:
    """A projection's DDL, written for SQLite, as ``dialect`` takes it: PostgreSQL's
    tables have no rowid to leave out (a table appended in the order of its primary key
    is one B-tree instead of two in SQLite with ``WITHOUT ROWID``)."""
    return statement.removesuffix(" WITHOUT ROWID") if dialect == "postgres" else statement


def layout_of(projection: Projection) -> str:
    """What names the tables a projection's DDL makes: a change of DDL is a new layout."""
    return hashlib.sha256("\n".join(projection.ddl()).encode()).hexdigest()


def store_source(store: Store) -> RowSource:
    """Chain rows read from the ledger's store."""

    def rows(community_id: str, after: int, limit: int) -> Sequence[RawRow]:
        return store.seal(community_id).chain_rows(after, limit)

    return rows


def tracked_position(db: ReadDB, name: str, community_id: str) -> int:
    """The last entry projection ``name`` has applied for ``community_id`` (0: none)."""
    with db.reading() as tx:
        rows = tx.query(
            "SELECT position FROM projection_tracking WHERE projection = ? AND community = ?",
            (name, community_id),
        )
    return int(rows[0][0]) if rows else 0


class ProjectionRunner:
    """Keeps ``projections`` current in ``db`` from ``source``."""

    def __init__(
        self,
        db: ReadDB,
        projections: Sequence[Projection],
        source: RowSource,
        batch: int | None = None,
    ) -> None:
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise ValueError(f"projection names repeat: {names}")
        self.db = db
        self.projections = list(projections)
        self.source = source
        #: Entries per transaction: fixed, or (None) from FIRST_BATCH, doubled after each
        #: full batch up to MAX_BATCH, so that a worker far behind commits rarely (each
        #: commit writes every page the batch touched) and one keeping up commits soon.
        self.batch = batch

    def setup(self) -> None:
        """Create the tables (idempotent). A projection whose tables were made by another
        layout (its DDL changed since, or it predates this record) has them dropped and
        made anew, and starts from nothing: read models are rebuilt, never migrated."""
        with self.db.transaction() as tx:
            tx.execute(TRACKING_DDL)
            tx.execute(LAYOUTS_DDL)
            for projection in self.projections:
                layout = layout_of(projection)
                kept = tx.query(
                    "SELECT layout FROM projection_layouts WHERE projection = ?",
                    (projection.name,),
                )
                if not kept or kept[0][0] != layout:
                    for table in projection.tables():
                        tx.execute(f"DROP TABLE IF EXISTS {table}")
                    tx.execute(
                        "DELETE FROM projection_tracking WHERE projection = ?", (projection.name,)
                    )
                    tx.execute(
                        "INSERT INTO projection_layouts (projection, layout) VALUES (?, ?) "
                        "ON CONFLICT (projection) DO UPDATE SET layout = excluded.layout",
                        (projection.name, layout),
                    )
                for statement in projection.ddl():
                    tx.execute(for_dialect(statement, self.db.dialect))

    def position(self, name: str, community_id: str) -> int:
        return tracked_position(self.db, name, community_id)

    def catch_up(self, community_id: str, on_progress: Progress | None = None) -> int:
        """Apply every entry not applied yet to every projection; how many applications.
        ``on_progress`` hears the last entry applied after each batch is committed."""
        return self._catch_up(self.projections, community_id, on_progress)

    def _catch_up(
        self,
        projections: Sequence[Projection],
        community_id: str,
        on_progress: Progress | None = None,
    ) -> int:
        # One pass for all: each batch of entries is read and decoded once, and each
        # projection takes the entries after its own position (after a rebuild of one,
        # the others skip what they already have).
        applied = 0
        size = self.batch or FIRST_BATCH
        while True:
            with self.db.transaction() as tx:
                positions = [self._locked_position(tx, p.name, community_id) for p in projections]
                after = min(positions)
                rows = self.source(community_id, after, size)
                if not rows:
                    return applied
                for expected, row in enumerate(rows, start=after + 1):
                    if row[0] != expected:
                        raise StoreError(
                            f"projections of {community_id!r}: the ledger gave entry "
                            f"{row[0]} where entry {expected} belongs"
                        )
                events = [e for e in map(ledger_event, rows) if e is not None]
                last = rows[-1][0]
                for projection, position in zip(projections, positions, strict=True):
                    if position >= last:
                        continue
                    mine = events if position == after else [e for e in events if e.seq > position]
                    projection.apply(tx, community_id, mine)
                    tx.execute(
                        "UPDATE projection_tracking SET position = ? "
                        "WHERE projection = ? AND community = ?",
                        (last, projection.name, community_id),
                    )
                    applied += last - position
            if on_progress is not None:
                on_progress(last)
            if self.batch is None and len(rows) == size:
                size = min(2 * size, MAX_BATCH)

    def _locked_position(self, tx: Tx, name: str, community_id: str) -> int:
        """The position, read so that no other worker applies the same entries: SQLite's
        BEGIN IMMEDIATE already serializes writers; PostgreSQL locks the row."""
        tx.execute(
            "INSERT INTO projection_tracking (projection, community, position) "
            "VALUES (?, ?, 0) ON CONFLICT (projection, community) DO NOTHING",
            (name, community_id),
        )
        lock = " FOR UPDATE" if self.db.dialect == "postgres" else ""
        rows = tx.query(
            "SELECT position FROM projection_tracking WHERE projection = ? AND community = ?"
            + lock,
            (name, community_id),
        )
        return int(rows[0][0])

    def rebuild(
        self, community_id: str, names: Sequence[str] = (), on_progress: Progress | None = None
    ) -> int:
        """Forget the named projections (all when none is named) of ``community_id`` and
        apply the whole ledger again; how many applications."""
        chosen = [p for p in self.projections if not names or p.name in names]
        unknown = set(names) - {p.name for p in self.projections}
        if unknown:
            raise ValueError(f"no projection named {', '.join(sorted(unknown))}")
        for projection in chosen:
            with self.db.transaction() as tx:
                for table in projection.tables():
                    tx.execute(f"DELETE FROM {table} WHERE community = ?", (community_id,))
                tx.execute(
                    "DELETE FROM projection_tracking WHERE projection = ? AND community = ?",
                    (projection.name, community_id),
                )
        return self._catch_up(chosen, community_id, on_progress)
