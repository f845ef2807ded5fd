"""The finance record (财务公开) as read models: the projection of entries and their
reversals with its queries (:mod:`.projection`), and the finance data package, a
Tabular/Fiscal Data Package of the record (:mod:`.package`).

The projection's names below are the package's interface; the data package is imported
from :mod:`projections.finance.package`."""

from projections.finance.projection import (
    AccountTotal,
    FinanceEntryRow,
    FinanceProjection,
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
