"""The compliance view and the 十个防止 report of each community, kept while the read
models they were computed from stay where they were.

The street's reports compute every community's view on every request, although after a
projection step only one community's read models have moved. A community's result is a
function of the rows its projections hold, the entry ``as_of`` it is read at and the
China day ``today`` it is judged on; and the rows a projection holds are named by its
tracking position (each commit of a batch moves it: :mod:`projections.runner`). So a
result is kept under (report, community, ``today``, ``as_of``, the positions of the
projections it reads), and a street report after a step computes again only the
community whose positions moved. Another day or another ``as_of`` is another key: time
travel never gets a result kept for another.

What is kept is the unfiltered result: the routes leave out what a reader may not see
afterwards (``projections.visibility.can_see``), so one entry serves members and
auditors alike.

A rebuild (``gongkai projections rebuild``) comes back through positions already kept,
with rows made by the projection's code of the day, which may not be the code a kept
result was computed from: so nothing is kept longer than ``max_age`` seconds either, as
the service's other kept views (``api.service.read_models.CurrentViews``).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from projections.board_projection import BoardProjection
from projections.calendar import CalendarProjection, ObligationView
from projections.compliance import Owed, compliance
from projections.db import ReadDB
from projections.history import HistoryProjection
from projections.opinions import OpinionsProjection
from projections.ten_preventions import Prevention, ten_preventions

#: The projections each report reads: their positions name the state it was computed at.
COMPLIANCE_READS: Final = (CalendarProjection.name,)
TEN_PREVENTIONS_READS: Final = (
    CalendarProjection.name,
    BoardProjection.name,
    HistoryProjection.name,
    OpinionsProjection.name,
)

#: Two reports for each community of a large street, and a few days or entries asked
#: besides. Five years of a community's record make a compliance view of about 200 KiB
#: and a 十个防止 report of about 45 KiB (bench/bench_compliance.py's street): 256 at
#: most is about 50 MiB, both reports of a street of 50 about 12.
MAX_ENTRIES: Final = 256
#: Seconds, after which a result is computed again even at the same positions (a rebuild).
MAX_AGE: Final = 300.0

ComplianceLines = list[tuple[ObligationView, list[Owed]]]
Report = Callable[[ReadDB, str, dt.date, int | None], Any]


@dataclass(frozen=True, slots=True)
class _Key:
    report: str
    community_id: str
    today: dt.date
    as_of: int | None
    positions: tuple[int, ...]

    @property
    def question(self) -> tuple[str, str, dt.date, int | None]:
        """The key without the positions: what was asked, of whichever state."""
        return self.report, self.community_id, self.today, self.as_of


@dataclass(frozen=True, slots=True)
class _Kept:
    computed_at: float
    result: Any


def positions(db: ReadDB, community_id: str, projections: Sequence[str]) -> tuple[int, ...]:
    """The tracking position of each of ``projections`` for the community (0: none yet),
    read in one statement."""
    with db.reading() as tx:
        rows = tx.query(
            "SELECT projection, position FROM projection_tracking WHERE community = ?",
            (community_id,),
        )
    found = {str(name): int(position) for name, position in rows}
    return tuple(found.get(name, 0) for name in projections)


class KeptReports:
    """The communities' compliance views and 十个防止 reports, the least recently used
    left out beyond ``max_entries``. Safe to share between the service's threads: the
    dictionary is only touched under a lock, and a result is computed outside it (two
    requests for the same missing result may both compute it; both get the same)."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: OrderedDict[_Key, _Kept] = OrderedDict()
        #: Results given from what was kept, and computed: what the tests look at.
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)

    def compliance(
        self, db: ReadDB, community_id: str, today: dt.date, as_of: int | None = None
    ) -> ComplianceLines:
        """:func:`projections.compliance.compliance`, kept. The lists are the caller's
        own; the obligations' views are shared and not to be changed."""
        lines: ComplianceLines = self._result(
            "compliance", COMPLIANCE_READS, compliance, db, community_id, today, as_of
        )
        return [(view, list(owed)) for view, owed in lines]

    def ten_preventions(
        self, db: ReadDB, community_id: str, today: dt.date, as_of: int | None = None
    ) -> list[Prevention]:
        """:func:`projections.ten_preventions.ten_preventions`, kept (its preventions and
        findings are frozen; the list is the caller's own)."""
        found: list[Prevention] = self._result(
            "ten_preventions", TEN_PREVENTIONS_READS, ten_preventions, db, community_id,
            today, as_of,
        )  # fmt: skip
        return list(found)

    def _result(
        self,
        name: str,
        reads: Sequence[str],
        report: Report,
        db: ReadDB,
        community_id: str,
        today: dt.date,
        as_of: int | None,
    ) -> Any:
        key = _Key(name, community_id, today, as_of, positions(db, community_id, reads))
        kept = self._get(key)
        if kept is not None:
            return kept
        result = report(db, community_id, today, as_of)
        # A catch-up committed while it was computed may have moved what it read: kept
        # only when the positions after are the ones it was keyed by.
        if positions(db, community_id, reads) == key.positions:
            self._put(key, result)
        return result

    def _get(self, key: _Key) -> Any:
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and self._clock() - kept.computed_at <= self.max_age:
                self._kept.move_to_end(key)
                self.hits += 1
                return kept.result
            if kept is not None:
                del self._kept[key]
            self.misses += 1
            return None

    def _put(self, key: _Key, result: Any) -> None:
        with self._lock:
            # What was kept for the same question at other positions is an older state
            # of the read models (positions only move on): no request asks for it again.
            for older in [k for k in self._kept if k.question == key.question]:
                del self._kept[older]
            self._kept[key] = _Kept(self._clock(), result)
            self._kept.move_to_end(key)
            while len(self._kept) > self.max_entries:
                self._kept.popitem(last=False)
