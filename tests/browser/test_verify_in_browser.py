"""The verify pages in a real browser: ``verify.js`` checks the checkpoint's Ed25519
signatures and each version's inclusion proof with WebCrypto, reports success for the
real record, and reports failure, loudly, for every tampering tried here: a proof's
hashes, its leaf, its index, its length, the checkpoint it names, the checkpoint's
signatures and root, and, on the unmasked view, the stored bytes and the text shown.
The same script is also run on the known-answer vectors in tests/vectors/."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from api.cli.main import main
from ledger.application import Ledger
from ledger.store import open_store
from tests.browser.conftest import Served
from tests.browser.support import assert_accessible, screenshot
from tests.contract.test_ledger_contract import CLERK, DRAFT, key

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
VERDICT = "#verdict"


def finished(page: Page) -> str:
    """The verdict's status once the script has decided: ok, fail or unknown."""
    # Polled from here: a function evaluated in the page would be eval, which the
    # page's Content-Security-Policy forbids (as it should).
    expect(page.locator(VERDICT)).not_to_have_attribute("data-status", "pending", timeout=15_000)
    status = page.locator(VERDICT).get_attribute("data-status")
    assert status is not None
    return status


def checks(page: Page) -> list[tuple[str, str]]:
    """Each check the script listed: (status, text)."""
    items = page.locator("#checks li")
    return [
        (items.nth(i).get_attribute("data-status") or "", items.nth(i).inner_text())
        for i in range(items.count())
    ]


def public_item(page: Page, served: Served) -> str:
    response = page.request.get(served.url + "/v1/communities/tianhai/board")
    return str(response.json()["items"][0]["disclosure_id"])


def test_the_verify_page_checks_both_signatures(page: Page, served: Served) -> None:
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "ok"
    expect(page.locator(VERDICT)).to_have_text("核验通过：以上记录都在已签署的检查点中。")
    assert checks(page)[:2] == [
        ("ok", "✓ 社区日志密钥的签名有效"),
        ("ok", "✓ 居务监督委员会 王丽的签名有效"),
    ]
    assert checks(page)[2][0] == "info", "a first visit: nothing to compare with yet"
    screenshot(page, "verify-zh-CN")
    assert_accessible(page, "verify-zh-CN")
    page.goto(served.url + "/c/tianhai/verify?lang=en")
    assert finished(page) == "ok"
    expect(page.locator(VERDICT)).to_have_text(
        "Verified: every record above is in the signed checkpoint."
    )
    assert checks(page)[2][0] == "ok", "the same checkpoint as on the first visit"
    assert_accessible(page, "verify-en")


def test_an_item_is_proven_in_the_checkpoint(page: Page, served: Served) -> None:
    item = public_item(page, served)
    page.goto(f"{served.url}/c/tianhai/items/{item}/proof")
    assert finished(page) == "ok"
    rows = page.locator("td[id^=entry-]")
    assert rows.count() >= 1
    for i in range(rows.count()):
        expect(rows.nth(i)).to_have_attribute("data-status", "ok")
        expect(rows.nth(i)).to_have_text("已封存在检查点中")
    screenshot(page, "proof-public")
    assert_accessible(page, "proof-public")


def tamper_proof(page: Page, change: Callable[[dict[str, Any]], None]) -> None:
    """Answer every inclusion proof the page fetches with the real one, changed."""

    def handle(route: Route) -> None:
        real = route.fetch()
        proof = real.json()
        change(proof)
        route.fulfill(response=real, body=json.dumps(proof))

    page.route("**/proof/inclusion?*", handle)


def flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def other_checkpoint(proof: dict[str, Any]) -> None:
    lines = proof["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) + 1)
    proof["checkpoint"] = "\n".join(lines)


TAMPERINGS: dict[str, Callable[[dict[str, Any]], None]] = {
    "a path hash": lambda p: p.update(hashes=[flip(p["hashes"][0]), *p["hashes"][1:]]),
    "the last path hash": lambda p: p.update(hashes=[*p["hashes"][:-1], flip(p["hashes"][-1])]),
    "the entry hash": lambda p: p.update(
        entry_hash=("0" if p["entry_hash"][0] != "0" else "1") + p["entry_hash"][1:]
    ),
    "the leaf hash": lambda p: p.update(leaf_hash=flip(p["leaf_hash"])),
    "the leaf index": lambda p: p.update(leaf_index=p["leaf_index"] ^ 1),
    "a path one hash short": lambda p: p.update(hashes=p["hashes"][:-1]),
    "a path one hash long": lambda p: p.update(hashes=[*p["hashes"], p["hashes"][0]]),
    "the hashes swapped": lambda p: p.update(hashes=list(reversed(p["hashes"]))),
    "another checkpoint": other_checkpoint,
    "another entry": lambda p: p.update(seq=p["seq"] + 1),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_a_tampered_proof_fails(page: Page, served: Served, tampering: str) -> None:
    tamper_proof(page, TAMPERINGS[tampering])
    page.goto(f"{served.url}/c/tianhai/items/{public_item(page, served)}/proof")
    assert finished(page) == "fail", tampering
    expect(page.locator(VERDICT)).to_contain_text("核验失败")
    first = page.locator("td[id^=entry-]").first
    expect(first).to_have_attribute("data-status", "fail")
    if tampering == "a path hash":
        screenshot(page, "proof-tampered")


def tamper_page(page: Page, change: Callable[[dict[str, Any]], None]) -> None:
    """Serve the page with its embedded data changed: the checkpoint or entries a
    server (or anyone between it and the reader) could lie about."""

    def handle(route: Route) -> None:
        real = route.fetch()
        html = real.text()
        match = re.search(
            r'(<script type="application/json" id="verify-data">)(.*?)(</script>)', html, re.S
        )
        assert match is not None
        data = json.loads(match.group(2))
        change(data)
        body = html[: match.start(2)] + json.dumps(data) + html[match.end(2) :]
        route.fulfill(response=real, body=body)

    page.route(re.compile(r".*/(verify|proof)(\?.*)?$"), handle)


def note_signature_flipped(data: dict[str, Any], who: int) -> None:
    lines = data["checkpoint"].split("\n")
    signatures = [i for i, line in enumerate(lines) if line.startswith("\u2014 ")]
    name, sig = lines[signatures[who]][2:].split(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 1  # the signature's last byte: its key ID still names the key
    lines[signatures[who]] = f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}"
    data["checkpoint"] = "\n".join(lines)


def key_id_changed(vkey: str) -> str:
    name, key_id, public = vkey.split("+", 2)
    return f"{name}+{int(key_id, 16) ^ 1:08x}+{public}"


def root_changed(data: dict[str, Any]) -> None:
    lines = data["checkpoint"].split("\n")
    lines[2] = flip(lines[2])
    data["checkpoint"] = "\n".join(lines)


@pytest.mark.parametrize(
    ("tampering", "change", "failed"),
    [
        ("log signature", lambda d: note_signature_flipped(d, 0), ["社区日志密钥"]),
        ("committee seal", lambda d: note_signature_flipped(d, 1), ["王丽"]),
        ("root", root_changed, ["社区日志密钥", "王丽"]),
        # A key whose ID does not match its name and public key is refused, not trusted.
        ("log key ID", lambda d: d.update(log_key=key_id_changed(d["log_key"])), ["社区日志密钥"]),
    ],
)
def test_a_tampered_checkpoint_fails(
    page: Page,
    served: Served,
    tampering: str,
    change: Callable[[dict[str, Any]], None],
    failed: list[str],
) -> None:
    tamper_page(page, change)
    page.goto(f"{served.url}/c/tianhai/items/{public_item(page, served)}/proof")
    assert finished(page) == "fail", tampering
    bad = [text for status, text in checks(page) if status == "fail"]
    for who in failed:
        assert any(who in text and "签名无效" in text for text in bad), (tampering, bad)


def test_a_key_that_did_not_sign_is_not_a_success(page: Page, served: Served) -> None:
    """A checkpoint with the committee's seal removed: the page does not claim it."""

    def drop_seal(data: dict[str, Any]) -> None:
        data["checkpoint"] = "\n".join(
            line for line in data["checkpoint"].split("\n") if "committee." not in line
        )

    tamper_page(page, drop_seal)
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "unknown"
    assert ("unknown", "? 居务监督委员会 王丽未签署此检查点") in checks(page)


# --- a member's view: the stored bytes ----------------------------------------------------


def sign_in(page: Page, served: Served) -> None:
    response = page.request.post(
        served.url + "/v1/login",
        data={"username": served.resident, "password": served.password},
    )
    assert response.ok, response.text()


def internal_item(page: Page, served: Served) -> str:
    items = page.request.get(served.url + "/v1/communities/tianhai/board").json()["items"]
    return next(
        i["disclosure_id"]
        for i in items
        if i["scope"] == "internal" and i["status"] == "published"
    )


def test_a_member_verifies_the_content_itself(page: Page, served: Served) -> None:
    sign_in(page, served)
    page.goto(f"{served.url}/c/tianhai/items/{internal_item(page, served)}/proof")
    assert finished(page) == "ok"
    rows = page.locator("td[id^=entry-]")
    for i in range(rows.count()):
        expect(rows.nth(i)).to_have_text("已封存在检查点中，内容与原文一致")
    screenshot(page, "proof-member")


def stored_state_edited(data: dict[str, Any]) -> None:
    entry = data["entries"][0]
    state = json.loads(base64.b64decode(entry["stored"]["state"]))
    state["body"] += "（已改）"
    edited = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
    entry["stored"]["state"] = base64.b64encode(edited).decode()
    entry["body"] = state["body"]


def shown_title_edited(data: dict[str, Any]) -> None:
    data["entries"][0]["title"] += "（已改）"


@pytest.mark.parametrize(
    "change",
    [stored_state_edited, shown_title_edited],
    ids=["the stored bytes", "the title shown"],
)
def test_edited_content_fails(
    page: Page, served: Served, change: Callable[[dict[str, Any]], None]
) -> None:
    sign_in(page, served)
    tamper_page(page, change)
    page.goto(f"{served.url}/c/tianhai/items/{internal_item(page, served)}/proof")
    assert finished(page) == "fail"
    expect(page.locator("td[id^=entry-]").first).to_have_attribute("data-status", "fail")
    expect(page.locator("td[id^=entry-]").first).to_contain_text("显示的内容与记录的原文不一致")


# --- the script on the known-answer vectors -----------------------------------------------

RUN_VECTORS = """
async ([merkle, chain, note]) => {
  const v = await import("/portal/verify.js");
  const hex = v.hexDecode;
  const out = {inclusion: 0, rejected: 0, chain: 0, note: null, forged: null, roots: 0};
  for (const c of merkle.inclusion) {
    if (c.size === 0 || c.index >= Object.keys(merkle.roots).length) continue;
    const leaf = await v.leafHash(hex(merkle.leaves_hex[c.index]));
    const root = hex(merkle.roots[String(c.size)]);
    const path = c.proof.map(hex);
    await v.verifyInclusion(c.index, c.size, leaf, path, root);
    out.inclusion++;
    if (path.length) {
      const bad = path.map((p) => p.slice());
      bad[0][0] ^= 1;
      try { await v.verifyInclusion(c.index, c.size, leaf, bad, root); }
      catch (e) { if (e instanceof v.VerifyError) out.rejected++; }
    }
  }
  // The root of a tree of one leaf is that leaf's hash.
  const one = v.hexEncode(await v.leafHash(hex(merkle.leaves_hex[0])));
  if (one === merkle.roots["1"]) out.roots++;
  for (const c of chain.chains) {
    for (const e of c.entries) {
      const stored = {...e, state: v.base64Encode(hex(e.state_hex))};
      try {
        await v.entryHash({...stored, originator_version: 2 ** 63});
        throw new Error("a number past 2^53 was taken as exact");
      } catch (err) {
        if (!(err instanceof v.VerifyError)) throw err;
      }
      if (v.hexEncode(await v.entryHash(stored)) === e.hash) out.chain++;
    }
  }
  out.consistent = 0;
  out.inconsistent = 0;
  for (const c of merkle.consistency) {
    const oldRoot = hex(merkle.roots[String(c.old_size)]);
    const newRoot = hex(merkle.roots[String(c.new_size)]);
    const path = c.proof.map(hex);
    await v.verifyConsistency(c.old_size, c.new_size, oldRoot, newRoot, path);
    out.consistent++;
    const flipped = (bytes) => bytes.map((b, i) => (i === 0 ? b ^ 1 : b));
    const bad = path.length ? [flipped(path[0]), ...path.slice(1)] : path;
    const wrongOld = flipped(oldRoot);
    for (const [o, p] of [[oldRoot, bad], [wrongOld, path]]) {
      if (p === path && o === oldRoot) continue;
      try { await v.verifyConsistency(c.old_size, c.new_size, o, newRoot, p); }
      catch (e) { if (e instanceof v.VerifyError) out.inconsistent++; }
    }
  }
  const key = await v.parseVerifierKey(note.vkey);
  out.note = await v.verifyNoteSignature(v.parseNote(note.text), key);
  const forged = v.parseNote(note.text.replace("example", "exemplar"));
  out.forged = await v.verifyNoteSignature(forged, key);
  return out;
}
"""


def test_the_script_agrees_with_the_known_answers(page: Page, served: Served) -> None:
    merkle = json.loads((VECTORS / "merkle_rfc6962.json").read_text())
    chain = json.loads((VECTORS / "chain_v1.json").read_text())
    notes = json.loads((VECTORS / "signed_note.json").read_text())["signed_note_example"]
    note = {"vkey": notes["vkey"], "text": (VECTORS / notes["note_file"]).read_text()}
    for entry in (e for c in chain["chains"] for e in c["entries"]):
        # As the page sends them: u64s as decimal strings, exact past 2^53.
        entry["seq"], entry["originator_version"] = (
            str(entry["seq"]),
            str(entry["originator_version"]),
        )
    page.goto(served.url + "/c/tianhai/verify")
    result = page.evaluate(RUN_VECTORS, [merkle, chain, note])
    assert result["inclusion"] == len(merkle["inclusion"])
    assert result["rejected"] == sum(1 for c in merkle["inclusion"] if c["proof"])
    assert result["roots"] == 1
    assert result["chain"] == sum(len(c["entries"]) for c in chain["chains"]) > 0
    assert result["consistent"] == len(merkle["consistency"])
    # Each proof fails with a hash changed (when it has one) and with another old root.
    changes = sum(2 if c["proof"] else 1 for c in merkle["consistency"])
    assert result["inconsistent"] == changes
    assert result["note"] is True, "the C2SP example note verifies with its key"
    assert result["forged"] is False, "and fails once its text is changed"


# --- a returning reader: the log only grew ------------------------------------------------

MEMORY = "gongkai:checkpoint:gongkai.local/tianhai"


def grow_and_seal(served: Served) -> None:
    """One more entry, a checkpoint signed over it as the sealer would, and the
    committee's seal on it, as its member would add it (``gongkai cosign``)."""
    with open_store(served.db_url) as store, Ledger(store) as ledger:
        ledger.community("tianhai").draft_disclosure(CLERK, key(), **DRAFT)
    args = ["--db", served.db_url, "--community", "tianhai", "--keys-dir", str(served.keys)]
    assert main(["checkpoint", *args]) == 0
    committee = ["--key", str(served.keys / "tianhai.committee.key")]
    assert main(["cosign", "--server", served.url, "--community", "tianhai", *committee]) == 0


def kept(page: Page) -> dict[str, str]:
    value = page.evaluate(f"() => localStorage.getItem('{MEMORY}')")
    assert isinstance(value, str), "the verified checkpoint is remembered"
    memory: dict[str, str] = json.loads(value)
    return memory


def keep(page: Page, memory: dict[str, str]) -> None:
    page.evaluate(
        "([key, value]) => localStorage.setItem(key, value)", [MEMORY, json.dumps(memory)]
    )


def test_a_returning_reader_sees_that_the_log_only_grew(page: Page, served: Served) -> None:
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "ok"
    before = kept(page)
    grow_and_seal(served)
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "ok"
    extended = checks(page)[2]
    assert extended[0] == "ok"
    assert f"（{before['size']} 条记录）一致" in extended[1]
    after = kept(page)
    assert int(after["size"]) > int(before["size"]), "the newer checkpoint is remembered"
    screenshot(page, "verify-returning")


def test_a_rewritten_log_is_caught_by_a_returning_reader(page: Page, served: Served) -> None:
    """The server shows a checkpoint whose history differs from the one this browser
    verified before: a forked or rewritten log. Same size, another root; or an older
    size whose root the new tree does not extend."""
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "ok"
    real = kept(page)
    keep(page, {**real, "root": flip(real["root"])})
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "fail"
    assert any(s == "fail" and "不一致" in t for s, t in checks(page))
    assert kept(page)["root"] == flip(real["root"]), "a failed checkpoint is not remembered"
    screenshot(page, "verify-forked")
    keep(page, {**real, "size": str(int(real["size"]) - 3), "root": real["root"]})
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "fail"


def test_a_log_that_shrank_is_caught(page: Page, served: Served) -> None:
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "ok"
    keep(page, {**kept(page), "size": "100000"})
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "fail"
    assert any(s == "fail" and "反而更小" in t for s, t in checks(page))


def test_a_tampered_consistency_proof_fails(page: Page, served: Served) -> None:
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "ok"
    grow_and_seal(served)

    def handle(route: Route) -> None:
        real = route.fetch()
        proof = real.json()
        proof["hashes"] = [flip(proof["hashes"][0]), *proof["hashes"][1:]]
        route.fulfill(response=real, body=json.dumps(proof))

    page.route("**/proof/consistency?*", handle)
    page.goto(served.url + "/c/tianhai/verify")
    assert finished(page) == "fail"
    assert any(s == "fail" and "不一致" in t for s, t in checks(page))
