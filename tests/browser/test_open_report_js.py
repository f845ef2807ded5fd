"""The auditor's opener of a sealed reporter's identity (api/console/static/open_report.js)
in a real Chromium: what ledger/sealed_identity.py seals, the browser opens with WebCrypto
alone, to the same fields; a known answer opens alike in Python and in the browser; and
another key, a changed byte, another report or a file that is not an X25519 key are
refused with an Error that says which.

The module is served from disk on ``http://localhost:9`` by Playwright's routing (no
server): localhost is a secure context, which WebCrypto needs."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Final

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from playwright.sync_api import Page, Route

from ledger.sealed_identity import (
    Identity,
    generate_key_pair,
    load_private_key,
    open_sealed,
    seal,
)
from tests.browser.support import PROJECT

MODULE: Final = PROJECT / "api" / "console" / "static" / "open_report.js"
VECTORS: Final = Path(__file__).parent.parent / "vectors" / "hpke_report_identity.json"
ORIGIN: Final = "http://localhost:9"
COMMUNITY: Final = "tianhai"
REPORT: Final = "0197a3c2-5d1e-7b40-9c2f-3e8d1a6b4f70"
IDENTITY: Final = Identity(
    account="li.xiaohong", name="李晓红", contact="139-1234-5678（微信同号）"
)

OPEN: Final = """async ([pem, sealed, community, report]) => {
  const { openSealed } = await import("/open_report.js");
  try {
    return { opened: await openSealed(pem, sealed, community, report) };
  } catch (error) {
    return { isError: error instanceof Error, message: String(error.message ?? error) };
  }
}"""


@pytest.fixture
def opener(page: Page) -> Page:
    """A blank page on localhost from which ``/open_report.js`` imports."""

    def serve(route: Route) -> None:
        if route.request.url == f"{ORIGIN}/open_report.js":
            route.fulfill(
                body=MODULE.read_text(encoding="utf-8"),
                content_type="text/javascript; charset=utf-8",
            )
        else:
            route.fulfill(body="<!doctype html><title>open</title>", content_type="text/html")

    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/")
    return page


def open_in_browser(
    page: Page, pem: str, sealed: str, community: str = COMMUNITY, report: str = REPORT
) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(OPEN, [pem, sealed, community, report])
    return result


def refused(page: Page, pem: str, sealed: str, **where: str) -> str:
    """The message of the Error the opener threw (failing if it opened or threw no Error)."""
    result = open_in_browser(page, pem, sealed, **where)
    assert "opened" not in result, f"opened: {result}"
    assert result["isError"], result
    message: str = result["message"]
    return message


def fields(identity: Identity) -> dict[str, str]:
    return {"account": identity.account, "contact": identity.contact, "name": identity.name}


def sealed_for_test() -> tuple[str, str]:
    pem, key = generate_key_pair()
    return pem.decode("ascii"), seal(IDENTITY, key, COMMUNITY, REPORT)


def test_what_python_seals_the_browser_opens(opener: Page) -> None:
    pem, sealed = sealed_for_test()
    assert open_in_browser(opener, pem, sealed) == {"opened": fields(IDENTITY)}


def test_the_known_answer_opens_in_python_and_in_the_browser(opener: Page) -> None:
    vector = json.loads(VECTORS.read_text(encoding="utf-8"))
    pem, sealed = vector["private_key_pem"], vector["sealed"]
    community, report = vector["community_id"], vector["report_id"]
    opened = open_sealed(sealed, load_private_key(pem.encode()), community, report)
    assert fields(opened) == vector["identity"]
    assert open_in_browser(opener, pem, sealed, community, report) == {
        "opened": vector["identity"]
    }


def test_another_key_does_not_open_it(opener: Page) -> None:
    _, sealed = sealed_for_test()
    other, _ = generate_key_pair()
    assert "does not open with this key" in refused(opener, other.decode(), sealed)


@pytest.mark.parametrize("at", [0, 40, -1], ids=["enc", "ciphertext", "tag"])
def test_a_changed_byte_does_not_open(opener: Page, at: int) -> None:
    pem, sealed = sealed_for_test()
    data = bytearray(base64.b64decode(sealed))
    data[at] ^= 0x01
    altered = base64.b64encode(bytes(data)).decode("ascii")
    assert "does not open with this key" in refused(opener, pem, altered)


def test_another_reports_identity_does_not_open(opener: Page) -> None:
    pem, sealed = sealed_for_test()
    other_report = "0197a3c2-5d1e-7b40-9c2f-3e8d1a6b4f71"
    assert "does not open with this key" in refused(opener, pem, sealed, report=other_report)
    assert "does not open with this key" in refused(opener, pem, sealed, community="xinhe")


def test_an_ed25519_key_file_is_refused(opener: Page) -> None:
    _, sealed = sealed_for_test()
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert "not an X25519 private key" in refused(opener, pem.decode(), sealed)


@pytest.mark.parametrize(
    "pem",
    [
        "not a key at all",
        "-----BEGIN PRIVATE KEY-----\n@@@@\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEAlkQv\n-----END PUBLIC KEY-----\n",
    ],
    ids=["text", "bad-base64", "public-key"],
)
def test_a_file_that_is_no_pem_private_key_is_refused(opener: Page, pem: str) -> None:
    _, sealed = sealed_for_test()
    assert "not a PKCS#8 PEM private key" in refused(opener, pem, sealed)


def test_a_sealed_identity_that_is_not_one_is_refused(opener: Page) -> None:
    pem, _ = sealed_for_test()
    assert "not base64" in refused(opener, pem, "不是密文")
    assert "too short" in refused(opener, pem, base64.b64encode(bytes(40)).decode())
