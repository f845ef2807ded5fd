"""The disclosure calendar (公开目录与时限) and the 十个防止 report in a real browser: a
committee member follows the console's link to the calendar, and on a later day the
periods that were only due show as not posted; the clerk opens the community's report,
the ten in the seed's order with three not computable from the record, finds the late
periods listed on the later day and downloads the CSV for that day; a resident reads the
same report without the leadership's items (班子内部), which the clerk sees; the street's
auditor reads every community's report, which a clerk is refused. The pages have no
serious axe-core violation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from projections.ten_preventions import NAMES
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store
from tests.browser.conftest import Served, signed_in
from tests.browser.support import assert_accessible, screenshot
from tests.liveserver import serving

PEOPLE = {
    "k.member": ("committee_member", "陈红梅", "tianhai"),
    "k.clerk": ("clerk", "李娜", "tianhai"),
    "k.resident": ("resident", "张伟", "tianhai"),
    "k.auditor": ("disciplinary_auditor", "陈静", None),
}
LEADERSHIP_MARK = "【班子内部】"


def three_months_on(today: dt.date) -> str:
    """The first of the month three months after ``today``'s (2027-03-01 from December
    2026). The demo is dated from the month it is made in: by then its monthly periods
    are overdue and its postings' periods are over."""
    months = today.month + 2  # of three months on, counted from January as 0
    return dt.date(today.year + months // 12, months % 12 + 1, 1).isoformat()


LATER = three_months_on(dt.date.today())


@pytest.fixture(scope="module")
def site(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("calendar")
    url = demo_store(directory)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, (role, name, community) in PEOPLE.items():
            accounts.directory.add(
                username, role, community=community, password=GOOD_PASSWORD, display_name=name
            )
    settings = Settings(db_url=url, keys_dir=directory / "keys", checkpoint_interval=0)
    with serving(create_app(settings)) as base:
        yield Served(base, url, "k.resident", GOOD_PASSWORD, directory / "keys")


def look_at(page: Page, day: str) -> None:
    """Choose ``day`` in the page's date form and wait for the page of that day."""
    page.get_by_label("查看日期").fill(day)
    page.get_by_role("button", name="查看").click()
    expect(page.locator("p.note").first).to_contain_text(f"截至 {day}")


def owed_rows(page: Page) -> dict[tuple[str, str], str]:
    """Each row of the calendar, (obligation, period), with its status (data-owed)."""
    rows = page.locator("section tr[data-owed]").evaluate_all(
        """rows => rows.map(r => [
            r.closest("section").querySelector("h2").textContent,
            r.cells[0].textContent,
            r.dataset.owed,
        ])"""
    )
    return {(obligation, period): owed for obligation, period, owed in rows}


def test_the_calendar_shows_periods_not_posted_once_their_due_date_is_past(
    browser: Browser, site: Served
) -> None:
    member = signed_in(browser, site, "k.member")
    member.get_by_role("link", name="公开目录与时限").click()
    expect(member.locator("h1")).to_have_text("公开目录与时限")
    monthly = member.get_by_role("region", name="每月财务收支明细", exact=True)
    expect(monthly.locator("tr[data-owed]").first).to_be_visible()
    assert_accessible(member, "console-calendar")
    now = owed_rows(member)

    look_at(member, LATER)
    later = owed_rows(member)
    missing = [row for row, owed in later.items() if owed == "missing"]
    assert len(missing) > sum(owed == "missing" for owed in now.values()), later
    # Nothing posted since: what is missing then and was not already (the demo's list
    # never posted) was only due now, or not yet owed.
    newly = [row for row in missing if now.get(row) != "missing"]
    assert newly, (missing, now)
    assert all(now.get(row, "due") == "due" for row in newly), (newly, now)
    expect(monthly.locator('tr[data-owed="missing"]').first).to_contain_text("未公开")
    assert_accessible(member, "console-calendar-later")
    screenshot(member, "console-calendar-later")


def test_the_clerk_reads_the_ten_preventions_and_downloads_the_csv(
    browser: Browser, site: Served, tmp_path: Path
) -> None:
    clerk = signed_in(browser, site, "k.clerk")
    clerk.get_by_role("link", name="十个防止", exact=True).click()
    expect(clerk.locator("h1")).to_have_text("十个防止")
    rows = clerk.locator("tr[data-prevention]")
    expect(rows).to_have_count(len(NAMES))
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.prevention)") == list(NAMES)
    expect(rows.locator("th")).to_have_text(list(NAMES.values()))
    said = dict(zip(NAMES, rows.locator("td:nth-of-type(1)").all_inner_texts(), strict=True))
    not_computable = [key for key, text in said.items() if text == "无法从记录计算"]
    assert not_computable == ["not_specific", "key_points", "form"]
    assert_accessible(clerk, "console-ten-preventions")

    look_at(clerk, LATER)
    late = clerk.locator('ul[data-findings="not_timely"] li')
    expect(late.first).to_contain_text("每月财务收支明细")
    assert_accessible(clerk, "console-ten-preventions-later")
    screenshot(clerk, "console-ten-preventions-later")

    with clerk.expect_download() as download:
        clerk.get_by_role("link", name=re.compile("^下载 CSV")).click()
    sheet = tmp_path / "ten-preventions.csv"
    download.value.save_as(sheet)
    content = sheet.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf"), content[:16]
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("community,prevention"), lines[0]
    # The sheet is of the day chosen, when the late periods are listed.
    assert any(line.startswith("tianhai,not_timely,") for line in lines[1:]), lines


def test_a_resident_sees_the_report_without_the_leaderships_items(
    browser: Browser, site: Served
) -> None:
    report = f"{site.url}/console/c/tianhai/ten-preventions?day={LATER}"
    resident = signed_in(browser, site, "k.resident")
    resident.goto(report)
    expect(resident.locator("tr[data-prevention]")).to_have_count(len(NAMES))
    expect(resident.locator('ul[data-findings="archive_incomplete"] li').first).to_be_visible()
    expect(resident.locator("li", has_text=LEADERSHIP_MARK)).to_have_count(0)
    assert_accessible(resident, "console-ten-preventions-resident")

    clerk = signed_in(browser, site, "k.clerk")
    clerk.goto(report)
    unarchived = clerk.locator('ul[data-findings="archive_incomplete"] li')
    expect(unarchived.filter(has_text=LEADERSHIP_MARK)).to_have_count(1)


def test_the_street_report_is_the_auditors_alone(browser: Browser, site: Served) -> None:
    auditor = signed_in(browser, site, "k.auditor")
    auditor.get_by_role("link", name="十个防止（街道各社区）").click()
    expect(auditor.locator("h1")).to_have_text("十个防止 · 街道各社区")
    for community in ("天海社区", "新河社区"):
        section = auditor.get_by_role("region", name=community, exact=True)
        expect(section.locator("tr[data-prevention]")).to_have_count(len(NAMES))
    assert_accessible(auditor, "console-ten-preventions-street")

    clerk = signed_in(browser, site, "k.clerk")
    refused = clerk.goto(site.url + "/console/street/ten-preventions")
    assert refused is not None
    assert refused.status == 403
    expect(clerk.locator("h1")).to_have_text("无权查看")
    expect(clerk.locator("tr[data-prevention]")).to_have_count(0)
