"""Opinions (意见) and objections (异议) over HTTP on the demo community: a resident
leaves an opinion signed with their own name, the clerk answers it, and everyone reads
both as they read the item, names masked on the public view and a private opinion's
text shown only to those who handle it and the one who wrote it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store

T = "/v1/communities/tianhai"
PROBLEM = "application/problem+json"
#: (username, role, display name)
PEOPLE = (
    ("zhangwei", "resident", "张伟"),
    ("wangfang", "resident", "王芳"),
    ("zhoulan2", "resident_representative", "周兰"),
    ("clerk2", "clerk", "李娜"),
    ("chair2", "committee_chair", "王建国"),
    ("member2", "committee_member", "陈红梅"),
)


@dataclass
class Site:
    url: str
    client: TestClient
    tokens: dict[str, str]
    items: dict[str, str]  # slug -> disclosure ID (public, internal, leadership, archived)

    def post(self, path: str, body: dict[str, Any], who: str) -> Any:
        headers = {
            "Authorization": f"Bearer {self.tokens[who]}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        return self.client.post(f"{T}{path}", json=body, headers=headers)

    def get(self, path: str, who: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        response = self.client.get(f"{T}{path}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = demo_store(tmp_path_factory.mktemp("opinions"), second_community=False)
    catch_up(url)
    tokens = {}
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, role, name in PEOPLE:
            accounts.directory.add(
                username, role, community="tianhai", display_name=name, password=GOOD_PASSWORD
            )
            tokens[username] = accounts.tokens.issue(username).secret
    with TestClient(create_app(Settings(db_url=url, checkpoint_interval=0))) as client:
        board = client.get(f"{T}/board", headers={"Authorization": f"Bearer {tokens['clerk2']}"})
        items = board.json()["items"]
        posted = {
            i["scope"]: i["disclosure_id"]
            for i in items
            if i["status"] == "published" and "停车" not in i["title"]
        }
        archived = next(i["disclosure_id"] for i in items if i["status"] == "archived")
        yield Site(url, client, tokens, {**posted, "archived": archived})


def test_a_resident_leaves_an_opinion_and_the_clerk_answers_it_in_public(site: Site) -> None:
    item = site.items["public"]
    left = site.post(
        f"/disclosures/{item}/opinions", {"text": "建议按月公布", "text_public": True}, "zhangwei"
    )
    assert left.status_code == 201, left.text
    opinion_id = left.json()["result"]["opinion_id"]
    catch_up(site.url)
    public = site.get(f"/disclosures/{item}/opinions")
    mine = next(o for o in public["opinions"] if o["opinion_id"] == opinion_id)
    assert public["public_view"] is True
    # Signed with the account's own name, masked for the public; the text it chose to show.
    assert (mine["resident"], mine["text"], mine["answer"]) == ("张*", "建议按月公布", None)
    assert mine["role"] == "resident"
    answered = site.post(
        f"/disclosures/{item}/opinions/{opinion_id}/answer", {"answer": "已采纳"}, "clerk2"
    )
    assert answered.status_code == 201, answered.text
    catch_up(site.url)
    mine = next(
        o
        for o in site.get(f"/disclosures/{item}/opinions")["opinions"]
        if o["opinion_id"] == opinion_id
    )
    assert (mine["answer"], mine["answered_by"]) == ("已采纳", "c*****")  # the account, masked
    # Before the answer (as_of), there was none.
    as_of = answered.json()["first_seq"] - 1
    then = site.get(f"/disclosures/{item}/opinions?as_of={as_of}")
    assert next(o for o in then["opinions"] if o["opinion_id"] == opinion_id)["answer"] is None
    again = site.post(
        f"/disclosures/{item}/opinions/{opinion_id}/answer", {"answer": "再答"}, "clerk2"
    )
    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == PROBLEM


def test_a_private_opinion_is_shown_only_to_who_handles_it_and_who_wrote_it(site: Site) -> None:
    item = site.items["public"]
    secret = "我家收入情况特殊，不便公开"
    left = site.post(
        f"/disclosures/{item}/opinions", {"text": secret, "text_public": False}, "zhoulan2"
    )
    assert left.status_code == 201, left.text
    opinion_id = left.json()["result"]["opinion_id"]
    catch_up(site.url)

    def seen_by(who: str | None) -> dict[str, Any]:
        found = site.get(f"/disclosures/{item}/opinions", who)["opinions"]
        return next(o for o in found if o["opinion_id"] == opinion_id)  # type: ignore[no-any-return]

    for who in (None, "wangfang", "member2"):
        shown = seen_by(who)
        assert (shown["text"], shown["text_withheld"]) == ("", True), who
        assert (
            secret
            not in site.client.get(
                f"{T}/disclosures/{item}/opinions",
                headers={"Authorization": f"Bearer {site.tokens[who]}"} if who else {},
            ).text
        )
    assert seen_by(None)["resident"] == "周*"
    assert seen_by("wangfang")["resident"] == "周兰"  # a member sees the name, not the text
    for who in ("zhoulan2", "clerk2", "chair2"):
        assert seen_by(who)["text"] == secret, who
    assert seen_by("zhoulan2")["role"] == "resident_representative"


def test_an_item_with_an_unanswered_opinion_is_not_archived(site: Site) -> None:
    item = site.items["internal"]
    left = site.post(
        f"/disclosures/{item}/opinions", {"text": "请说明", "text_public": True}, "wangfang"
    )
    assert left.status_code == 201, left.text
    refused = site.post(f"/disclosures/{item}/archival", {}, "clerk2")
    assert refused.status_code == 409, refused.text
    assert "not yet answered" in refused.json()["detail"]
    opinion_id = left.json()["result"]["opinion_id"]
    assert (
        site.post(
            f"/disclosures/{item}/opinions/{opinion_id}/answer", {"answer": "已说明"}, "clerk2"
        ).status_code
        == 201
    )
    assert site.post(f"/disclosures/{item}/archival", {}, "clerk2").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "", "text_public": True}, "text"),
        ({"text": "意见", "text_public": "yes"}, "text_public"),
        ({"text": "意见"}, "text_public"),
        # The name is the account's: a body cannot sign for someone else.
        ({"text": "意见", "text_public": True, "resident": "王*芳"}, "resident"),
        ({"text": "意见\u202e", "text_public": True}, "text"),
    ],
)
def test_a_bad_opinion_is_a_422_naming_the_field(
    site: Site, body: dict[str, Any], field: str
) -> None:
    before = site.get("/head")
    response = site.post(f"/disclosures/{site.items['public']}/opinions", body, "zhangwei")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in response.text
    assert site.get("/head") == before


def test_no_opinion_on_an_archived_or_unknown_item(site: Site) -> None:
    archived = site.post(
        f"/disclosures/{site.items['archived']}/opinions",
        {"text": "晚了", "text_public": True},
        "zhangwei",
    )
    assert archived.status_code == 409, archived.text
    unknown = site.post(
        f"/disclosures/{uuid.uuid4()}/opinions", {"text": "意见", "text_public": True}, "zhangwei"
    )
    assert unknown.status_code == 404


def test_an_opinion_of_an_item_a_reader_may_not_see_does_not_exist(site: Site) -> None:
    leadership = site.items["leadership"]
    for who in (None, "zhangwei", "member2"):
        headers = {"Authorization": f"Bearer {site.tokens[who]}"} if who else {}
        for what in ("opinions", "objections"):
            response = site.client.get(f"{T}/disclosures/{leadership}/{what}", headers=headers)
            assert response.status_code == 404, (who, what)
            assert response.headers["content-type"] == PROBLEM


def test_residents_see_what_came_of_each_objection(site: Site) -> None:
    board = site.get("/board")["items"]
    # This month's list, corrected; the lists of the months before had no objection.
    dibao = next(i for i in board if "最低生活保障" in i["title"] and "更正" in i["title"])[
        "disclosure_id"
    ]
    elevators = next(i for i in board if "电梯" in i["title"])["disclosure_id"]
    corrected = site.get(f"/disclosures/{dibao}/objections")
    assert corrected["public_view"] is True
    (objection,) = corrected["objections"]
    assert objection["state"] == "corrected"
    assert [a["act"] for a in objection["acts"]] == [
        "objection-verified",
        "correction-drafted",
        *["correction-reviewed"] * 5,
        "correction-published",
    ]
    # The correction was reviewed as the list was: 保密审查's three stages, the committee
    # and the party branch.
    reviews = [(a["stage"], a["outcome"]) for a in objection["acts"][2:7]]
    stages = ("first", "second", "final", "committee", "party_branch")
    assert reviews == [(s, "approved") for s in stages]
    assert "反映属实" in objection["acts"][0]["text"]
    dismissed = site.get(f"/disclosures/{elevators}/objections")["objections"]
    assert [o["state"] for o in dismissed] == ["dismissed"]
    assert dismissed[0]["form"] == "oral"
    assert "异议不成立" in dismissed[0]["acts"][0]["text"]
