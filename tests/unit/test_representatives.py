"""A representative's three-year term, its last day written by hand [003 三]."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.domain.representatives import term_until


@pytest.mark.parametrize(
    ("begins", "ends"),
    [
        (dt.date(2026, 12, 17), dt.date(2029, 12, 16)),
        (dt.date(2027, 1, 1), dt.date(2029, 12, 31)),
        (dt.date(2028, 2, 29), dt.date(2031, 2, 27)),  # no 29 February in 2031
        (dt.date(2026, 3, 1), dt.date(2029, 2, 28)),
    ],
)
def test_a_term_is_three_years(begins: dt.date, ends: dt.date) -> None:
    assert term_until(begins) == ends
