"""The ledger's clock: which chain entry the record had reached at a given time, so that
every read model's ``as_of`` can be asked by time ("the board as it stood on 1 July")
as well as by entry.

Each entry's time is the one the ledger stamped on its event. Two commands recorded at
once can be stamped in one order and chained in the other, so times along the chain
are not quite sorted; the clock therefore keeps, for each entry, the latest time of any
entry up to it (``recorded_by``). The record as it stood at time ``t`` is then the
longest run of entries from the start that were all recorded by ``t``: a binary
search, and never a state that mixes in an entry recorded after ``t``.

Times are kept as fixed-width UTC text (``2026-07-01T08:00:00.000000+00:00``), which
sorts as the times do on both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar, Final

from ledger.errors import InvalidInputError
from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent
from projections.runner import Projection

_UTC_SUFFIX: Final = "+00:00"


class ClockProjection(Projection):
    name: ClassVar[str] = "clock"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS ledger_clock (community TEXT NOT NULL, "
            "seq BIGINT NOT NULL, recorded_by TEXT NOT NULL, "
            "PRIMARY KEY (community, seq)) WITHOUT ROWID",
        ]

    def tables(self) -> list[str]:
        return ["ledger_clock"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        if not events:
            return
        last = tx.query(
            "SELECT recorded_by FROM ledger_clock WHERE community = ? ORDER BY seq DESC LIMIT 1",
            (community_id,),
        )
        latest = last[0][0] if last else ""
        rows = []
        for event in events:
            # An entry whose time cannot be read was recorded no later than the latest
            # time known before it: it keeps that time, and the clock never goes back.
            latest = max(latest, clock_text(event.recorded_at) or "")
            rows.append((community_id, event.seq, latest))
        tx.executemany(
            "INSERT INTO ledger_clock (community, seq, recorded_by) VALUES (?, ?, ?)", rows
        )


def clock_text(stamp: str) -> str | None:
    """``stamp`` (ISO 8601 with a zone) as the clock's fixed-width UTC text; None if it
    is not such a time."""
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    if len(stamp) == 32 and stamp[10] == "T" and stamp[19] == "." and stamp.endswith("+00:00"):
        return stamp  # the ledger's own stamps are in the clock's form already
    return _utc_text(when)


def _utc_text(when: datetime) -> str:
    # isoformat pads every field (strftime's %Y does not, before the year 1000).
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def seq_at(db: ReadDB, community_id: str, when: datetime) -> int:
    """The last entry of the longest run from the start recorded by ``when`` (0: none
    was), as far as the clock has been brought up to date."""
    if when.tzinfo is None:
        raise InvalidInputError("a time needs its zone, e.g. +08:00", field="at")
    try:
        bound = _utc_text(when)
    except OverflowError:  # within a day of the calendar's ends, shifted past them
        raise InvalidInputError("the time is out of range", field="at") from None
    with db.reading() as tx:
        # recorded_by never decreases along the chain, so the entry is found by halving
        # the run of entries (some twenty lookups by key in a million) and no index of
        # the times is kept up to date on every entry.
        last = tx.query(
            "SELECT seq, recorded_by FROM ledger_clock WHERE community = ? "
            "ORDER BY seq DESC LIMIT 1",
            (community_id,),
        )
        if not last:
            return 0
        if last[0][1] <= bound:
            return int(last[0][0])
        by, after = 0, int(last[0][0])  # entry `by` was recorded by then (0: none); `after` not
        while after - by > 1:
            middle = (by + after) // 2
            found = tx.query(
                "SELECT recorded_by FROM ledger_clock WHERE community = ? AND seq = ?",
                (community_id, middle),
            )
            if found and found[0][0] <= bound:
                by = middle
            else:
                after = middle
    return by
