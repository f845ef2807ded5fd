"""Democratic evaluation (民主评议) in a real browser: the street's auditor opens a round
from the console and issues its codes, which come on a page of slips to print, its
notice of being shown once left off the printout; a resident casts a ballot with one of
the codes; the auditor closes voting and publishes the tally, and the portal's results
page shows it per person and dimension with the recount command. The pages have no
serious axe-core violation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.clock import held_at
from ledger.domain.evaluation import evaluation_id
from ledger.domain.vocabulary import Role
from ledger.domain.working_days import china_date
from ledger.store import open_store
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store
from tests.api.test_evaluation_routes import CHINA, this_round
from tests.browser.conftest import Served, signed_in
from tests.browser.support import assert_accessible, screenshot
from tests.liveserver import serving

PEOPLE = {
    "e.street": ("disciplinary_auditor", None, "孙强"),
    "e.resident": ("resident", "tianhai", "刘华"),
}
DIMENSIONS = ("德", "能", "勤", "绩", "廉")


@pytest.fixture(scope="module")
def site(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("evaluation")
    url = demo_store(directory)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, (role, community, name) in PEOPLE.items():
            accounts.directory.add(username, role, community=community,
                                   password=GOOD_PASSWORD, display_name=name)  # fmt: skip
    settings = Settings(
        db_url=url, keys_dir=directory / "keys", checkpoint_interval=0, worker=False
    )
    with serving(create_app(settings)) as base:
        yield Served(base, url, "e.resident", GOOD_PASSWORD, directory / "keys")


def test_the_street_holds_a_round_a_resident_votes_and_the_results_are_shown(
    browser: Browser, site: Served
) -> None:
    year, month = this_round()
    title = f"天海社区{year}年{month}月民主评议"
    evaluations = site.url + "/console/c/tianhai/evaluations"

    street = signed_in(browser, site, "e.street")
    street.goto(evaluations)
    expect(street.locator("h1")).to_have_text("民主评议")
    street.get_by_label("月份").select_option(str(month))
    street.get_by_label("测评对象：").fill("张秀英，居委会主任，选举\n刘芳，社区专职工作者，招聘")
    assert_accessible(street, "console-evaluations-open")
    street.get_by_role("button", name="启动评议").click()
    round_ = street.get_by_role("article", name=title)
    expect(round_).to_have_attribute("data-state", "opened")
    round_.get_by_label("测评票份数").fill("3")
    round_.get_by_role("button", name="发放测评码并打印").click()

    expect(street.locator("h1")).to_contain_text("测评票")
    slips = street.locator(".slip")
    expect(slips).to_have_count(3)
    expect(slips.first).to_contain_text(title)
    expect(street.get_by_role("alert")).to_contain_text("只显示这一次")
    codes = street.locator(".slip .code").all_inner_texts()
    assert len(set(codes)) == 3
    assert_accessible(street, "console-evaluation-codes")
    street.emulate_media(media="print")
    expect(street.get_by_role("alert")).to_be_hidden()
    expect(slips.first).to_be_visible()
    screenshot(street, "console-evaluation-codes-print")
    street.emulate_media(media="screen")
    street.get_by_role("link", name="返回民主评议").click()

    round_ = street.get_by_role("article", name=title)
    expect(round_).to_have_attribute("data-state", "codes_committed")
    if (china_date().year, china_date().month) == (year, month):
        round_.get_by_role("button", name="开始投票").click()
    else:  # voting opens only in the round's month: on a clock held in it
        held = held_at(dt.datetime(year, month, 10, 9, tzinfo=CHINA))
        with open_store(site.db_url) as store, Ledger(store) as whole, held:
            whole.community("tianhai").open_voting(
                Actor("孙强", Role.DISCIPLINARY_AUDITOR), "open",
                evaluation_id("tianhai", year, month),
            )  # fmt: skip
        street.reload()
    expect(street.get_by_role("article", name=title)).to_have_attribute("data-state", "voting")

    resident = signed_in(browser, site, "e.resident")
    resident.goto(evaluations)
    ballot = resident.get_by_role("form", name="投票（或录入纸质测评票）")
    ballot.get_by_label("测评码").fill(codes[0].lower().replace("-", " "))
    for person, grade in (("张秀英（居委会主任）", "优秀"), ("刘芳（社区专职工作者）", "合格")):
        group = ballot.get_by_role("group", name=person)
        for dimension in DIMENSIONS:
            group.get_by_label(dimension, exact=True).select_option(label=grade)
    assert_accessible(resident, "console-evaluation-ballot")
    ballot.get_by_role("button", name="投票").click()
    expect(resident.get_by_role("status")).to_have_text("选票已收到。")

    street.reload()
    street.get_by_role("article", name=title).get_by_role("button", name="结束投票").click()
    street.get_by_role("article", name=title).get_by_role("button", name="公布测评结果").click()
    round_ = street.get_by_role("article", name=title)
    expect(round_).to_have_attribute("data-state", "published")
    round_.get_by_role("link", name="测评结果").click()

    expect(street.locator("h1")).to_have_text(title)
    expect(street.get_by_text("共发放测评票 3 张，收回有效选票 1 张。")).to_be_visible()
    first = street.get_by_role("region", name="张秀英（居委会主任）")
    expect(first).to_contain_text("测评结果：优秀")
    probity = first.get_by_role("row", name="廉").get_by_role("cell")
    expect(probity).to_have_text(["1", "0", "0", "0"])
    expect(street.locator("pre code")).to_contain_text("gongkai evaluation recount")
    assert_accessible(street, "portal-evaluation-results")
    screenshot(street, "portal-evaluation-results")
