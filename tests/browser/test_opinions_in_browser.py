"""Residents' opinions in a real browser: a resident finds a posted item on the board,
signs in on its page and leaves an opinion; the clerk answers it in the console; an
anonymous reader sees the answer on the public page, the resident's name masked. The
pages have no serious axe-core violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store
from tests.browser.conftest import PHONE, Served
from tests.browser.support import assert_accessible, screenshot
from tests.liveserver import serving

PEOPLE = {"o.resident": ("resident", "张伟"), "o.clerk": ("clerk", "李娜")}
ITEM = "居民要求公开：小区停车费收支及去向"
OPINION = "建议把停车位出租收入的去向按月列出。"
ANSWER = "已采纳：自下月起按月列出停车费收入去向。"


@pytest.fixture(scope="module")
def site(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("opinions")
    url = demo_store(directory)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, (role, name) in PEOPLE.items():
            accounts.directory.add(
                username, role, community="tianhai", password=GOOD_PASSWORD, display_name=name
            )
    settings = Settings(
        db_url=url, keys_dir=directory / "keys", checkpoint_interval=0, worker=True
    )
    with serving(create_app(settings)) as base:
        yield Served(base, url, "o.resident", GOOD_PASSWORD, directory / "keys")


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    return context.new_page()


def test_a_resident_leaves_an_opinion_the_clerk_answers_and_the_public_sees_it(
    browser: Browser, site: Served
) -> None:
    resident = new_page(browser)
    resident.goto(site.url + "/c/tianhai")
    resident.get_by_role("link", name=ITEM, exact=True).click()
    expect(resident.locator("h1")).to_have_text(ITEM)
    resident.get_by_text("本社区居民和居民代表登录后可提出意见").click()
    resident.get_by_label("用户名").fill("o.resident")
    resident.get_by_label("密码").fill(GOOD_PASSWORD)
    resident.get_by_role("button", name="登录").click()
    # Back on the item, signed in: the form is there.
    expect(resident.locator("h1")).to_have_text(ITEM)
    resident.get_by_label("您的意见").fill(OPINION)
    expect(
        resident.get_by_label("同意公开意见内容（姓名始终部分隐去，答复始终公开）")
    ).to_be_checked()
    resident.get_by_role("button", name="提交意见").click()
    mine = resident.locator("section", has_text=OPINION)
    expect(mine).to_contain_text("待答复")
    expect(mine).to_contain_text("张伟")
    assert_accessible(resident, "portal-item-opinion-left")
    screenshot(resident, "portal-item-opinion-left")

    clerk = new_page(browser)
    clerk.goto(site.url + "/console")
    clerk.get_by_label("用户名").fill("o.clerk")
    clerk.get_by_label("密码").fill(GOOD_PASSWORD)
    clerk.get_by_role("button", name="登录").click()
    expect(clerk.locator("h1")).to_have_text("工作台")
    clerk.get_by_role("link", name="居民意见答复").click()
    waiting = clerk.locator("article", has_text=OPINION)
    expect(waiting).to_contain_text("待答复")
    waiting.get_by_label("答复内容").fill(ANSWER)
    waiting.get_by_role("button", name="答复").click()
    answered = clerk.locator("article", has_text=OPINION)
    expect(answered).to_contain_text("已答复")
    expect(answered).to_contain_text(ANSWER)
    assert_accessible(clerk, "console-opinions")
    screenshot(clerk, "console-opinions")

    reader = new_page(browser)
    reader.goto(site.url + "/c/tianhai")
    listed = reader.locator("article", has_text=ITEM)
    expect(listed).to_contain_text("居民意见 2 条，已答复 2 条")
    listed.get_by_role("link", name=ITEM, exact=True).click()
    public = reader.locator("section", has_text=OPINION)
    expect(public).to_contain_text(ANSWER)
    expect(public).to_contain_text("张*")
    expect(public).not_to_contain_text("张伟")
    expect(reader.get_by_role("button", name="提交意见")).to_have_count(0)
    assert_accessible(reader, "portal-item-opinion-answered")
    screenshot(reader, "portal-item-opinion-answered")
