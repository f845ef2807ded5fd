"""The portal served for real (uvicorn on a loopback port) to one headless Chromium for
the session, each test in a fresh context with a phone's screen and a Chinese locale.

Without Debian's Chromium the tests are skipped on a developer's machine, and fail under
CI, where skipping would hide them; ``.ci/ensure-chromium`` (part of ``make test``)
installs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store
from tests.browser.support import CHROMIUM
from tests.liveserver import serving

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, or a skip (a failure under CI) saying how to get it."""
    if not CHROMIUM.is_file():
        reason = f"no {CHROMIUM}: run .ci/ensure-chromium (apt-get install chromium) as root"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {reason}")
        pytest.skip(reason)
    return str(CHROMIUM)


@dataclass(frozen=True)
class Served:
    """The demo served over HTTP: its base URL (no trailing slash), its store, and a
    resident of 天海社区 who can sign in."""

    url: str
    db_url: str
    resident: str
    password: str
    #: Where the demo's log key is, to sign a newer checkpoint.
    keys: Path


@pytest.fixture(scope="session")
def served(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo community (天海社区, and the empty 新河社区), with the log key the
    service holds (so that the verify pages check the log's signature too)."""
    directory = tmp_path_factory.mktemp("browser")
    url = demo_store(directory)
    catch_up(url)
    resident = "browser.resident"
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        accounts.directory.add(resident, "resident", community="tianhai", password=GOOD_PASSWORD)
    settings = Settings(db_url=url, keys_dir=directory / "keys", checkpoint_interval=0)
    with serving(create_app(settings)) as base:
        yield Served(base, url, resident, GOOD_PASSWORD, directory / "keys")


@pytest.fixture(scope="session")
def portal_url(served: Served) -> str:
    """The served demo's base URL, without a trailing slash."""
    return served.url


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Browser]:
    # Chromium's sandbox refuses to run as root (containers, CI); anyone else keeps it.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True, args=args)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A new page in a context of its own: no cookies or history from other tests."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def signed_in(browser: Browser, served: Served, username: str) -> Page:
    """A page of a new browser context (a phone, in Chinese, in China's time), signed in
    through the console's own form as ``username``."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(served.url + "/console")
    expect(page.locator("h1")).to_have_text("请先登录")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text("工作台")
    return page
