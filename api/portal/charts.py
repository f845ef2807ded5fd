"""The finance page's charts as geometry: monthly sums (:class:`PeriodTotal`) turned into
bars, axis ticks and month labels in an SVG viewBox, and the figures the text
alternatives put into words. Pure functions and frozen dataclasses, so that the template
only draws what is computed here and a test can check a bar without parsing SVG.

Money stays integer fen: the ticks are chosen in fen and the amounts are formatted from
``Decimal``; floats appear only as coordinates, where a rounding error is a fraction of
a pixel and never a wrong figure. The words themselves (what each sentence says, in
which language) are the template's, where gettext finds them; this module gives them
their figures, formatted for the page's Babel locale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final, Literal

from babel.dates import format_skeleton
from babel.numbers import format_currency, format_decimal

from projections.finance import PeriodTotal

Series = Literal["income", "expense", "balance"]

#: How many months the charts show: a year is what a resident compares, and more bars
#: than this would be too thin to read on a phone.
MAX_MONTHS: Final = 12
#: The viewBox. Fixed, whatever the number of months, so that the text is the same size
#: on every chart; the SVG scales to the page's width.
WIDTH: Final = 480.0
HEIGHT: Final = 260.0
#: The labels' size in viewBox units, which the margins below are measured in.
FONT_SIZE: Final = 14.0
# The plot area's margins: room for the unit and the legend (top), and the month and
# year labels (bottom); the left one fits the longest tick label (see _left_margin).
RIGHT: Final = 8.0
TOP: Final = 40.0
BOTTOM: Final = 40.0
#: At most about this many intervals between ticks: enough to read a bar's size by,
#: few enough that the labels never crowd.
INTERVALS: Final = 5
# The share of each month's slot its bars fill (the rest keeps months apart), and the
# widest a bar may be, so that one month alone is not drawn as a slab.
_FILL: Final = 0.7
_MAX_BAR: Final = 28.0
# How wide a digit or separator of a tick label is, at most, as a share of the font size
# (system sans-serif faces' figures are about 0.55 em), and the room between a label and
# the plot.
_DIGIT: Final = 0.6
_GAP: Final = 6.0
_MIN_LEFT: Final = 40.0
# Where the legend's entries start, after the unit label at the left.
_LEGEND_X: Final = 150.0
_LEGEND_STEP: Final = 110.0


@dataclass(frozen=True, slots=True)
class Bar:
    """One month's amount of one series, as a rectangle; ``y`` is its top edge, so a
    negative amount's bar starts at the zero line and goes down."""

    period: str  # YYYY-MM
    series: Series
    fen: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Tick:
    """A value of the y axis (a multiple of the step, in fen) and its label in 元."""

    fen: int
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class MonthLabel:
    """A month under its bars: the month, and the year under the first month and every
    January, so that twelve labels stay short and still say where the year turns."""

    period: str
    x: float  # the centre of the month's slot
    month: str
    year: str | None


@dataclass(frozen=True, slots=True)
class LegendEntry:
    series: Series
    x: float


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart's geometry in the viewBox ``0 0 width height``."""

    width: float
    height: float
    font_size: float
    tick_x: float  # where the tick labels end, right-aligned
    left: float  # the plot area's bounds
    right: float
    top: float
    bottom: float
    zero_y: float  # where the zero line is drawn (a tick, so on the grid)
    ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...]
    months: tuple[MonthLabel, ...]
    legend: tuple[LegendEntry, ...]


@dataclass(frozen=True, slots=True)
class Extreme:
    """The month with the largest (or smallest) amount of a series, and that amount."""

    period: str
    fen: int


@dataclass(frozen=True, slots=True)
class Summary:
    """What the charts' descriptions say in words, over the months shown."""

    first: str
    last: str
    months: int
    income_fen: int  # the months' sums
    expense_fen: int
    top_income: Extreme
    top_expense: Extreme
    first_balance_fen: int  # at the end of the first month shown
    last_balance_fen: int
    lowest_balance: Extreme
    highest_balance: Extreme
    negative_months: int  # months that ended with a negative balance


def amount(total: PeriodTotal, series: Series) -> int:
    """A month's amount of ``series``, in fen."""
    if series == "income":
        return total.income_fen
    if series == "expense":
        return total.expense_fen
    return total.balance_fen


def recent(totals: Sequence[PeriodTotal]) -> tuple[list[PeriodTotal], int]:
    """The last :data:`MAX_MONTHS` months (with entries), and how many earlier ones are
    left out. ``totals`` is in period order, as :func:`projections.finance.totals`
    gives it."""
    shown = list(totals[-MAX_MONTHS:])
    return shown, len(totals) - len(shown)


def nice_step(low_fen: int, high_fen: int, intervals: int = INTERVALS) -> int:
    """The smallest step of 1, 2 or 5 × 10^k fen (so 1, 2 or 5 × 10^(k-2) 元) whose
    multiples reach from ``low_fen`` (at most 0) to ``high_fen`` (at least 0) in at most
    ``intervals`` steps. Integer arithmetic only: a logarithm in floats can land just
    below a power of ten and pick a step too small."""
    power = 1
    while True:
        for multiple in (1, 2, 5):
            step = multiple * power
            # Floor division rounds towards minus infinity: these are the multiples of
            # the step just outside the range, the axis's ends.
            if -(-high_fen // step) - low_fen // step <= intervals:
                return step
        power *= 10


def nice_ticks(low_fen: int, high_fen: int) -> tuple[int, ...]:
    """The y axis's ticks, in fen: multiples of :func:`nice_step` from at or below
    ``min(low, 0)`` to at or above ``max(high, 0)``. Zero is always one of them, since a
    bar is drawn from zero; with nothing to scale (every amount zero) the axis runs to
    1 元, so the zero line sits at the bottom rather than in the middle."""
    low, high = min(low_fen, 0), max(high_fen, 0)
    if low == high:
        return (0, 100)
    step = nice_step(low, high)
    return tuple(range((low // step) * step, -(-high // step) * step + step, step))


def money(fen: int, locale: str) -> str:
    """An amount as the locale writes yuan: ``¥23,800.00``, ``CN¥23,800.00``."""
    return format_currency(Decimal(fen) / 100, "CNY", locale=locale)


def month_text(period: str, locale: str) -> str:
    """A month in words: ``2026年7月``, ``July 2026``."""
    return format_skeleton("yMMMM", _first_day(period), locale=locale)


def bar_chart(totals: Sequence[PeriodTotal], series: Sequence[Series], locale: str) -> Chart:
    """Each month's bars of ``series`` side by side, in period order, over an axis of
    :func:`nice_ticks` that covers every amount (negative ones below the zero line)."""
    values = [amount(t, s) for t in totals for s in series]
    ticks = nice_ticks(min(values, default=0), max(values, default=0))
    bottom, top = HEIGHT - BOTTOM, TOP
    low, high = ticks[0], ticks[-1]

    def y_of(fen: int) -> float:
        return bottom - (fen - low) / (high - low) * (bottom - top)

    zero_y = y_of(0)
    labels = [_yuan(fen, locale) for fen in ticks]
    left = _left_margin(labels)
    slot = (WIDTH - RIGHT - left) / max(len(totals), 1)
    bar_width = min(slot * _FILL / max(len(series), 1), _MAX_BAR)
    bars: list[Bar] = []
    months: list[MonthLabel] = []
    for i, total in enumerate(totals):
        centre = left + slot * (i + 0.5)
        start = centre - bar_width * len(series) / 2
        for j, name in enumerate(series):
            fen = amount(total, name)
            edge = y_of(fen)
            # A hairline between a month's bars keeps them apart where they touch.
            bars.append(
                Bar(
                    total.period,
                    name,
                    fen,
                    _r(start + j * bar_width + 0.5),
                    _r(min(edge, zero_y)),
                    _r(bar_width - 1),
                    _r(abs(zero_y - edge)),
                )
            )
        day = _first_day(total.period)
        year = format_skeleton("y", day, locale=locale) if i == 0 or day.month == 1 else None
        months.append(
            MonthLabel(total.period, _r(centre), format_skeleton("MMM", day, locale=locale), year)
        )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        font_size=FONT_SIZE,
        tick_x=_r(left - _GAP),
        left=left,
        right=WIDTH - RIGHT,
        top=top,
        bottom=bottom,
        zero_y=_r(zero_y),
        ticks=tuple(
            Tick(fen, _r(y_of(fen)), label) for fen, label in zip(ticks, labels, strict=True)
        ),
        bars=tuple(bars),
        months=tuple(months),
        legend=tuple(
            LegendEntry(name, _LEGEND_X + k * _LEGEND_STEP) for k, name in enumerate(series)
        ),
    )


def summary(totals: Sequence[PeriodTotal]) -> Summary | None:
    """The figures of the charts' descriptions, over ``totals`` (None if empty). Ties go
    to the earliest month, so the words do not change when a later month equals it."""
    if not totals:
        return None

    def top(series: Series) -> Extreme:
        best = max(totals, key=lambda t: amount(t, series))  # max keeps the first of ties
        return Extreme(best.period, amount(best, series))

    lowest = min(totals, key=lambda t: t.balance_fen)
    return Summary(
        first=totals[0].period,
        last=totals[-1].period,
        months=len(totals),
        income_fen=sum(t.income_fen for t in totals),
        expense_fen=sum(t.expense_fen for t in totals),
        top_income=top("income"),
        top_expense=top("expense"),
        first_balance_fen=totals[0].balance_fen,
        last_balance_fen=totals[-1].balance_fen,
        lowest_balance=Extreme(lowest.period, lowest.balance_fen),
        highest_balance=top("balance"),
        negative_months=sum(1 for t in totals if t.balance_fen < 0),
    )


def _first_day(period: str) -> date:
    return date(int(period[:4]), int(period[5:7]), 1)


def _yuan(fen: int, locale: str) -> str:
    """A tick's value in 元 without the currency sign (the axis says 元 once)."""
    return format_decimal(Decimal(fen) / 100, locale=locale)


def _left_margin(labels: Sequence[str]) -> float:
    """Room for the longest tick label, right-aligned against the plot: the labels are
    figures, so their width follows from their length; a fixed margin would cut off
    the millions or waste a fifth of a phone's width on tens."""
    longest = max((len(label) for label in labels), default=0)
    return _r(max(_MIN_LEFT, longest * FONT_SIZE * _DIGIT + _GAP * 2))


def _r(value: float) -> float:
    """A coordinate to a hundredth of a unit: finer than any screen shows, and short."""
    return round(value, 2)
