"""The finance record (财务公开) as read models: the projection of entries and their
reversals (:mod:`.projection`) and its queries (:mod:`.queries`), and the finance data package, a
Tabular/Fiscal Data Package of the record (:mod:`.package`).

The projection's names below are the package's interface; the data package is imported
from :mod:`projections.finance.package`."""

from projections.finance.projection import FinanceProjection
from projections.finance.queries import (
    AccountTotal,
    FinanceEntryRow,
    Grouping,
    PeriodTotal,
    entries,
    invalid_entries,
    period_label,
    totals,
)

__all__ = [
    "AccountTotal",
    "FinanceEntryRow",
    "FinanceProjection",
    "Grouping",
    "PeriodTotal",
    "entries",
    "invalid_entries",
    "period_label",
    "totals",
]
