"""Deadlines in China's working days, against known answers worked out by hand from the
State Council's notice of the 2026 holidays (tests/vectors/working_days_2026.json), and
refused, not guessed, past the calendar's last known year."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.working_days import (
    CALENDAR,
    Deadline,
    deadline,
    is_working_day,
    last_known_year,
)
from ledger.errors import InvalidInputError

VECTORS = json.loads(
    (Path(__file__).parent.parent / "vectors" / "working_days_2026.json").read_text("utf-8")
)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["filed_on"])
def test_the_known_answers(case: dict[str, Any]) -> None:
    filed = dt.date.fromisoformat(case["filed_on"])
    assert deadline(filed, VECTORS["working_days"]) == Deadline(
        filed, dt.date.fromisoformat(case["due_on"]), 3, CALENDAR
    ), case["why"]


@pytest.mark.parametrize("filed", VECTORS["refused"])
def test_a_deadline_past_the_calendar_is_refused(filed: str) -> None:
    with pytest.raises(InvalidInputError, match=f"only up to {last_known_year()}"):
        deadline(dt.date.fromisoformat(filed))


def test_the_adjusted_days_are_the_state_councils() -> None:
    """调休: two weekend days that are working days, and two weekdays that are not."""
    assert is_working_day(dt.date(2026, 10, 10))  # a Saturday
    assert is_working_day(dt.date(2026, 2, 14))  # a Saturday
    assert not is_working_day(dt.date(2026, 10, 5))  # a Monday of 国庆
    assert not is_working_day(dt.date(2026, 2, 16))  # a Monday of 春节


def test_the_calendar_is_named_with_its_version() -> None:
    assert CALENDAR == "chinesecalendar 1.11.0"
    assert last_known_year() == 2026


def test_a_deadline_is_at_least_one_working_day() -> None:
    with pytest.raises(InvalidInputError):
        deadline(dt.date(2026, 12, 7), 0)
    assert deadline(dt.date(2026, 12, 7), 1).due_on == dt.date(2026, 12, 8)
