"""The verify pages and the printed sheets, as the server renders them: what the page gives
the browser to check (the checkpoint, the keys, each version's entry and, on the unmasked
view only, its stored bytes), and sheets that show the public view whoever prints them.
The checks the browser makes with these are in tests/browser/."""

from __future__ import annotations

import base64
import html
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import segno
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.cli.main import main
from api.portal.routes import accepts_gzip
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.chain.hashing import entry_hash
from ledger.domain.vocabulary import CATEGORY_BY_CODE, Section
from ledger.domain.working_days import china_date
from ledger.store import open_store
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store, reader_tokens
from tests.api.test_portal_pages import add_item

RESIDENT = ("resident", "tianhai")
OUTSIDER = ("resident", "xinhe")
CLERK = ("clerk", "tianhai")
HTML = "text/html; charset=utf-8"
DATA = re.compile(r'<script type="application/json" id="verify-data">(.*?)</script>', re.S)


@dataclass
class Site:
    client: TestClient
    tokens: dict[tuple[str, str | None], str]
    added: dict[str, str]
    keys: Path
    url: str

    def get(self, path: str, who: tuple[str, str | None] | None = None, status: int = 200) -> str:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        response = self.client.get(path, headers=headers)
        assert response.status_code == status, (path, who, response.text[:300])
        assert response.headers["content-type"] == HTML
        return response.text


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("verify")
    url = demo_store(directory)
    with open_store(url) as store, Ledger(store) as ledger:
        added = {scope: add_item(ledger, scope) for scope in ("public", "internal", "leadership")}
    catch_up(url)
    tokens = reader_tokens(url, [RESIDENT, OUTSIDER, CLERK])
    settings = Settings(db_url=url, keys_dir=directory / "keys", checkpoint_interval=0)
    with TestClient(create_app(settings)) as client:
        yield Site(client, tokens, added, directory / "keys", url)


def data_of(page: str) -> dict[str, Any]:
    match = DATA.search(page)
    assert match is not None, "the page carries its data for the verifier"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def stored_entry_hash(entry: dict[str, Any]) -> bytes:
    """The chain hash of a proof page's entry, from the stored fields it carries, as the
    browser computes it (ledger.chain.hashing, layout v1)."""
    stored = entry["stored"]
    return entry_hash(
        entry["seq"],
        bytes.fromhex(stored["prev_hash"]),
        uuid.UUID(hex=stored["originator_id"]).bytes,
        int(stored["originator_version"]),
        stored["topic"].encode(),
        base64.b64decode(stored["state"]),
    )


def demo_item(site: Site) -> str:
    """A posted public item of the demo, covered by the demo's checkpoint."""
    board = site.client.get("/v1/communities/tianhai/board").json()["items"]
    return str(board[0]["disclosure_id"])


def test_the_verify_page_carries_the_checkpoint_and_the_keys(site: Site) -> None:
    page = site.get("/c/tianhai/verify")
    data = data_of(page)
    served = site.client.get("/v1/communities/tianhai/checkpoint").text
    assert data["checkpoint"] == served, "the latest checkpoint with its cosignatures"
    keys = site.client.get("/v1/communities/tianhai/keys").json()
    assert data["log_key"] == keys["log"] is not None
    assert [c["vkey"] for c in data["cosigners"]] == [c["vkey"] for c in keys["cosigners"]]
    assert data["entries"] == []
    # The key IDs a reader compares with the board's, and the one script, from here.
    assert f"<code>{keys['log'].split('+')[1]}</code>" in page
    assert f"<code>{keys['cosigners'][0]['key_id']}</code>" in page
    assert '<script type="module" src="/portal/verify.js"></script>' in page
    assert (
        "script-src 'self'"
        in site.client.get("/c/tianhai/verify").headers["content-security-policy"]
    )


def test_the_script_is_served_as_javascript(site: Site) -> None:
    response = site.client.get("/portal/verify.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "export async function rootFromInclusionProof" in response.text


def test_the_public_proof_page_names_entries_without_their_bytes(site: Site) -> None:
    item = demo_item(site)
    data = data_of(site.get(f"/c/tianhai/items/{item}/proof"))
    history = site.client.get(f"/v1/communities/tianhai/disclosures/{item}/history").json()
    assert [e["seq"] for e in data["entries"]] == [v["seq"] for v in history["versions"]]
    assert [e["title"] for e in data["entries"]] == [v["title"] for v in history["versions"]]
    assert all(e["stored"] is None for e in data["entries"]), "no unmasked bytes in public"


def test_a_member_gets_the_bytes_that_hash_to_the_proven_entry(site: Site) -> None:
    """What the browser recomputes, recomputed here: the stored bytes of each version
    hash to the entry the inclusion proof is for, and hold the title and body shown."""
    item = site.added["internal"]
    catch_up_seal(site)
    data = data_of(site.get(f"/c/tianhai/items/{item}/proof", RESIDENT))
    assert len(data["entries"]) == 2
    for entry in data["entries"]:
        state = base64.b64decode(entry["stored"]["state"])
        digest = stored_entry_hash(entry)
        proof = site.client.get(
            "/v1/communities/tianhai/proof/inclusion", params={"seq": entry["seq"]}
        ).json()
        assert digest.hex() == proof["entry_hash"]
        decoded = json.loads(state)
        assert (decoded["title"], decoded["body"]) == (entry["title"], entry["body"])
        assert "13812345678" in entry["title"], "a member's view is unmasked"


def catch_up_seal(site: Site) -> None:
    """A checkpoint covering the items this module added (the demo's covers the demo)."""
    args = ["--db", site.url, "--community", "tianhai", "--keys-dir", str(site.keys)]
    assert main(["checkpoint", *args]) == 0


@pytest.mark.parametrize("who", [None, OUTSIDER], ids=["anonymous", "xinhe"])
def test_an_item_the_reader_may_not_see_has_no_proof_page(
    site: Site, who: tuple[str, str | None] | None
) -> None:
    for scope in ("internal", "leadership"):
        page = site.get(f"/c/tianhai/items/{site.added[scope]}/proof", who, status=404)
        assert "PORTAL-" not in page
    site.get("/c/tianhai/items/not-a-uuid/proof", status=404)
    site.get(f"/c/nowhere/items/{site.added['public']}/proof", status=404)


def test_sheets_show_the_public_view_whoever_prints_them(site: Site) -> None:
    page = html.unescape(site.get("/c/tianhai/sheets?section=affairs", CLERK))
    assert page.count('<article class="sheet">') >= 1
    assert "PORTAL-public" in page
    assert "联系人138****5678" in page, "masked as on the public view"
    assert "PORTAL-internal" not in page
    assert "PORTAL-leadership" not in page
    assert "13812345678" not in page
    assert "110101199003071234" not in page


def test_each_sheet_has_a_qr_code_of_its_proof_page(site: Site) -> None:
    page = site.get("/c/tianhai/sheets?section=affairs")
    urls = re.findall(r'data-proof-url="([^"]+)"', page)
    board = site.client.get("/v1/communities/tianhai/board").json()["items"]
    today = f"{china_date()}"  # the sheets show what is posted today
    affairs = [
        i
        for i in board
        if i["status"] == "published"
        and (i["long_term"] or i["posted_until"] in ("", None) or i["posted_until"] >= today)
        and CATEGORY_BY_CODE[i["category"]].section is Section.AFFAIRS
    ]
    assert len(urls) == len(affairs) > 1
    for url in urls:
        assert re.fullmatch(r"http://testserver/c/tianhai/items/[0-9a-f-]{36}/proof", url)
        # segno is deterministic: the code on the page is the one of that URL.
        title = re.search(
            r'<h2>([^<]*)</h2>(?:(?!<h2>).)*?data-proof-url="' + re.escape(url), page, re.S
        )
        assert title is not None
        # Made here with segno itself, not through the page's own helper.
        code = segno.make(url, error="m", micro=False)
        label = html.unescape(title.group(1))
        assert code.svg_inline(scale=3, border=2, title=label, svgclass="qr") in page
    codes = re.findall(r'<svg [^>]*class="qr".*?</svg>', page, re.S)
    assert len(codes) == len(set(codes)) == len(urls), "each sheet its own code"


def test_a_section_that_does_not_exist_is_a_422_page(site: Site) -> None:
    page = site.get("/c/tianhai/sheets?section=secrets", status=422)
    assert "<h1>请求无效</h1>" in page


def test_the_finance_page_asks_an_anonymous_reader_to_sign_in(site: Site) -> None:
    page = site.get("/c/tianhai/finance", status=401)
    assert "<h1>请先登录</h1>" in page
    assert '<form class="sign-in" method="post" action="/v1/login">' in page
    assert '<input type="hidden" name="next" value="/c/tianhai/finance">' in page
    page = site.get("/c/tianhai/finance?lang=en", status=401)
    assert "<h1>Please sign in</h1>" in page
    assert 'value="/c/tianhai/finance?lang=en"' in page
    forbidden = site.get("/c/tianhai/finance", OUTSIDER, status=403)
    assert "<h1>无权查看</h1>" in forbidden
    assert "sign-in" not in forbidden


def test_the_sign_in_form_comes_back_to_the_page(site: Site) -> None:
    with open_accounts(site.url, hasher=cheap_hasher()) as accounts:
        accounts.directory.add(
            "form.resident", "resident", community="tianhai", password=GOOD_PASSWORD
        )
    form = {"username": "form.resident", "password": GOOD_PASSWORD, "next": "/c/tianhai/finance"}
    # The session cookie is Secure: a browser sends it back over HTTPS (or to localhost).
    browser = TestClient(site.client.app, base_url="https://testserver")
    response = browser.post("/v1/login", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/c/tianhai/finance"
    assert browser.get("/c/tianhai/finance").status_code == 200
    assert site.client.get("/c/tianhai/finance").status_code == 401, "only with the cookie"


# --- the board page, kept per position and view ---------------------------------------------


def test_the_kept_board_page_is_never_served_for_another_view_or_state(site: Site) -> None:
    """The board page is rendered once per position of the board projection and view
    (language, public or not, scopes shown): each reader, in each language, gets their
    own page however the requests interleave, and an entry the worker applies shows."""
    readers = [None, RESIDENT, CLERK, OUTSIDER]
    first = {
        (who, lang): site.get(f"/c/tianhai{lang}", who)
        for who in readers
        for lang in ("", "?lang=en")
    }
    # A resident of another community sees what the public sees; every other view differs.
    assert first[OUTSIDER, ""] == first[None, ""]
    assert len(set(first.values())) == len(first) - 2
    for (who, lang), page in reversed(first.items()):
        assert site.get(f"/c/tianhai{lang}", who) == page
    # Parameters other than the language make a page of their own, not a kept one.
    odd = site.get("/c/tianhai?lang=en&page=2")
    assert 'href="/c/tianhai?page=2"' in odd, "the language switch keeps the parameter"
    assert site.get("/c/tianhai?lang=en") == first[None, "?lang=en"]
    # A new posted item: the next page after the worker applies it shows it.
    with open_store(site.url) as store, Ledger(store) as ledger:
        added = add_item(ledger, "public")
    assert added not in site.get("/c/tianhai"), "not before the worker applies it"
    catch_up(site.url)
    assert added in site.get("/c/tianhai")
    assert added in site.get("/c/tianhai", RESIDENT)


def test_sheets_link_to_the_public_address_when_one_is_set(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GONGKAI_PUBLIC_URL: a printed code must open on a resident's phone, not on the
    address a proxy forwarded the printing request to."""
    monkeypatch.setattr(site.client.app.state, "public_url", "https://gongkai.example.org")  # type: ignore[attr-defined]
    page = site.get("/c/tianhai/sheets?section=affairs")
    urls = re.findall(r'data-proof-url="([^"]+)"', page)
    assert urls
    assert all(u.startswith("https://gongkai.example.org/c/tianhai/items/") for u in urls)


def test_the_kept_board_page_is_sent_compressed_to_who_accepts_it(site: Site) -> None:
    plain = site.client.get("/c/tianhai", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = site.client.get("/c/tianhai", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) < len(plain.content) / 3
    assert packed.text == plain.text, "the same page, decompressed"
    refused = site.client.get("/c/tianhai", headers={"Accept-Encoding": "gzip;q=0, *"})
    assert "content-encoding" not in refused.headers


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("*", True),
        ("x-gzip", True),
        ("GZIP", True),
        ("", False),
        ("identity", False),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("gzip;q=soon", False),
        ("br, deflate", False),
    ],
)
def test_accept_encoding(header: str, takes: bool) -> None:
    assert accepts_gzip(header) is takes


def test_a_failed_form_sign_in_comes_back_to_the_page_saying_why(site: Site) -> None:
    with open_accounts(site.url, hasher=cheap_hasher()) as accounts:
        accounts.directory.add(
            "form.typo", "resident", community="tianhai", password=GOOD_PASSWORD
        )
    browser = TestClient(site.client.app, base_url="https://testserver")
    form = {"username": "form.typo", "password": "wrong", "next": "/c/tianhai/finance?lang=en"}
    response = browser.post("/v1/login", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/c/tianhai/finance?lang=en&sign_in=failed"
    page = browser.get(response.headers["location"])
    assert page.status_code == 401
    assert '<p class="problem" role="alert">The username or password is not right' in page.text
    assert 'name="next" value="/c/tianhai/finance?lang=en"' in page.text, "not sign_in again"
    assert "session" not in "".join(response.headers.get_list("set-cookie"))
    # Five failures for one name in a quarter of an hour: then the form says to wait.
    for _ in range(5):
        response = browser.post("/v1/login", data=form, follow_redirects=False)
    assert response.headers["location"].endswith("sign_in=throttled")
    assert "Too many failed sign-ins" in browser.get(response.headers["location"]).text
    # A JSON client still gets problem+json.
    refused = browser.post("/v1/login", json={"username": "form.typo", "password": "wrong"})
    assert refused.status_code in (401, 429)
    assert refused.headers["content-type"] == "application/problem+json"


def test_a_community_without_a_checkpoint_says_so(site: Site) -> None:
    page = site.get("/c/xinhe/verify")
    assert "尚未签署检查点，暂无可核验的记录。" in page
    assert "<script" not in page, "nothing to verify, so no verifier"
    site.get("/c/nowhere/verify", status=404)
