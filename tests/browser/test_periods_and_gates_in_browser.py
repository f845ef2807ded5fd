"""Closing the books and the review gates in a real browser: the clerk follows the
console's link and closes the last quarter that ended; a committee member signs its
statement off with an opinion; the clerk drafts the statement and lands on its review
page. The committee's chair turns the party branch's review off with a reason, and the
page says what that means and who chose it. The pages have no serious axe-core
violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from ledger.domain.working_days import china_date
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store
from tests.browser.conftest import Served, signed_in
from tests.browser.support import assert_accessible, screenshot
from tests.liveserver import serving

PEOPLE = {
    "p.clerk": ("clerk", "李娜"),
    "p.member": ("committee_member", "陈红梅"),
    "p.chair": ("committee_chair", "王建国"),
}


@pytest.fixture(scope="module")
def site(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo with its projection worker, as ``gongkai serve`` runs it: the page after
    a form waits for the worker to have applied what the form did."""
    directory = tmp_path_factory.mktemp("periods")
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
        yield Served(base, url, "p.clerk", GOOD_PASSWORD, directory / "keys")


def last_quarter() -> str:
    """The last quarter that has ended: the demo closes its months, never a quarter."""
    today = china_date()
    index = today.year * 4 + (today.month - 1) // 3 - 1
    return f"{index // 4}Q{index % 4 + 1}"


def test_the_clerk_closes_last_quarter_a_member_signs_off_and_the_statement_is_drafted(
    browser: Browser, site: Served
) -> None:
    month = last_quarter()
    clerk = signed_in(browser, site, "p.clerk")
    clerk.get_by_role("link", name="结账与民主理财").click()
    expect(clerk.locator("h1")).to_have_text("结账与民主理财")
    assert_accessible(clerk, "console-periods-open")
    period = clerk.get_by_role("article", name=month, exact=True)
    expect(period).to_have_attribute("data-state", "open")
    period.get_by_role("button", name="结账").click()
    period = clerk.get_by_role("article", name=month, exact=True)
    expect(period).to_have_attribute("data-state", "closed")
    expect(period).to_contain_text("p.clerk 于")
    expect(period).to_contain_text("收入合计")
    expect(period.get_by_role("button")).to_have_count(0)

    member = signed_in(browser, site, "p.member")
    member.get_by_role("link", name="结账与民主理财").click()
    period = member.get_by_role("article", name=month, exact=True)
    period.get_by_label("审核意见").fill("账实相符，同意公开。")
    assert_accessible(member, "console-periods-sign-off")
    period.get_by_role("button", name="审核签署").click()
    period = member.get_by_role("article", name=month, exact=True)
    expect(period).to_have_attribute("data-state", "signed_off")
    expect(period).to_contain_text("民主理财小组 p.member 于")
    expect(period).to_contain_text("账实相符，同意公开。")

    clerk.reload()
    clerk.get_by_role("article", name=month, exact=True).get_by_role(
        "button", name="起草收支明细"
    ).click()
    expect(clerk.locator("h1")).to_contain_text("社区财务收支明细")
    assert "/console/c/tianhai/items/" in clerk.url
    expect(clerk.locator("p.note").first).to_contain_text("草稿")
    assert_accessible(clerk, "console-periods-statement-draft")
    draft = clerk.url.split("?")[0]

    clerk.goto(site.url + "/console/c/tianhai/finance/periods")
    period = clerk.get_by_role("article", name=month, exact=True)
    expect(period).to_have_attribute("data-state", "drafted")
    expect(period.get_by_role("link", name="收支明细草稿")).to_have_attribute(
        "href", draft.removeprefix(site.url)
    )
    assert_accessible(clerk, "console-periods-drafted")
    screenshot(clerk, "console-periods-drafted")


def test_the_chair_turns_a_gate_off_with_a_reason(browser: Browser, site: Served) -> None:
    chair = signed_in(browser, site, "p.chair")
    chair.get_by_role("link", name="审核把关").click()
    expect(chair.locator("h1")).to_have_text("审核把关")
    expect(chair.locator("[data-gates]")).to_have_attribute("data-gates", "seeds")
    expect(chair.locator('tr[data-on="yes"]')).to_have_count(4)
    assert_accessible(chair, "console-gates-seeds")

    chair.get_by_label("党支部审查").uncheck()
    chair.get_by_label("理由（必填，将公开记录）").fill(
        "党支部书记外出培训一个月，经居民代表会议同意"
    )
    chair.get_by_role("button", name="保存把关设置").click()
    expect(chair.locator("[data-gates]")).to_have_attribute("data-gates", "relaxed")
    row = chair.locator('tr[data-gate="party_review"]')
    expect(row).to_have_attribute("data-on", "no")
    expect(row).to_contain_text("已关闭")
    expect(row).to_contain_text("不再经党支部审查")
    expect(chair.locator("#choices ~ ul article")).to_contain_text(
        ["p.chair（居务监督委员会主任）于"]
    )
    expect(chair.get_by_text("理由：党支部书记外出培训一个月，经居民代表会议同意")).to_be_visible()
    expect(chair.get_by_label("党支部审查")).not_to_be_checked()
    assert_accessible(chair, "console-gates-relaxed")
    screenshot(chair, "console-gates-relaxed")
