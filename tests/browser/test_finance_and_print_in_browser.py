"""The finance page and the printed sheets in a real browser: a resident signs in through
the page's own form, each chart shows the figures its table shows, both pass axe-core;
printed, a section is one A4 page per item, each with its QR code, and nothing of the
screen's navigation."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Served
from tests.browser.support import artifacts, assert_accessible, screenshot

FINANCE = "/c/tianhai/finance"


def sign_in_through_the_form(page: Page, served: Served) -> None:
    """Open the finance page anonymously, and sign in on the form it answers with."""
    page.goto(served.url + FINANCE)
    expect(page.locator("h1")).to_have_text("请先登录")
    page.get_by_label("用户名").fill(served.resident)
    page.get_by_label("密码").fill(served.password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(served.url + FINANCE)


def figures(page: Page, selector: str) -> dict[tuple[str, str], int]:
    """(month, series) -> fen, as the elements matching ``selector`` carry them."""
    found: dict[tuple[str, str], int] = {}
    for element in page.locator(selector).all():
        key = (
            element.get_attribute("data-period") or "",
            element.get_attribute("data-series") or "",
        )
        assert key not in found, key
        found[key] = int(element.get_attribute("data-fen") or "x")
    return found


def test_a_resident_signs_in_and_each_chart_matches_its_table(page: Page, served: Served) -> None:
    sign_in_through_the_form(page, served)
    expect(page.locator("h1")).to_have_text("天海社区财务收支")
    charts = page.locator("svg.chart")
    assert charts.count() == 2
    flow_bars = figures(page, "svg.chart >> nth=0 >> rect[data-series]")
    balance_bars = figures(page, "svg.chart >> nth=1 >> rect[data-series]")
    assert flow_bars == figures(page, "#flow-table td[data-series]")
    assert balance_bars == figures(page, "#balance-table td[data-series='balance']"), (
        "the balance chart and its column"
    )
    months = {month for month, _ in flow_bars}
    assert len(months) >= 3
    assert {series for _, series in flow_bars} == {"income", "expense"}
    # A bar's text alternative names the amount its table cell shows.
    cell = page.locator("#flow-table td[data-series='income']").first
    month = cell.get_attribute("data-period")
    bar_title = page.locator(
        f"svg.chart >> nth=0 >> rect[data-period='{month}'][data-series='income'] title"
    ).text_content()
    assert bar_title is not None
    assert cell.inner_text().strip() in bar_title
    # The figures are the finance route's, which the same session may read.
    totals = page.request.get(served.url + "/v1/communities/tianhai/finance/totals").json()
    expected = {
        (p["period"], s): p[f"{s}_fen"] for p in totals["periods"] for s in ("income", "expense")
    }
    assert flow_bars == {k: v for k, v in expected.items() if k[0] in months}
    screenshot(page, "finance-zh-CN")
    assert_accessible(page, "finance-zh-CN")
    page.get_by_role("link", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert figures(page, "#flow-table td[data-series]") == flow_bars
    screenshot(page, "finance-en")
    assert_accessible(page, "finance-en")


def test_the_sign_in_page_is_accessible(page: Page, served: Served) -> None:
    page.goto(served.url + FINANCE)
    assert_accessible(page, "finance-sign-in")


def test_a_wrong_password_is_said_on_the_page(page: Page, served: Served) -> None:
    page.goto(served.url + FINANCE)
    page.get_by_label("用户名").fill(served.resident)
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码不正确，请重试。")
    expect(page.locator("h1")).to_have_text("请先登录")
    screenshot(page, "sign-in-failed")
    assert_accessible(page, "sign-in-failed")
    page.get_by_label("用户名").fill(served.resident)
    page.get_by_label("密码").fill(served.password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(served.url + FINANCE)
    expect(page.locator("h1")).to_have_text("天海社区财务收支")


def test_a_section_prints_as_one_sheet_per_item(page: Page, served: Served) -> None:
    page.goto(served.url + "/c/tianhai")
    page.get_by_role("link", name="打印本栏张贴用页面").first.click()
    expect(page).to_have_url(re.compile(r"/c/tianhai/sheets\?section=affairs$"))
    sheets = page.locator("article.sheet")
    count = sheets.count()
    assert count >= 2
    assert page.locator("article.sheet svg.qr").count() == count, "a QR code on each"
    screenshot(page, "sheets-screen")
    assert_accessible(page, "sheets")
    page.emulate_media(media="print")
    expect(page.locator("header")).to_be_hidden()
    expect(page.locator(".screen-only")).to_be_hidden()
    expect(sheets.first).to_be_visible()
    pdf = artifacts() / "sheets-affairs.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))
    assert pages == count, f"{pages} printed pages for {count} items"
