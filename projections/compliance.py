"""What the disclosure calendar owes and what the record shows of it (公开时限): for each
obligation in force, each period or matter it owes, whether it was met (posted by its
due date), late (posted after it: 不及时), missing (its due date passed with nothing
posted), or still due; whether an item covering it has expired (its posting period is
over and it still shows as posted); and whether a long-term item was withdrawn early
(不持久).

Computed when asked, from the calendar read model (:mod:`projections.calendar`) as it
stood after entry ``as_of``, for the China date ``today``: the view at an earlier
``as_of`` or ``at`` shows what was late then. Dates are China's; a posting counts from
the China date it was recorded.

The periods owed by a periodic obligation are those that end on or after the day it came
into force (the committee's approval), and have begun by ``today``; a matter's, the ones
its disclosures declared.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ledger.domain.obligation import Cadence
from ledger.domain.working_days import CHINA_TIME
from projections.calendar import ObligationView, Posting, calendar, postings
from projections.db import ReadDB

MET: Final = "met"
LATE: Final = "late"
MISSING: Final = "missing"
DUE: Final = "due"
WITHDRAWN_EARLY: Final = "withdrawn_early"


@dataclass(frozen=True, slots=True)
class Owed:
    """One period (or matter) an obligation owes, and what became of it."""

    obligation_id: str
    period: str  # "" for a long-term obligation
    due_on: dt.date | None  # None: long-term
    status: str  # met, late, missing, due, withdrawn_early
    posted_on: dt.date | None  # the first posting of a disclosure covering it
    disclosures: tuple[str, ...]
    expired: tuple[str, ...]  # covering items past their posting period, still posted


@functools.lru_cache(maxsize=1 << 16)
def china_day(stamp: str) -> dt.date | None:
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when.astimezone(CHINA_TIME).date()


def _month_after(year: int, month: int, day: int) -> dt.date:
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.date(year, month, day)


# The periods' dates are the same for every community and every read: kept once worked
# out (a few thousand of them cover decades of every cadence).
@functools.lru_cache(maxsize=1 << 14)
def period_bounds(cadence: Cadence, period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a periodic obligation's period."""
    if cadence is Cadence.MONTHLY:
        first = dt.date.fromisoformat(f"{period}-01")
        return first, _month_after(first.year, first.month, 1) - dt.timedelta(days=1)
    if cadence is Cadence.QUARTERLY:
        year, quarter = int(period[:4]), int(period[5])
        first = dt.date(year, 3 * quarter - 2, 1)
        return first, _month_after(year, 3 * quarter, 1) - dt.timedelta(days=1)
    year = int(period)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


@functools.lru_cache(maxsize=1 << 14)
def due_on(cadence: Cadence, period: str, due_days: int) -> dt.date | None:
    """When a period or matter must be posted by (the end of that China day)."""
    if cadence is Cadence.LONG_TERM:
        return None
    if cadence is Cadence.PER_MATTER:
        return dt.date.fromisoformat(period) + dt.timedelta(days=due_days)
    if cadence is Cadence.BEFORE_THE_FACT:
        return dt.date.fromisoformat(period) - dt.timedelta(days=due_days)
    _, last = period_bounds(cadence, period)
    return _month_after(last.year, last.month, due_days)


def periods_owed(cadence: Cadence, since: dt.date, today: dt.date) -> list[str]:
    """A periodic obligation's periods that end on or after ``since`` and have begun by
    ``today``, oldest first."""
    return list(_periods_owed(cadence, since, today))


@functools.lru_cache(maxsize=1 << 10)
def _periods_owed(cadence: Cadence, since: dt.date, today: dt.date) -> tuple[str, ...]:
    if cadence is Cadence.MONTHLY:
        names = [
            f"{y:04d}-{m:02d}" for y in range(since.year, today.year + 1) for m in range(1, 13)
        ]
    elif cadence is Cadence.QUARTERLY:
        names = [f"{y:04d}Q{q}" for y in range(since.year, today.year + 1) for q in range(1, 5)]
    else:
        names = [f"{y:04d}" for y in range(since.year, today.year + 1)]
    found = []
    for name in names:
        first, last = period_bounds(cadence, name)
        if last >= since and first <= today:
            found.append(name)
    return tuple(found)


def compliance(
    db: ReadDB, community_id: str, today: dt.date, as_of: int | None = None
) -> list[tuple[ObligationView, list[Owed]]]:
    """Every obligation in force after entry ``as_of``, with what it owes on ``today``."""
    posted = postings(db, community_id, as_of)
    return obligations_owed(calendar(db, community_id, as_of), posted, today)


def obligations_owed(
    views: list[ObligationView], posted: dict[str, list[Posting]], today: dt.date
) -> list[tuple[ObligationView, list[Owed]]]:
    """What :func:`compliance` answers, from the calendar and the postings already read
    (:func:`projections.calendar.calendar`, :func:`projections.calendar.postings`)."""
    found = []
    for obligation in views:
        if obligation.status != "in_force" or obligation.approved is None:
            continue
        since = china_day(obligation.approved.recorded_at)
        try:
            cadence = Cadence(str(obligation.value("cadence")))
        except ValueError:
            continue
        if since is None:
            continue
        due_days = obligation.value("due_days")
        days = due_days if isinstance(due_days, int) else 0
        by_period = _covering(obligation)
        if cadence in (Cadence.MONTHLY, Cadence.QUARTERLY, Cadence.YEAR_END):
            periods: Sequence[str] = _periods_owed(cadence, since, today)
        elif cadence is Cadence.LONG_TERM:
            periods = [""]
        else:
            periods = sorted(p for p, ds in by_period.items() if ds)
        owed = [
            _owed(obligation.obligation_id, cadence, p, days, by_period.get(p, []), posted, today)
            for p in periods
        ]
        found.append((obligation, owed))
    return found


def _covering(obligation: ObligationView) -> dict[str, list[str]]:
    """The disclosures declared to cover each period, in the order declared."""
    by_period: dict[str, list[str]] = {}
    declared: dict[str, str] = {}  # disclosure -> the period its last declaration names
    for act in obligation.covered:
        # A draft may declare again: its last declaration stands.
        did, period = str(act.fields.get("disclosure_id")), str(act.fields.get("period"))
        if did in declared:
            by_period[declared[did]].remove(did)
        by_period.setdefault(period, []).append(did)
        declared[did] = period
    return by_period


def _owed(
    obligation_id: str,
    cadence: Cadence,
    period: str,
    due_days: int,
    disclosures: list[str],
    posted: dict[str, list[Posting]],
    today: dt.date,
) -> Owed:
    due = due_on(cadence, period, due_days)
    first: dt.date | None = None
    expired = []
    withdrawn = False
    for did in disclosures:
        acts = posted.get(did, [])
        days = [d for a in acts if a.act == "published" and (d := china_day(a.recorded_at))]
        if days and (first is None or min(days) < first):
            first = min(days)
        if acts and acts[-1].act == "published":
            until = acts[-1].period_until
            if cadence is not Cadence.LONG_TERM and until and until < today.isoformat():
                expired.append(did)
        withdrawn = withdrawn or any(a.act == "withdrawn" for a in acts)
    if cadence is Cadence.LONG_TERM:
        status = WITHDRAWN_EARLY if withdrawn else (MET if first else MISSING)
    elif first is not None:
        status = MET if due is not None and first <= due else LATE
    else:
        status = MISSING if due is not None and today > due else DUE
    return Owed(obligation_id, period, due, status, first, tuple(disclosures), tuple(expired))
