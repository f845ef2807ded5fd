"""The public portal's pages: the board by section in Chinese (English on request), an
item's versions with their diffs, the board as it stood at the end of a day, errors as
HTML pages, and no page showing an outsider what the JSON routes would not."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

import api.portal
from api.console.calendar import CADENCE_NAMES, OWED_NAMES
from api.console.evaluations import (
    CONSEQUENCE_NAMES,
    DIMENSION_LABELS,
    EVALUATION_STATES,
    GRADE_LABELS,
    TENURE_NAMES,
)
from api.console.finance_periods import PERIOD_STATES
from api.console.gates import GATE_MEANINGS, GATE_NAMES, GATE_OFF
from api.console.inquiries import MEETING_NAMES
from api.console.inquiries import STATUS_NAMES as INQUIRY_STATUS
from api.console.reports import FINDING_NAMES
from api.console.reports import STATUS_NAMES as REPORT_STATUS
from api.console.routes import STATUS_NAMES
from api.console.work_ledger import ACT_NAMES
from api.portal.meetings_page import KIND_NAMES as MEETING_KINDS
from api.portal.meetings_page import MEETING_STATUS as MEETING_STATES
from api.portal.views import CHINA, COSIGNER_ROLE_NAMES
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.vocabulary import (
    CHANNEL_NAMES,
    ROLE_NAMES,
    SCOPE_NAMES,
    SECTION_NAMES,
    STAGE_NAMES,
    Role,
)
from ledger.store import open_store
from projections.ten_preventions import BASIS, NAMES, NOT_COMPUTABLE
from tests.api.demo_service import catch_up, demo_store, reader_tokens
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, approve, key

Who = tuple[str, str | None] | None
READERS: list[tuple[str, str | None]] = [
    ("resident", "tianhai"),
    ("clerk", "tianhai"),
    ("disciplinary_auditor", None),
    ("resident", "xinhe"),
]
OUTSIDERS: list[Who] = [None, ("resident", "xinhe")]
MOBILE = "13812345678"
RESIDENT_ACTOR = Actor("刘建华", Role.RESIDENT)
ID_CARD = "110101199003071234"
MOBILE_OR_ID = re.compile(r"(?<![0-9])(?:1[3-9][0-9]{9}|[1-9][0-9]{16}[0-9Xx])(?![0-9])")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ITEM_LINK = re.compile(r'href="(/c/tianhai/items/[^"/?#]+(?:\?[^"#]*)?)(?:#[^"]*)?"')
HTML = "text/html; charset=utf-8"
PORTAL = Path(api.portal.__file__).parent


@dataclass
class Portal:
    client: TestClient
    tokens: dict[tuple[str, str | None], str]
    #: The items this module added, one of each scope, with personal data in them.
    added: dict[str, str]

    def headers(self, who: Who) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def get(self, path: str, who: Who = None, status: int = 200) -> str:
        response = self.client.get(path, headers=self.headers(who))
        assert response.status_code == status, (path, who, response.text[:500])
        assert response.headers["content-type"] == HTML, path
        return response.text

    def json_board(self, who: Who) -> list[dict[str, Any]]:
        response = self.client.get("/v1/communities/tianhai/board", headers=self.headers(who))
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


def add_item(ledger: Ledger, scope: str) -> str:
    """An item of ``scope`` with a mobile and an ID card number in its title and body,
    revised once before review (so that it has a diff) and posted."""
    tianhai = ledger.community("tianhai")
    marker = f"PORTAL-{scope}-{uuid.uuid4().hex[:8]}"
    fields = {**DRAFT, "scope": scope, "title": f"{marker} 联系人{MOBILE}"}
    fields["body"] = f"{marker} 正文第一版 证件{ID_CARD}"
    disclosure = tianhai.draft_disclosure(CLERK, key(), **fields).result["id"]
    fields["body"] = f"{marker} 正文第二版 证件{ID_CARD} 电话{MOBILE}"
    tianhai.revise_draft(CLERK, key(), disclosure, **fields)
    tianhai.submit_for_review(CLERK, key(), disclosure)
    approve(tianhai, disclosure, scope)
    # Posted until long after any run of the tests: it is on the board, not 往期公开.
    tianhai.publish(
        CLERK,
        key(),
        disclosure,
        channel="board",
        period_from="2026-07-01",
        period_until="2099-07-31",
    )
    # An objection carrying personal data too, verified with a finding that does.
    objection = tianhai.raise_objection(
        RESIDENT_ACTOR,
        key(),
        disclosure,
        disclosure_version=2,
        objector="刘建华",
        form="written",
        content=f"{marker} 异议 联系电话{MOBILE}",
    ).result["id"]
    tianhai.verify_objection(CHAIR, key(), objection, finding=f"{marker} 核实 证件{ID_CARD}")
    return str(disclosure)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The demo community with one more posted item of each scope carrying personal
    data, an empty second community, and an account of each kind of reader."""
    url = demo_store(tmp_path_factory.mktemp("portal"))
    with open_store(url) as store, Ledger(store) as ledger:
        added = {scope: add_item(ledger, scope) for scope in ("public", "internal", "leadership")}
    catch_up(url)
    tokens = reader_tokens(url, READERS)
    with TestClient(create_app(Settings(db_url=url, checkpoint_interval=0))) as client:
        yield Portal(client, tokens, added)


def articles(page: str) -> int:
    return page.count("<article>")


def test_the_board_is_in_chinese_by_section(portal: Portal) -> None:
    page = portal.get("/c/tianhai")
    assert '<html lang="zh-CN">' in page
    headings = re.findall(r"<h2[^>]*>([^<]*)</h2>", page)
    assert headings == [*SECTION_NAMES.values(), "往期公开"]
    assert "<h1>天海社区居务公开栏</h1>" in page
    assert '<a class="skip" href="#main">' in page
    assert '<main id="main">' in page
    assert "救济救助与低保" in page, "category names"
    assert "2026年7月1日 – 2099年7月31日" in page, "the posting period"
    assert "监委会审核：王**（居务监督委员会主任）通过" in page, "the review seal, masked"
    assert "更正 1 次" in page, "the demo's corrected item"
    assert '<a href="/c/tianhai?lang=en" lang="en" hreflang="en">English</a>' in page
    # Nothing is loaded from elsewhere: no scripts, images, external links or fonts.
    assert not re.search(r"<script|<img|<link|src=|https?://|@import|url\(", page)


def test_english_on_request_and_kept_in_every_link(portal: Portal) -> None:
    page = portal.get("/c/tianhai?lang=en")
    assert '<html lang="en">' in page
    assert re.findall(r"<h2[^>]*>([^<]*)</h2>", page) == ["Affairs", "Finance", "Past postings"]
    assert "Relief and 低保" in page
    assert "July 1, 2026 – July 31, 2099" in page
    assert "Supervision committee review: 王** (supervision committee chair), approved" in page
    assert "Corrected once" in page
    links = re.findall(r'href="(/[^"]*)"', page)
    switch = '<a href="/c/tianhai" lang="zh-CN" hreflang="zh-CN">中文</a>'
    assert switch in page
    assert all("lang=en" in link for link in links if link != "/c/tianhai"), links
    assert '<input type="hidden" name="lang" value="en">' in page
    index = portal.get("/?lang=en")
    assert '<a href="/c/tianhai?lang=en">天海社区</a>' in index
    assert "居务公开栏" not in index, "the index's own words are translated"


def test_the_index_lists_the_communities(portal: Portal) -> None:
    page = portal.get("/")
    assert '<a href="/c/tianhai">天海社区</a>' in page
    assert '<a href="/c/xinhe">新河社区</a>' in page


@pytest.mark.parametrize("who", [None, *READERS], ids=str)
def test_the_page_shows_what_the_json_board_posts(portal: Portal, who: Who) -> None:
    """The same items, for each reader: those published of the scopes theirs to see,
    within their posting period (or long-term) on the board's sections, and those whose
    posting has ended, or archived, under 往期公开."""
    today = datetime.now(CHINA).date().isoformat()
    board = portal.json_board(who)
    posted = {
        i["disclosure_id"]
        for i in board
        if i["status"] == "published" and (i["long_term"] or i["posted_until"] >= today)
    }
    past = {
        i["disclosure_id"]
        for i in board
        if i["status"] == "archived"
        or (i["status"] == "published" and not i["long_term"] and i["posted_until"] < today)
    }
    current_part, past_part = portal.get("/c/tianhai", who).split('<h2 id="past">')
    linked = {link.split("/")[-1].split("?")[0] for link in ITEM_LINK.findall(current_part)}
    assert linked == posted
    assert {link.split("/")[-1].split("?")[0] for link in ITEM_LINK.findall(past_part)} == past
    linked |= past
    assert (portal.added["leadership"] in linked) == (
        who in (("clerk", "tianhai"), ("disciplinary_auditor", None))
    )


def test_an_item_page_shows_its_versions_and_their_diff(portal: Portal) -> None:
    page = portal.get(f"/c/tianhai/items/{portal.added['public']}")
    assert '<h3 id="v2">第 2 版 · 修改稿</h3>' in page
    assert '<h3 id="v1">第 1 版 · 初稿</h3>' in page
    assert "有变化的项目：正文" in page
    assert re.search(r"<del>-PORTAL-public-\w+ 正文第一版 证件110\*+1234</del>", page)
    assert re.search(
        r"<ins>\+PORTAL-public-\w+ 正文第二版 证件110\*+1234 电话138\*\*\*\*5678", page
    )
    assert "李*" in page, "the actor, masked on the public view"
    english = portal.get(f"/c/tianhai/items/{portal.added['public']}?lang=en")
    assert '<h3 id="v2">Version 2 · Revised draft</h3>' in english
    assert "Changed: body" in english


def test_a_member_sees_the_item_unmasked(portal: Portal) -> None:
    page = portal.get(f"/c/tianhai/items/{portal.added['internal']}", ("resident", "tianhai"))
    assert MOBILE in page
    assert ID_CARD in page
    assert "公众视图" not in page


def test_the_board_as_it_stood_at_the_end_of_a_day(portal: Portal) -> None:
    before = portal.get("/c/tianhai?date=2000-01-01")
    assert articles(before) == 0
    assert "2000-01-01 日终（北京时间）的公开栏：截至第 0 条记录。" in before
    assert before.count("暂无公开事项。") == len(SECTION_NAMES)
    today = datetime.now(CHINA).date().isoformat()
    now = portal.get("/c/tianhai")
    later = portal.get(f"/c/tianhai?date={today}")
    assert articles(later) == articles(now) > 0
    current = re.search(r"当前公开栏：截至第 (\d+) 条记录。", now)
    assert current is not None
    assert f"{today} 日终（北京时间）的公开栏：截至第 {current[1]} 条记录。" in later
    assert all(f"date={today}" in link for link in ITEM_LINK.findall(later))
    assert f'value="{today}"' in later
    # The item as it stood before it was drafted does not exist.
    portal.get(f"/c/tianhai/items/{portal.added['public']}?date=2000-01-01", status=404)


@pytest.mark.parametrize(
    "path",
    [
        "/c/tianhai?date=2026-02-30",
        "/c/tianhai?date=yesterday",
        "/c/tianhai?date=20260701",
        "/c/tianhai?date=２０２６-07-01",
        "/c/tianhai?date=2026-07-01T00:00",
        "/c/tianhai/items/00000000-0000-0000-0000-000000000000?date=2026-7-1",
    ],
)
def test_a_bad_date_is_a_422_page(portal: Portal, path: str) -> None:
    page = portal.get(path, status=422)
    assert '<html lang="zh-CN">' in page
    assert "<h1>请求无效</h1>" in page
    assert "YYYY-MM-DD" in page
    assert "<h1>Invalid request</h1>" in portal.get(path + "&lang=en", status=422)


@pytest.mark.parametrize(
    "path",
    [
        "/c/nowhere",
        "/c/NO%20WAY",
        f"/c/tianhai/items/{uuid.uuid4()}",
        "/c/tianhai/items/not-an-id",
        "/c/nowhere/items/not-an-id",
    ],
)
def test_what_does_not_exist_is_a_404_page(portal: Portal, path: str) -> None:
    page = portal.get(path, status=404)
    assert "<h1>找不到该页面</h1>" in page
    assert '<a href="/">返回社区列表</a>' in page


def test_a_refused_token_is_a_401_page(portal: Portal) -> None:
    response = portal.client.get("/c/tianhai", headers={"Authorization": "Bearer gk_forged"})
    assert response.status_code == 401
    assert response.headers["content-type"] == HTML
    assert "<h1>身份验证未通过</h1>" in response.text


# --- the scope leak -----------------------------------------------------------------------


def texts_of(portal: Portal, disclosure_id: str) -> set[str]:
    """Each line of every title and body of an item, as an auditor reads them."""
    response = portal.client.get(
        f"/v1/communities/tianhai/disclosures/{disclosure_id}/history",
        headers=portal.headers(("disciplinary_auditor", None)),
    )
    assert response.status_code == 200, response.text
    lines = set()
    for version in response.json()["versions"]:
        lines |= {line.strip() for line in (version["title"] + "\n" + version["body"]).split("\n")}
    return lines - {""}


def with_data_decoded(page: str) -> str:
    """``page`` with the verifier's JSON data block (escaped non-ASCII and all) also
    written out plainly, so that the scan sees every text the browser can read."""
    blocks = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S)
    decoded = [json.dumps(json.loads(b), ensure_ascii=False) for b in blocks]
    return "\n".join([page, *decoded])


def reachable_pages(portal: Portal, who: Who, every_id: list[str]) -> dict[str, str]:
    """Every page ``who`` can reach from the index, and every item page by ID."""
    pages: dict[str, str] = {}
    queue = ["/", "/?lang=en", "/c/tianhai", "/c/tianhai?lang=en", "/c/xinhe"]
    queue.append(f"/c/tianhai?date={datetime.now(CHINA).date().isoformat()}")
    queue += [f"/c/tianhai/items/{d}" for d in every_id]
    # The staff console's pages of each item, and its forms, by ID too.
    queue += [f"/console/c/tianhai/items/{d}" for d in every_id]
    queue += ["/console", "/console/c/tianhai/new", "/console/c/xinhe/new"]
    while queue:
        path = queue.pop()
        if path in pages:
            continue
        response = portal.client.get(path, headers=portal.headers(who))
        # 401 and 403: the finance page, for members only.
        assert response.status_code in (200, 401, 403, 404), (path, who)
        pages[path] = with_data_decoded(response.text)
        queue += [html.unescape(link) for link in re.findall(r'href="(/[^"]*)"', response.text)]
    return pages


@pytest.mark.parametrize("who", OUTSIDERS, ids=str)
def test_no_page_shows_an_outsider_a_non_public_item_or_personal_data(
    portal: Portal, who: Who
) -> None:
    """Over every item of the demo and those added here, of every scope and state: no
    line of a non-public item's title or body that is not also a public one's, and no
    unmasked mobile or ID number, on any page an outsider can reach."""
    everything = portal.json_board(("disciplinary_auditor", None))
    assert {i["scope"] for i in everything} == {"public", "internal", "leadership"}
    public: set[str] = set()
    secret: set[str] = set()
    for item in everything:
        (public if item["scope"] == "public" else secret).update(
            texts_of(portal, item["disclosure_id"])
        )
    secret -= public
    assert any("PORTAL-leadership" in s for s in secret)
    pages = reachable_pages(portal, who, [i["disclosure_id"] for i in everything])
    assert len(pages) > len(everything), "the board's item links were followed"
    for path, text in pages.items():
        shown = html.unescape(text)
        leaked = [s for s in secret if s in shown]
        assert not leaked, (who, path, leaked)
        assert not MOBILE_OR_ID.search(UUID_TEXT.sub("", shown)), (who, path)
    board = html.unescape(pages["/c/tianhai"])
    assert "联系人138****5678" in board, "the public item is shown, masked"


def files_of(portal: Portal, disclosure_id: str) -> set[str]:
    """Every file any version of an item names, as an auditor reads them."""
    response = portal.client.get(
        f"/v1/communities/tianhai/disclosures/{disclosure_id}/history",
        headers=portal.headers(("disciplinary_auditor", None)),
    )
    return {digest for v in response.json()["versions"] for digest in v["attachments"]}


@pytest.mark.parametrize("who", OUTSIDERS, ids=str)
def test_no_outsider_is_served_a_file_of_a_non_public_item(portal: Portal, who: Who) -> None:
    """Every file of the demo: a public item's is served, any other's, and any voucher,
    does not exist for an outsider."""
    auditor = ("disciplinary_auditor", None)
    public: set[str] = set()
    other: set[str] = set()
    for item in portal.json_board(auditor):
        (public if item["scope"] == "public" else other).update(
            files_of(portal, item["disclosure_id"])
        )
    entries = portal.client.get(
        "/v1/communities/tianhai/finance/entries", headers=portal.headers(auditor)
    ).json()["entries"]
    other |= {e["voucher_sha256"] for e in entries}
    other -= public
    assert public, "the demo posts public files"
    assert len(other) > 10, "the demo has internal files and vouchers"
    for digest in sorted(public | other):
        response = portal.client.get(
            f"/v1/communities/tianhai/attachments/{digest}", headers=portal.headers(who)
        )
        assert response.status_code == (200 if digest in public else 404), (who, digest)
        # The file exists: the auditor, who may see every item, is served it.
        assert (
            portal.client.get(
                f"/v1/communities/tianhai/attachments/{digest}", headers=portal.headers(auditor)
            ).status_code
            == 200
        )


def test_the_leak_scan_would_see_a_leak(portal: Portal) -> None:
    """The scan's own control: an auditor's page shows the secrets and the numbers."""
    auditor = ("disciplinary_auditor", None)
    page = portal.get(f"/c/tianhai/items/{portal.added['leadership']}", auditor)
    shown = html.unescape(page)
    assert all(line in shown for line in texts_of(portal, portal.added["leadership"]))
    assert MOBILE_OR_ID.search(UUID_TEXT.sub("", shown))


# --- the catalog ---------------------------------------------------------------------------


def test_every_message_has_an_english_translation() -> None:
    """Every message of the templates, and every vocabulary name they translate by
    value, is in the English catalog, translated and not fuzzy."""
    with (PORTAL / "locale" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale="en")
    extracted = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(
            str(PORTAL / "templates"),
            method_map=[("**.html", "jinja2.ext:babel_extract")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        )
    }
    names = {*SECTION_NAMES.values(), *SCOPE_NAMES.values(), *STAGE_NAMES.values()}
    names |= set(ROLE_NAMES.values()) | set(COSIGNER_ROLE_NAMES.values())
    # The console's names of states, acts and channels, translated by value too.
    names |= set(STATUS_NAMES.values()) | set(ACT_NAMES.values()) | set(CHANNEL_NAMES.values())
    names |= set(INQUIRY_STATUS.values()) | set(MEETING_NAMES.values())
    names |= set(REPORT_STATUS.values()) | set(FINDING_NAMES.values())
    names |= set(CADENCE_NAMES.values()) | set(OWED_NAMES.values())
    names |= set(PERIOD_STATES.values()) | set(GATE_NAMES.values())
    names |= set(GATE_MEANINGS.values()) | set(GATE_OFF.values())
    names |= set(NAMES.values()) | set(BASIS.values()) | set(NOT_COMPUTABLE.values())
    names |= set(MEETING_KINDS.values()) | set(MEETING_STATES.values())
    names |= set(EVALUATION_STATES.values()) | set(TENURE_NAMES.values())
    names |= set(CONSEQUENCE_NAMES.values()) | set(DIMENSION_LABELS.values())
    names |= set(GRADE_LABELS.values())
    assert len(extracted) > 40
    for msgid in extracted | names:
        message = catalog.get(msgid)
        assert message is not None, msgid
        assert not message.fuzzy, msgid
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), msgid


def test_an_items_objections_show_their_outcome_masked_for_the_public(portal: Portal) -> None:
    """Residents see what came of an objection: its text, the finding, its state; the
    public view masks the names and numbers in them, as it masks a version's."""
    item = f"/c/tianhai/items/{portal.added['public']}"
    public = html.unescape(portal.get(item))
    assert "异议及处理结果" in public
    assert "经核实属实，待更正" in public
    assert "刘**" in public
    assert "刘建华" not in public
    assert "联系电话138****5678" in public
    assert ID_CARD not in public
    member = html.unescape(portal.get(item, ("resident", "tianhai")))
    assert f"联系电话{MOBILE}" in member, "the community's members read it unmasked"
    assert "刘建华" in member
