"""The public portal in a real browser (headless Chromium, a phone's screen): what it
renders in Chinese and in English, the date form's time travel, an item's versions, the
keyboard's skip link, axe-core's accessibility checks, and no request leaving the site.
Each test leaves a screenshot in the artifacts directory (see support.artifacts)."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import Page, Request, expect

from api.portal.views import CHINA
from tests.browser.support import assert_accessible, screenshot, serious_violations

BOARD = "/c/tianhai"
ZH_SECTIONS = ["政务公开", "财务公开"]
EN_SECTIONS = ["Affairs", "Finance"]
#: After the sections, the items whose posting has ended or that were archived.
ZH_PAST, EN_PAST = "往期公开", "Past postings"


def articles(page: Page) -> int:
    return page.locator("main article").count()


def section_headings(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("main h2").all_inner_texts()]


def open_first_item(page: Page, portal_url: str) -> str:
    """Follow the board's first item link; the item page's path and query."""
    link = page.locator("main article h3 a").first
    href = link.get_attribute("href")
    assert href is not None
    assert href.startswith(f"{BOARD}/items/"), href
    link.click()
    expect(page).to_have_url(portal_url + href)
    return href


def test_the_board_renders_in_chinese(page: Page, portal_url: str) -> None:
    page.goto(portal_url + BOARD)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("天海社区居务公开栏")
    for heading in ZH_SECTIONS:
        expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
    assert section_headings(page) == [*ZH_SECTIONS, ZH_PAST]
    assert articles(page) >= 1
    expect(page.locator("main article").first).to_be_visible()
    expect(page).to_have_title("天海社区 · 居务公开")
    screenshot(page, "board-zh-CN")


def test_the_language_switch(page: Page, portal_url: str) -> None:
    page.goto(portal_url + BOARD)
    count = articles(page)
    page.get_by_role("link", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{portal_url}{BOARD}?lang=en")
    for heading in EN_SECTIONS:
        expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
    assert section_headings(page) == [*EN_SECTIONS, EN_PAST]
    assert articles(page) == count, "the same items in either language"
    screenshot(page, "board-en")
    page.get_by_role("link", name="中文", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_url(portal_url + BOARD)
    assert section_headings(page) == [*ZH_SECTIONS, ZH_PAST]


def test_time_travel_with_the_date_form(page: Page, portal_url: str) -> None:
    page.goto(portal_url + BOARD)
    now = articles(page)
    assert now > 0
    form = page.locator("form.travel")
    expect(form).to_be_visible()
    form.get_by_label("查看某日的公开栏").fill("2000-01-01")
    form.get_by_role("button", name="查看").click()
    expect(page).to_have_url(f"{portal_url}{BOARD}?date=2000-01-01")
    expect(page.get_by_text("2000-01-01 日终（北京时间）的公开栏")).to_be_visible()
    assert articles(page) == 0 < now
    expect(page.get_by_text("暂无公开事项。")).to_have_count(len(ZH_SECTIONS))
    expect(form.get_by_label("查看某日的公开栏")).to_have_value("2000-01-01")
    screenshot(page, "board-2000-01-01")
    # Today in China: the end of it is after every entry the demo made.
    today = datetime.now(CHINA).date().isoformat()
    form.get_by_label("查看某日的公开栏").fill(today)
    form.get_by_role("button", name="查看").click()
    expect(page).to_have_url(f"{portal_url}{BOARD}?date={today}")
    expect(page.get_by_text(f"{today} 日终（北京时间）的公开栏")).to_be_visible()
    assert articles(page) == now


def test_an_item_page_and_its_skip_link(page: Page, portal_url: str) -> None:
    page.goto(portal_url + BOARD)
    title = page.locator("main article h3 a").first.inner_text()
    open_first_item(page, portal_url)
    expect(page.locator("h1")).to_have_text(title)
    expect(page.get_by_role("heading", level=2, name="版本记录")).to_be_visible()
    versions = page.locator("section.version")
    assert versions.count() >= 1
    expect(versions.first.locator("h3")).to_contain_text("版")
    screenshot(page, "item-zh-CN")
    # The keyboard: the first Tab reaches the skip link, shown on screen once focused...
    skip = page.get_by_role("link", name="跳到正文")
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    screenshot(page, "item-skip-link-focused")
    # ...and Enter on it goes to the main content, where the next Tab carries on.
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{page.url.split('#')[0]}#main")
    assert page.evaluate("document.querySelector(':target')?.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_accessibility_of_the_board_and_an_item(page: Page, portal_url: str, lang: str) -> None:
    page.goto(portal_url + BOARD + ("?lang=en" if lang == "en" else ""))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    screenshot(page, f"a11y-board-{lang}")
    assert_accessible(page, f"board-{lang}")
    open_first_item(page, portal_url)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    screenshot(page, f"a11y-item-{lang}")
    assert_accessible(page, f"item-{lang}")


def test_no_request_leaves_the_site(page: Page, portal_url: str) -> None:
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    page.goto(portal_url + BOARD)
    open_first_item(page, portal_url)
    page.wait_for_load_state("networkidle")
    screenshot(page, "item-requests")
    assert any(url.startswith(f"{portal_url}{BOARD}/items/") for url in requested), requested
    outside = [url for url in requested if not url.startswith(portal_url + "/")]
    assert not outside, outside


def test_assert_accessible_reports_serious_violations(page: Page) -> None:
    """The helper itself: an image without alt text fails it, naming the rule and the
    element; a page with only a moderate violation (no h1) passes, and is recorded."""
    page.set_content(
        '<!doctype html><html lang="en"><head><title>Test</title></head>'
        '<body><main><h1>Test</h1><img src="data:image/gif;base64,'
        'R0lGODlhAQABAAAAACw=" id="no-alt"></main></body></html>'
    )
    screenshot(page, "helper-image-without-alt")
    with pytest.raises(AssertionError, match=r"image-alt \(critical\).*#no-alt"):
        assert_accessible(page, "helper-image-without-alt")
    page.set_content(
        '<!doctype html><html lang="en"><head><title>Test</title></head>'
        "<body><main><p>No heading at all.</p></main></body></html>"
    )
    result = assert_accessible(page, "helper-moderate-only")
    assert "page-has-heading-one" in [v["id"] for v in result["violations"]]
    assert serious_violations(result) == []
