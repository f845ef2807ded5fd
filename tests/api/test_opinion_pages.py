"""Opinions in the browser without script: a resident signed in by the session leaves
one from the item's page on the portal, the clerk answers it from the console, and the
answer shows on the public page; the demo's own opinions are shown as the rules say."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.demo.script import MEETING_OPINION, PARKING_ANSWER, PARKING_OPINION
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.store import open_store
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store

#: username -> (role, display name)
PEOPLE = {
    "zhangwei": ("resident", "张伟"),
    "wangfang": ("resident", "王芳"),
    "clerk": ("clerk", "李娜"),
}


@dataclass
class Site:
    url: str
    client: TestClient
    items: dict[str, str]  # "parking", "meeting", "archived" -> the item page's path

    def sign_in(self, who: str | None) -> None:
        self.client.cookies.clear()
        if who is None:
            return
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

    def hidden(self, path: str, action: str) -> dict[str, str]:
        """The hidden fields of the form posting to ``action`` on the page at ``path``."""
        text = self.page(path)
        found = re.search(
            rf'<form method="post" action="{re.escape(action)}"(.*?)</form>', text, re.S
        )
        assert found, f"no form to {action} on {path}"
        return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', found.group(1)))

    def post(self, path: str, data: dict[str, str]) -> Any:
        return self.client.post(path, data=data, follow_redirects=False)

    def head(self) -> int:
        with open_store(self.url) as store, Ledger(store) as ledger:
            return ledger.community("tianhai").head().seq


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = demo_store(tmp_path_factory.mktemp("opinion-pages"), second_community=False)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, (role, name) in PEOPLE.items():
            accounts.directory.add(
                username, role, community="tianhai", display_name=name, password=GOOD_PASSWORD
            )
    settings = Settings(db_url=url, checkpoint_interval=0, worker=True, worker_poll=0.2)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        board = client.get("/v1/communities/tianhai/board").json()["items"]

        def path_of(words: str, status: str = "published") -> str:
            found = next(i for i in board if words in i["title"] and i["status"] == status)
            return f"/c/tianhai/items/{found['disclosure_id']}"

        items = {
            "parking": path_of("停车费"),
            "meeting": path_of("居民代表会议"),
            "archived": path_of("高龄津贴", "archived"),
        }
        yield Site(url, client, items)


def test_the_demo_opinions_are_shown_as_the_rules_say(site: Site) -> None:
    site.sign_in(None)
    parking = site.page(site.items["parking"])
    assert PARKING_OPINION in parking
    assert PARKING_ANSWER in parking
    assert "已答复" in parking
    meeting = site.page(site.items["meeting"])
    assert MEETING_OPINION not in meeting, "the representative kept the text private"
    assert "提出人选择不公开意见内容。" in meeting
    assert "周**（居民代表）" in meeting
    assert "提交意见" not in meeting, "no form for the signed out"
    board = site.page("/c/tianhai")
    assert "居民意见 1 条，已答复 1 条" in board
    assert "居民意见 1 条，已答复 0 条" in board
    english = site.page(site.items["meeting"] + "?lang=en")
    assert "The resident chose not to make the text of this opinion public." in english


def test_a_resident_leaves_an_opinion_and_the_clerk_answers_it(site: Site) -> None:
    item = site.items["parking"]
    action = item + "/opinions"
    site.sign_in("zhangwei")
    hidden = site.hidden(item, action)
    left = site.post(action, {**hidden, "text": "建议在电子屏同步公布", "text_public": "yes"})
    assert left.status_code == 303, left.text
    assert left.headers["location"] == item + "#opinions"
    mine = site.page(item)
    assert "建议在电子屏同步公布" in mine
    assert "张伟" in mine, "a member of the community sees the name"
    # A retry of the same form stores nothing twice.
    before = site.head()
    again = site.post(action, {**hidden, "text": "建议在电子屏同步公布", "text_public": "yes"})
    assert again.status_code == 303
    assert site.head() == before

    site.sign_in("clerk")
    listing = site.page("/console/c/tianhai/opinions")
    assert "建议在电子屏同步公布" in listing
    assert MEETING_OPINION in listing, "the clerk reads a private opinion to answer it"
    answer_to = re.findall(r'action="(/console/c/tianhai/opinions/[^"]+/answer)"', listing)
    assert len(answer_to) == 2  # the new opinion and the demo's meeting opinion
    form = site.hidden("/console/c/tianhai/opinions", answer_to[0])
    answered = site.post(answer_to[0], {**form, "answer": "已安排电子屏同步滚动播放"})
    assert answered.status_code == 303, answered.text
    assert "seen=" in answered.headers["location"]
    assert "已安排电子屏同步滚动播放" in site.page(answered.headers["location"])

    site.sign_in(None)
    public = site.page(item)
    assert "已安排电子屏同步滚动播放" in public
    assert "建议在电子屏同步公布" in public
    assert "张伟" not in public
    assert "张*" in public


def test_a_private_opinion_is_read_by_its_author_and_not_by_a_neighbour(site: Site) -> None:
    item = site.items["meeting"]
    action = item + "/opinions"
    site.sign_in("zhangwei")
    hidden = site.hidden(item, action)
    left = site.post(action, {**hidden, "text": "我家的困难不便公开"})  # the box unticked
    assert left.status_code == 303, left.text
    assert "我家的困难不便公开" in site.page(item)
    site.sign_in("wangfang")
    assert "我家的困难不便公开" not in site.page(item)
    site.sign_in(None)
    assert "我家的困难不便公开" not in site.page(item)


def test_a_form_without_its_csrf_token_or_on_an_archived_item_stores_nothing(site: Site) -> None:
    site.sign_in("zhangwei")
    item = site.items["parking"]
    hidden = site.hidden(item, item + "/opinions")
    before = site.head()
    forged = site.post(item + "/opinions", {**hidden, "csrf_token": "forged", "text": "伪造"})
    assert forged.status_code == 403
    archived = site.items["archived"]
    assert "提交意见" not in site.page(archived), "no form on an item no longer posted"
    refused = site.post(archived + "/opinions", {**hidden, "text": "晚了", "text_public": "yes"})
    assert refused.status_code == 422
    assert "archived" in refused.text
    assert site.head() == before
