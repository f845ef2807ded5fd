"""China's working days, for the deadlines the seeds set in working days: an inquiry
(质询) unanswered within three working days (三个工作日) may be taken to a mass
supervision meeting [004 篇九]. Counted with ``chinesecalendar``, whose holidays and
adjusted working days (调休) are those the State Council publishes each year.

A deadline of *n* working days is the *n*-th working day after the day of filing (the
day of filing does not count, whatever time of day it was), in China time. The
calendar's version is kept with each deadline, so that the deadline a reader sees can be
recomputed from the record alone. A deadline that would need a year the calendar does
not know yet is refused, not guessed: the State Council publishes the next year's
holidays late in the year, and a weekday-only guess could fall on a holiday."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

import chinese_calendar

from ledger.domain import clock
from ledger.errors import InvalidInputError

#: The calendar's name and version, as each deadline records it.
CALENDAR: Final = f"chinesecalendar {chinese_calendar.__version__}"
#: China time (UTC+8, no daylight saving): what day it is for a deadline.
CHINA_TIME: Final = dt.timezone(dt.timedelta(hours=8), "CST")

#: The working days an inquiry is to be answered in [004 篇九].
INQUIRY_WORKING_DAYS: Final = 3


@dataclass(frozen=True, slots=True)
class Deadline:
    filed_on: dt.date
    due_on: dt.date  # the last working day of the period; the answer is due by its end
    working_days: int
    calendar: str


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day in China, 调休 included; refused for a year the
    calendar does not know."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise InvalidInputError(
            f"{CALENDAR} knows China's holidays only up to {last_known_year()}: a deadline "
            f"that runs into {day.year} cannot be counted until the calendar is updated "
            "with the State Council's holidays for that year",
            field="filed_on",
        ) from None


def last_known_year() -> int:
    """The last year whose holidays and adjusted working days the calendar holds."""
    holidays: dict[dt.date, str] = chinese_calendar.constants.holidays
    return max(day.year for day in holidays)


def deadline(filed_on: dt.date, working_days: int = INQUIRY_WORKING_DAYS) -> Deadline:
    """The ``working_days``-th working day after ``filed_on``."""
    if working_days < 1:
        raise InvalidInputError("a deadline is at least one working day", field="working_days")
    day, counted = filed_on, 0
    while counted < working_days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return Deadline(filed_on, day, working_days, CALENDAR)


def china_date(now: dt.datetime | None = None) -> dt.date:
    """The date in China at ``now`` (an aware datetime; the current time if None)."""
    moment = now if now is not None else clock.now()
    if moment.tzinfo is None:
        raise InvalidInputError("a time without its time zone is ambiguous", field="now")
    return moment.astimezone(CHINA_TIME).date()
