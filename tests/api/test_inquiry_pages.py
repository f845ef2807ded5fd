"""Inquiries in the browser without script: a representative files one on the portal,
the clerk answers in the console, the representative finds the answer unsatisfactory,
the service escalates it, the chair records the meeting that closes it; each page shows
the deadline in China time with the working days counted."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.vocabulary import Role
from ledger.store import open_store
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store

CHINA = dt.timezone(dt.timedelta(hours=8))
PEOPLE = {
    "rep": ("resident_representative", "周兰"),
    "resident": ("resident", "张伟"),
    "clerk": ("clerk", "李娜"),
    "chair": ("committee_chair", "王建国"),
}
PORTAL = "/c/tianhai/inquiries"
CONSOLE = "/console/c/tianhai/inquiries"


@dataclass
class Site:
    url: str
    client: TestClient

    def sign_in(self, who: str | None) -> None:
        self.client.cookies.clear()
        if who is not None:
            response = self.client.post(
                "/v1/login",
                data={"username": who, "password": GOOD_PASSWORD, "next": "/console"},
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.text
        return response.text

    def until(self, path: str, text: str) -> str:
        """The page at ``path`` once it shows ``text`` (the worker applies what was
        filed through another ledger at its next poll)."""
        deadline = time.monotonic() + 10
        page = self.page(path)
        while text not in page and time.monotonic() < deadline:
            time.sleep(0.1)
            page = self.page(path)
        return page

    def form(self, path: str, action: str) -> dict[str, str]:
        text = self.until(path, f'action="{action}"')
        found = re.search(rf'action="{re.escape(action)}"(.*?)</form>', text, re.S)
        assert found, f"no form to {action} on {path}"
        return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', found.group(1)))

    def post(self, path: str, data: dict[str, str]) -> Any:
        return self.client.post(path, data=data, follow_redirects=False)

    def file_at(self, question: str, at: str) -> str:
        now = dt.datetime.fromisoformat(at).replace(tzinfo=CHINA)
        with open_store(self.url) as store, Ledger(store) as ledger:
            done = ledger.community("tianhai").file_inquiry(
                Actor("rep", Role.RESIDENT_REPRESENTATIVE), str(uuid.uuid4()),
                question=question, now=now,
            )  # fmt: skip
        return str(done.result["id"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = demo_store(tmp_path_factory.mktemp("inquiry-pages"), second_community=False)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, (role, name) in PEOPLE.items():
            accounts.directory.add(
                username, role, community="tianhai", display_name=name, password=GOOD_PASSWORD
            )
    settings = Settings(db_url=url, checkpoint_interval=0, worker=True, worker_poll=0.2)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield Site(url, client)


def test_a_representative_files_an_inquiry_on_the_portal(site: Site) -> None:
    site.sign_in("rep")
    hidden = site.form(PORTAL, PORTAL)
    filed = site.post(
        PORTAL, {**hidden, "question": "小区绿化改造何时开工？", "on_behalf_of": "5号楼居民"}
    )
    if filed.status_code == 422:
        # Late in December the next year's holidays may not be known: refused, not guessed.
        assert "cannot be counted" in filed.text
        return
    assert filed.status_code == 303, filed.text
    page = site.page(filed.headers["location"])
    assert "小区绿化改造何时开工？" in page
    assert "（周兰，代5号楼居民）" in page, "signed with the account's name"
    assert "日终（北京时间）前答复：提出之日后第 3 个工作日" in page
    assert "待答复" in page


def test_answered_found_unsatisfactory_escalated_and_closed(site: Site) -> None:
    inquiry = site.file_at("电梯维修费为何由居民分摊？", "2026-12-07 09:00")  # due the 10th
    site.sign_in("clerk")
    action = f"{CONSOLE}/{inquiry}/answer"
    answered = site.post(action, {**site.form(CONSOLE, action), "answer": "依据业主大会决议"})
    assert answered.status_code == 303, answered.text
    assert "依据业主大会决议" in site.page(answered.headers["location"])
    assert f"{CONSOLE}/{inquiry}/meeting" not in site.page(CONSOLE), "not escalated: no meeting"

    site.sign_in("rep")
    action = f"{PORTAL}/{inquiry}/unsatisfactory"
    judged = site.post(action, {**site.form(PORTAL, action), "reason": "未说明决议的日期"})
    assert judged.status_code == 303, judged.text

    site.sign_in("chair")
    action = f"{CONSOLE}/{inquiry}/meeting"
    # The service's worker escalates it: the meeting's form appears.
    assert "答复不满意" in site.until(CONSOLE, action)
    assert "件已提请问责" in site.page("/console")
    meeting = {
        **site.form(CONSOLE, action),
        "meeting": "supervision",
        "held_on": "2026-12-14",
        "present": "王建国，陈红梅, 周兰、李娜",
        "conclusion": "居委会三日内公布决议原件",
    }
    closed = site.post(action, meeting)
    assert closed.status_code == 303, closed.text
    page = site.page(closed.headers["location"])
    assert "王建国、陈红梅、周兰" in page
    assert "已办结" in page

    site.sign_in("resident")
    public = site.page(PORTAL)
    assert "居委会三日内公布决议原件" in public
    assert f"{PORTAL}/{inquiry}/unsatisfactory" not in public, "only the one who asked judges"


def test_the_list_is_for_members_and_a_forged_form_stores_nothing(site: Site) -> None:
    site.sign_in(None)
    anonymous = site.client.get(PORTAL)
    assert anonymous.status_code == 401
    assert "请先登录" in anonymous.text
    site.sign_in("rep")
    hidden = site.form(PORTAL, PORTAL)
    with open_store(site.url) as store, Ledger(store) as ledger:
        before = ledger.community("tianhai").head()
    forged = site.post(PORTAL, {**hidden, "csrf_token": "forged", "question": "伪造"})
    assert forged.status_code == 403
    with open_store(site.url) as store, Ledger(store) as ledger:
        assert ledger.community("tianhai").head() == before
