"""Reports in a real browser: a resident signs in on the portal's report page, files a
report and is shown its receipt code; the street's auditor registers nothing new, opens
the reporter's identity in the console with the demo committee's key file (which never
leaves the browser), and acknowledges the report; the receipt code, typed by anyone,
shows it acknowledged. A wrong key file is refused in the browser. The pages have no
serious axe-core violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from ledger.sealed_identity import generate_key_pair
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store
from tests.browser.conftest import PHONE, Served
from tests.browser.support import assert_accessible, screenshot
from tests.liveserver import serving

PEOPLE = {
    "r.resident": ("resident", "张伟", "tianhai"),
    "r.auditor": ("disciplinary_auditor", "陈静", None),
}
SUBJECT = "垃圾分类补贴发放不透明"
NAME = "张伟本人"
CONTACT = "138-0000-1111"


@pytest.fixture(scope="module")
def site(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("reports")
    url = demo_store(directory)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, (role, name, community) in PEOPLE.items():
            accounts.directory.add(
                username, role, community=community, password=GOOD_PASSWORD, display_name=name
            )
    settings = Settings(
        db_url=url, keys_dir=directory / "keys", checkpoint_interval=0, worker=True
    )
    with serving(create_app(settings)) as base:
        yield Served(base, url, "r.resident", GOOD_PASSWORD, directory / "keys")


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    return context.new_page()


def test_a_report_is_filed_opened_by_the_auditor_and_followed_by_receipt(
    browser: Browser, site: Served, tmp_path: Path
) -> None:
    resident = new_page(browser)
    resident.goto(site.url + "/c/tianhai")
    resident.get_by_role("link", name="举报", exact=True).click()
    expect(resident.locator("h1")).to_have_text("向街道纪工委举报")
    resident.get_by_text("本社区居民登录后可以在网上举报。").click()
    resident.get_by_label("用户名").fill("r.resident")
    resident.get_by_label("密码").fill(GOOD_PASSWORD)
    resident.get_by_role("button", name="登录").click()
    resident.get_by_label("举报事项").fill(SUBJECT)
    resident.get_by_label("举报内容").fill("上半年补贴名单和金额均未公布。")
    resident.get_by_label("您的姓名（加密，可不填）").fill(NAME)
    resident.get_by_label("联系方式（加密，可不填）").fill(CONTACT)
    resident.get_by_role("button", name="提交举报").click()
    receipt = resident.locator("[data-receipt]").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", receipt)
    assert_accessible(resident, "portal-report-filed")
    screenshot(resident, "portal-report-filed")

    auditor = new_page(browser)
    auditor.goto(site.url + "/console")
    auditor.get_by_label("用户名").fill("r.auditor")
    auditor.get_by_label("密码").fill(GOOD_PASSWORD)
    auditor.get_by_role("button", name="登录").click()
    auditor.get_by_role("link", name="举报办理").first.click()
    expect(auditor.locator("h1")).to_have_text("举报办理")
    mine = auditor.locator("article", has_text=SUBJECT)
    expect(mine).to_be_visible()
    assert_accessible(auditor, "console-reports")

    # A key that is not the committee's opens nothing.
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(generate_key_pair()[0])
    auditor.get_by_label("私钥文件").set_input_files(str(wrong))
    expect(auditor.locator("[data-identity-panel] [data-status]")).to_contain_text("已读取")
    mine.get_by_role("button", name="打开举报人身份").click()
    shown = mine.locator("[aria-live]")
    expect(shown).to_contain_text("未能打开")
    assert NAME not in shown.inner_text()

    auditor.get_by_label("私钥文件").set_input_files(str(site.keys.parent / "demo-report-key.pem"))
    mine.get_by_role("button", name="打开举报人身份").click()
    expect(shown).to_contain_text(f"姓名：{NAME}")
    expect(shown).to_contain_text(f"联系方式：{CONTACT}")
    expect(shown).to_contain_text("登录账号：r.resident")
    screenshot(auditor, "console-report-opened")

    mine.get_by_label("受理意见（可不填）").fill("已受理，转第一组核查。")
    mine.get_by_role("button", name="受理").click()
    expect(auditor.locator("article", has_text=SUBJECT)).to_contain_text("已受理，转第一组核查。")

    anyone = new_page(browser)
    anyone.goto(site.url + "/c/tianhai/reports")
    anyone.get_by_label("查询码").fill(receipt.lower())
    anyone.get_by_role("button", name="查询").click()
    expect(anyone.locator("[data-report-status]")).to_have_text("已受理")
    assert NAME not in anyone.content()
    assert_accessible(anyone, "portal-report-status")
