"""The portal's finance page: the monthly charts and their tables show the same figures,
which are the finance read model's; money is formatted for the page's language; the axis
is nice and covers every bar, negative balances hang below the zero line; the page is
for the community's members and the auditors only; and it loads nothing from elsewhere.

The chart geometry (api/portal/charts.py) is tested directly with made-up months, the
page against the demo community (天海社区) and 新河社区 given fourteen months of
entries here, whose balance turns negative."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.portal import charts, finance_page
from api.portal.views import CHINA
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.store import open_store
from projections import finance
from projections.db import ReadDB, open_read_db
from projections.finance import PeriodTotal
from tests.api.demo_service import catch_up, demo_store, reader_tokens
from tests.contract.test_ledger_contract import CLERK, VOUCHER, key

Who = tuple[str, str | None] | None
AUDITOR: tuple[str, str | None] = ("disciplinary_auditor", None)
RESIDENT: tuple[str, str | None] = ("resident", "tianhai")
OUTSIDER: tuple[str, str | None] = ("resident", "xinhe")
HTML = "text/html; charset=utf-8"
PATH = "/c/{community_id}/finance"
# An amount as the charts and tables mark it: on a bar (whose <title> says it in words)
# or a table cell (which shows it formatted).
AMOUNT = re.compile(
    r'<(rect|td)\b[^>]*\bdata-period="([^"]*)" data-series="([^"]*)" data-fen="(-?[0-9]+)"'
    r"[^>]*>(.*?)</\1>",
    re.S,
)
# 新河社区's months: five with more coming in than going out, then nine the other way,
# so that the last twelve shown cross from a positive balance to a negative one.
XINHE_MONTHS = [f"{2024 + (10 + i) // 12}-{(10 + i) % 12 + 1:02d}" for i in range(14)]
XINHE_FLOWS = [(500_000, 100_000)] * 5 + [(100_000, 400_000)] * 9


@dataclass
class Portal:
    client: TestClient
    db: ReadDB
    tokens: dict[tuple[str, str | None], str]

    def get(self, path: str, who: Who = AUDITOR, status: int = 200) -> str:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        response = self.client.get(path, headers=headers)
        assert response.status_code == status, (path, who, response.text[:500])
        assert response.headers["content-type"] == HTML, path
        text: str = response.text
        return text


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The demo, 新河社区 with its fourteen months, and the page's readers."""
    url = demo_store(tmp_path_factory.mktemp("finance"))
    with open_store(url) as store, Ledger(store) as ledger:
        xinhe = ledger.community("xinhe")
        for period, (income, expense) in zip(XINHE_MONTHS, XINHE_FLOWS, strict=True):
            for kind, account, fen in (
                ("income", "grant", income),
                ("expense", "salary", expense),
            ):
                xinhe.record_entry(
                    CLERK,
                    key(),
                    kind=kind,
                    amount_fen=fen,
                    account=account,
                    counterparty="街道办事处",
                    voucher_sha256=VOUCHER,
                    period=period,
                )
    catch_up(url)
    tokens = reader_tokens(url, [AUDITOR, RESIDENT, OUTSIDER])
    app = create_app(Settings(db_url=url, checkpoint_interval=0))
    registered = {r.path for r in app.routes if isinstance(r, APIRoute)}
    if PATH not in registered:  # until the app registers the page itself
        app.include_router(finance_page.router)
    db = open_read_db(url, create=False)
    try:
        with TestClient(app) as client:
            yield Portal(client, db, tokens)
    finally:
        db.close()


def amounts(fragment: str, tag: str) -> dict[tuple[str, str], tuple[int, str]]:
    """Each (period, series) marked on ``tag`` elements: its fen and what it shows."""
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for element, period, series, fen, content in AMOUNT.findall(fragment):
        if element == tag:
            assert (period, series) not in found, (period, series)
            found[period, series] = (int(fen), content)
    return found


def table(page: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
    assert match is not None, table_id
    return match[1]


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, re.S)


def expected(db: ReadDB, community_id: str) -> dict[tuple[str, str], int]:
    """What the charts should show: the read model's last twelve months."""
    shown = finance.totals(db, community_id, "month")[-charts.MAX_MONTHS :]
    return {
        (t.period, series): fen
        for t in shown
        for series, fen in (
            ("income", t.income_fen),
            ("expense", t.expense_fen),
            ("balance", t.balance_fen),
        )
    }


def yuan(fen: int, sign: str) -> str:
    """Money as each language writes it, worked out without Babel: sign, then digits."""
    return f"{'-' if fen < 0 else ''}{sign}{abs(Decimal(fen)) / 100:,.2f}"


# --- the page against the read model ---------------------------------------------------------


@pytest.mark.parametrize("community_id", ["tianhai", "xinhe"])
def test_the_charts_and_the_tables_show_the_read_models_figures(
    portal: Portal, community_id: str
) -> None:
    """Every bar has a table cell with the same figure, shown as the bar's title says it,
    and together they are the finance read model's last twelve months."""
    page = portal.get(PATH.format(community_id=community_id))
    flow, balance = svgs(page)
    bars = amounts(flow, "rect") | amounts(balance, "rect")
    cells = amounts(table(page, "flow-table"), "td") | amounts(table(page, "balance-table"), "td")
    nets = {k: v for k, v in cells.items() if k[1] == "net"}
    cells = {k: v for k, v in cells.items() if k[1] != "net"}
    assert {k: fen for k, (fen, _) in bars.items()} == expected(portal.db, community_id)
    assert {k: fen for k, (fen, _) in cells.items()} == expected(portal.db, community_id)
    for (period, series), (fen, title) in bars.items():
        shown = cells[period, series][1]
        assert shown == yuan(fen, "¥")
        assert re.fullmatch(rf"<title>[^<]*{re.escape(shown)}</title>", title), title
    for (period, _), (fen, _) in nets.items():
        assert fen == bars[period, "income"][0] - bars[period, "expense"][0]


def test_the_demos_sums_are_its_entries(portal: Portal) -> None:
    """The sums the page shows add up to the entries recorded, the reversed one and its
    red-ink reversal included, and the last balance is everything in less everything out."""
    page = portal.get("/c/tianhai/finance")
    entries = finance.entries(portal.db, "tianhai")
    periods = {e.period for e in entries}
    assert 1 < len(periods) <= charts.MAX_MONTHS, "the demo's months all fit the charts"
    assert any(e.reversed for e in entries), "the demo's duplicated voucher"
    cells = amounts(table(page, "flow-table"), "td")
    for series in ("income", "expense"):
        recorded = sum(e.amount_fen for e in entries if e.kind == series)
        assert sum(fen for (_, s), (fen, _) in cells.items() if s == series) == recorded
    balances = amounts(table(page, "balance-table"), "td")
    last = max(p for p, s in balances if s == "balance")
    income = sum(e.amount_fen for e in entries if e.kind == "income")
    spent = sum(e.amount_fen for e in entries if e.kind == "expense")
    assert balances[last, "balance"][0] == income - spent
    assert {p for p, _ in cells} == periods
    assert "更早的" not in page, "no months left out"


def test_the_latest_month_by_account(portal: Portal) -> None:
    """The last month's accounts, each in its own column, adding up to the month."""
    page = portal.get("/c/tianhai/finance")
    latest = finance.totals(portal.db, "tianhai", "month")[-1]
    accounts = table(page, "accounts-table")
    rows = re.findall(r'<tr data-account="([^"]+)"><th scope="row">([^<]+)</th>', accounts)
    assert rows == [(a.account, a.account_name) for a in latest.accounts]
    body, foot = accounts.split("<tfoot>")
    lines = [int(match[3]) for match in AMOUNT.findall(body)]
    assert sum(lines) == latest.income_fen + latest.expense_fen
    assert amounts(foot, "td") == {
        (latest.period, "income"): (latest.income_fen, yuan(latest.income_fen, "¥")),
        (latest.period, "expense"): (latest.expense_fen, yuan(latest.expense_fen, "¥")),
    }
    assert "办公费" in body, "the month with the red-ink reversal"


def test_money_in_chinese_and_in_english(portal: Portal) -> None:
    """Amounts as each language writes yuan, negative ones too."""
    for lang, sign in (("", "¥"), ("?lang=en", "CN¥")):
        page = portal.get("/c/xinhe/finance" + lang)
        cells = amounts(table(page, "balance-table"), "td")
        assert any(fen < 0 for fen, _ in cells.values()), "a negative balance"
        for fen, shown in cells.values():
            assert shown == yuan(fen, sign)
    assert charts.money(2_380_000, "zh_Hans_CN") == "¥23,800.00"
    assert charts.money(-24_300, "en") == "-CN¥243.00"
    assert charts.money(1, "zh_Hans_CN") == "¥0.01"


def test_the_axis_covers_every_bar(portal: Portal) -> None:
    """The tick labels (元) run in nice equal steps from at or below the lowest bar to at
    or above the highest, through zero."""
    for community_id in ("tianhai", "xinhe"):
        for chart in svgs(portal.get(PATH.format(community_id=community_id))):
            labels = re.findall(
                r'<text x="[^"]*" y="[^"]*" text-anchor="end">([^<]*)</text>', chart
            )
            ticks = [int(Decimal(label.replace(",", "")) * 100) for label in labels]
            fens = [int(fen) for _, _, _, fen, _ in AMOUNT.findall(chart)]
            assert ticks[0] <= min(fens), (ticks, fens)
            assert ticks[-1] >= max(fens), (ticks, fens)
            assert 0 in ticks
            steps = {b - a for a, b in itertools.pairwise(ticks)}
            assert len(steps) == 1
            assert is_nice(steps.pop())


def test_a_negative_balance_hangs_below_the_zero_line(portal: Portal) -> None:
    balance = svgs(portal.get("/c/xinhe/finance"))[1]
    zero = re.search(r'<line class="zero" [^>]*y1="([^"]+)"', balance)
    assert zero is not None
    zero_y = float(zero[1])
    rects = re.findall(
        r'<rect x="[^"]*" y="([^"]+)" width="[^"]*" height="([^"]+)"[^>]*data-fen="(-?[0-9]+)"',
        balance,
    )
    assert {int(fen) < 0 for _, _, fen in rects} == {True, False}
    for y, height, fen in rects:
        top, bottom = float(y), float(y) + float(height)
        if int(fen) < 0:
            assert top == pytest.approx(zero_y)
            assert bottom > zero_y
        else:
            assert bottom == pytest.approx(zero_y)
            assert top <= zero_y


def test_older_months_are_left_out_and_said_to_be(portal: Portal) -> None:
    page = portal.get("/c/xinhe/finance")
    assert "图表和表格只显示有记录的最近 12 个月；更早的 2 个月未显示。" in page
    shown = {p for p, _ in amounts(table(page, "flow-table"), "td")}
    assert shown == set(XINHE_MONTHS[-12:])


def test_the_charts_have_text_alternatives(portal: Portal) -> None:
    """Each chart: a figure with a caption, an image named by its own title and described
    by its own desc, a legend, and a title on every bar; each table a caption and headers."""
    page = portal.get("/c/tianhai/finance")
    figures = re.findall(r"<figure>(.*?)</figure>", page, re.S)
    assert len(figures) == 2
    for figure in figures:
        assert re.search(r"<figcaption>[^<]+</figcaption>", figure)
        svg = re.search(r'<svg [^>]*role="img" aria-labelledby="(\S+) (\S+)"', figure)
        assert svg is not None
        assert re.search(rf'<title id="{svg[1]}">[^<]+</title>', figure)
        desc = re.search(rf'<desc id="{svg[2]}">([^<]+)</desc>', figure)
        assert desc is not None
        assert "¥" in desc[1], "the desc gives the figures"
        assert 'viewBox="0 0 ' in figure
        assert 'width="100%"' in figure
        bars = re.findall(r"<rect [^>]*data-period[^>]*>(.*?)</rect>", figure, re.S)
        assert bars
        assert all(re.fullmatch(r"<title>[^<]+</title>", b) for b in bars)
    assert "收入</text>" in figures[0], "the legend"
    assert "支出</text>" in figures[0], "the legend"
    assert 'fill="url(#hatch-expense)"' in figures[0], "expense is hatched, not only red"
    for table_id in ("flow-table", "balance-table", "accounts-table"):
        body = table(page, table_id)
        assert re.search(r"<caption [^>]*>[^<]+</caption>", body)
        assert '<th scope="col">' in body
        assert '<th scope="row">' in body
    assert page.count('<div class="table-wrap" role="region"') == 3


@pytest.mark.parametrize("lang", ["", "?lang=en"])
def test_the_page_loads_nothing_from_elsewhere(portal: Portal, lang: str) -> None:
    page = portal.get("/c/tianhai/finance" + lang)
    assert not re.search(r"<script|src=|https?://", page)


# --- who may read it ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [(None, 401), (OUTSIDER, 403), (RESIDENT, 200), (AUDITOR, 200)], ids=str
)
def test_finance_is_for_members_and_auditors(portal: Portal, who: Who, status: int) -> None:
    portal.get("/c/tianhai/finance", who, status)


def test_an_unknown_community_is_not_found(portal: Portal) -> None:
    portal.get("/c/nowhere/finance", status=404)


# --- time travel and language ---------------------------------------------------------------


def test_before_any_entry_there_is_nothing_to_chart(portal: Portal) -> None:
    page = portal.get("/c/tianhai/finance?date=2000-01-01")
    assert "暂无财务收支记录。" in page
    assert "2000-01-01 日终（北京时间）的财务收支：截至第 0 条记录。" in page
    assert "<svg" not in page
    assert "<table" not in page
    assert 'value="2000-01-01"' in page
    portal.get("/c/tianhai/finance?date=2026-02-30", status=422)


def test_the_end_of_today_is_now(portal: Portal) -> None:
    today = datetime.now(CHINA).date().isoformat()
    now = portal.get("/c/tianhai/finance")
    later = portal.get(f"/c/tianhai/finance?date={today}")
    current = re.search(r"当前财务收支：截至第 (\d+) 条记录。", now)
    assert current is not None
    assert f"{today} 日终（北京时间）的财务收支：截至第 {current[1]} 条记录。" in later
    for table_id in ("flow-table", "balance-table", "accounts-table"):
        assert table(later, table_id) == table(now, table_id)
    assert svgs(later) == svgs(now)


def test_english_on_request(portal: Portal) -> None:
    """The page's language, its dates and money in English, and links that keep it."""
    page = portal.get("/c/tianhai/finance?lang=en&date=2999-12-31")
    assert '<html lang="en">' in page
    latest = finance.totals(portal.db, "tianhai", "month")[-1]
    month = charts.month_text(latest.period, "en")
    assert re.fullmatch(r"[A-Z][a-z]+ [0-9]{4}", month)
    assert f'<th scope="row">{month}</th>' in page
    assert yuan(latest.income_fen, "CN¥") in page
    assert '<input type="hidden" name="lang" value="en">' in page
    links = re.findall(r'href="(/[^"]*)"', page)
    assert all("lang=en" in link for link in links if link != "/c/tianhai/finance?date=2999-12-31")
    assert '<a href="/c/tianhai/finance?date=2999-12-31" lang="zh-CN"' in page


# --- the geometry, on made-up months ------------------------------------------------------------


def months(*flows: tuple[int, int], start: int = 2025) -> list[PeriodTotal]:
    """Consecutive months from January of ``start`` with these (income, expense)."""
    result, balance = [], 0
    for i, (income, expense) in enumerate(flows):
        opening, balance = balance, balance + income - expense
        period = f"{start + i // 12}-{i % 12 + 1:02d}"
        net = income - expense
        result.append(PeriodTotal(period, income, expense, net, opening, balance, ()))
    return result


def is_nice(step: int) -> bool:
    """1, 2 or 5 times a power of ten (of fen, so of 元 too)."""
    while step % 10 == 0:
        step //= 10
    return step in (1, 2, 5)


def intervals(low: int, high: int, step: int) -> int:
    """How many steps the axis takes from the multiple at or below ``low`` to the one at
    or above ``high``."""
    return -(-high // step) - low // step


@given(st.integers(-(10**13), 0), st.integers(0, 10**13))
def test_nice_ticks_are_nice_and_cover_the_range(low: int, high: int) -> None:
    ticks = charts.nice_ticks(low, high)
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    step = steps.pop()
    assert is_nice(step)
    assert ticks[0] <= low
    assert ticks[-1] >= high
    assert 0 in ticks
    assert len(ticks) - 1 <= charts.INTERVALS
    if low != high:  # (both zero: the 1 元 axis of test_all_zero_months...)
        assert ticks[0] > low - step, "no tick to spare"
        assert ticks[-1] < high + step, "no tick to spare"
        # The next smaller nice step (half of 1 or 2 × 10^k, two fifths of 5 × 10^k)
        # would need more ticks than the axis has room for.
        smaller = [s for s in (step // 2, step * 2 // 5) if s > 0 and is_nice(s)]
        assert all(intervals(low, high, s) > charts.INTERVALS for s in smaller)


def test_nice_steps_known_answers() -> None:
    assert charts.nice_step(0, 2_500_000) == 500_000  # 25,000 元 in five steps of 5,000
    assert charts.nice_step(0, 2_500_001) == 1_000_000
    assert charts.nice_step(0, 3_000_000) == 1_000_000
    assert charts.nice_step(-1, 1) == 1
    assert charts.nice_ticks(-150, 1_000) == (-500, 0, 500, 1_000)
    assert charts.nice_ticks(-150, 700) == (-200, 0, 200, 400, 600, 800)
    assert charts.nice_ticks(0, 0) == (0, 100)


def y_scale(chart: charts.Chart) -> float:
    """Units of height per fen."""
    low, high = chart.ticks[0], chart.ticks[-1]
    return (chart.bottom - chart.top) / (high.fen - low.fen)


def test_a_negative_balance_is_drawn_down_from_zero() -> None:
    totals = months((100_000, 0), (0, 300_000), (50_000, 0))  # balances 1,000, -2,000, -1,500
    chart = charts.bar_chart(totals, ("balance",), "zh_Hans_CN")
    assert [b.fen for b in chart.bars] == [100_000, -200_000, -150_000]
    assert chart.top < chart.zero_y < chart.bottom
    scale = y_scale(chart)
    for bar in chart.bars:
        assert bar.height == pytest.approx(abs(bar.fen) * scale, abs=0.01)
        if bar.fen < 0:
            assert bar.y == chart.zero_y
        else:
            assert bar.y + bar.height == pytest.approx(chart.zero_y)
    tick = {t.fen: t for t in chart.ticks}
    assert tick[0].y == chart.zero_y
    assert chart.bars[1].y + chart.bars[1].height == pytest.approx(tick[-200_000].y)


def test_all_zero_months_draw_flat_bars_on_a_one_yuan_axis() -> None:
    chart = charts.bar_chart(months((0, 0), (0, 0)), ("income", "expense"), "en")
    assert [t.fen for t in chart.ticks] == [0, 100]
    assert [t.label for t in chart.ticks] == ["0", "1"]
    assert chart.zero_y == chart.bottom
    assert all(b.height == 0 and b.y == chart.bottom for b in chart.bars)
    summary = charts.summary(months((0, 0)))
    assert summary is not None
    assert summary.negative_months == 0


def test_a_single_month() -> None:
    chart = charts.bar_chart(months((500_000, 200_000)), ("income", "expense"), "zh_Hans_CN")
    assert [(b.series, b.fen) for b in chart.bars] == [("income", 500_000), ("expense", 200_000)]
    assert all(b.width <= 28 for b in chart.bars), "one month is not drawn as a slab"
    (label,) = chart.months
    assert (label.month, label.year) == ("1月", "2025年")
    assert label.x == pytest.approx((chart.left + chart.right) / 2)
    left, right = chart.bars
    assert left.x + left.width < right.x, "side by side"
    assert left.x - chart.left == pytest.approx(chart.right - right.x - right.width, abs=0.01)
    summary = charts.summary(months((500_000, 200_000)))
    assert summary is not None
    assert summary.first == summary.last
    assert charts.bar_chart([], ("balance",), "en").bars == ()
    assert charts.summary([]) is None


def test_more_than_twelve_months() -> None:
    totals = months(*[(100_000 * (i + 1), 50_000) for i in range(15)], start=2024)
    shown, hidden = charts.recent(totals)
    assert (len(shown), hidden) == (12, 3)
    assert shown == totals[3:]
    chart = charts.bar_chart(shown, ("income", "expense"), "en")
    assert len(chart.bars) == 24
    xs = [b.x for b in chart.bars]
    assert xs == sorted(xs)
    assert chart.left <= xs[0]
    assert xs[-1] + chart.bars[-1].width <= chart.right
    years = [(m.period, m.year) for m in chart.months if m.year]
    assert years == [("2024-04", "2024"), ("2025-01", "2025")], "the first month and January"
    summary = charts.summary(shown)
    assert summary is not None
    assert summary.top_income == charts.Extreme("2025-03", 1_500_000)
    assert summary.income_fen == sum(t.income_fen for t in shown)
    assert summary.first_balance_fen == shown[0].balance_fen, "carried from the months left out"
