"""The staff console in a real browser, as its people use it: the clerk drafts with a PDF
and submits; a committee member makes a seal key in the browser, the chair registers it,
and the member's approval is sealed by the browser; the clerk and the party reviewer
record the confidentiality stages and 审查; the clerk posts, and an anonymous reader finds
the item on the board. The keyboard alone completes a draft, and no console page has a
serious axe-core violation."""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from api.accounts import open_accounts
from api.cli.main import main
from api.demo.files import one_page_pdf
from api.service.app import create_app
from api.service.settings import Settings
from ledger.seal.keys import KeyKind, PrivateKey, format_private_key
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store
from tests.browser.conftest import PHONE, Served, signed_in
from tests.browser.support import assert_accessible, screenshot
from tests.liveserver import serving

STAFF = {
    "b.clerk": ("clerk", "李娜"),
    "b.member": ("committee_member", "陈红梅"),
    "b.chair": ("committee_chair", "王建国"),
    "b.party": ("party_reviewer", "赵志刚"),
    "b.auditor": ("disciplinary_auditor", "陈静"),
}
TITLE = "三号楼楼道灯更换公示"
VECTORS = Path(__file__).parent.parent / "vectors" / "review_seal_v1.json"


@pytest.fixture(scope="module")
def staff(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo served as ``gongkai serve`` serves it, with its projection worker: each
    page after a form waits for the worker to have applied what the form did."""
    directory = tmp_path_factory.mktemp("console")
    url = demo_store(directory)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, (role, name) in STAFF.items():
            community = None if role == "disciplinary_auditor" else "tianhai"
            accounts.directory.add(
                username, role, community=community, password=GOOD_PASSWORD, display_name=name
            )
    settings = Settings(
        db_url=url, keys_dir=directory / "keys", checkpoint_interval=0, worker=True
    )
    with serving(create_app(settings)) as base:
        yield Served(base, url, "b.clerk", GOOD_PASSWORD, directory / "keys")


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    made.set_default_timeout(10_000)
    yield made
    made.close()


def one_pixel_png() -> bytes:
    """A real PNG (RFC 2083): one white pixel, as a phone's photograph stands in."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + (chunk(b"IEND", b""))
    )


def record_review(page: Page, stage: str, opinion: str) -> None:
    page.get_by_label("环节").select_option(stage)
    page.get_by_label("意见").fill(opinion)
    page.get_by_label("同意", exact=True).check()
    page.get_by_role("button", name="记录审核意见").click()
    page.wait_for_load_state()


def test_a_disclosure_from_draft_to_the_board_sealed_in_the_browser(
    browser: Browser, staff: Served, tmp_path: Path
) -> None:
    # The clerk drafts with a PDF and submits it.
    clerk = signed_in(browser, staff, "b.clerk")
    clerk.get_by_role("link", name="起草公开事项").click()
    clerk.get_by_label("公开类别").select_option("work_plan")
    clerk.get_by_label("标题").fill(TITLE)
    clerk.get_by_label("内容").fill("三号楼一至六层楼道灯已更换为声控节能灯，费用1,260元。")
    clerk.get_by_label("公开范围").select_option("public")
    clerk.get_by_label("拟公开起始日期").fill("2026-12-01")
    clerk.get_by_label("拟公开截止日期").fill("2026-12-31")
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(one_page_pdf(["Invoice: corridor lamps, building 3"]))
    clerk.get_by_label(re.compile("附件")).set_input_files(str(pdf))
    assert_accessible(clerk, "console-draft")
    clerk.get_by_role("button", name="保存草稿").click()
    expect(clerk.locator("h1")).to_have_text(TITLE)
    item = clerk.url
    expect(clerk.get_by_role("link", name="附件1")).to_be_visible()
    clerk.get_by_role("button", name="提交审核").click()

    # The member makes a seal key in this browser; the chair registers it.
    member = signed_in(browser, staff, "b.member")
    member.get_by_role("link", name="我的监审印章").click()
    member.get_by_role("button", name="在本浏览器中生成印章密钥").click()
    vkey = member.locator("code[data-vkey]").first.inner_text()
    assert vkey.startswith("committee.gongkai.local/tianhai/b.member+")
    assert_accessible(member, "console-seal-key")
    chair = signed_in(browser, staff, "b.chair")
    chair.get_by_role("link", name="监审印章备案").click()
    chair.get_by_label("委员", exact=True).select_option("b.member")
    chair.get_by_label("委员交来的公钥").fill(vkey)
    chair.get_by_role("button", name="登记").click()
    expect(chair.locator("td code")).to_contain_text([vkey])
    assert_accessible(chair, "console-seal-keys")

    # The member's approval is sealed by the browser.
    member.goto(item)
    expect(member.get_by_text("您的审核将加盖监审印章")).to_be_visible()
    assert_accessible(member, "console-review")
    record_review(member, "committee", "已核对发票，同意公开。")
    row = member.locator("#reviews ~ table tr", has_text="已核对发票，同意公开。")
    expect(row).to_contain_text("已盖章")

    # The chair's work ledger has the sealed review.
    chair.goto(staff.url + "/console/c/tianhai/work-ledger")
    expect(chair.locator("tr", has_text="已核对发票，同意公开。")).to_contain_text("已盖章")
    assert_accessible(chair, "console-work-ledger")

    # The confidentiality stages, three people (初审 by the clerk, 复审 by the chair, 终审
    # by the party branch), and the party branch's 审查.
    clerk.goto(item)
    record_review(clerk, "first", "不涉及国家秘密和个人隐私。")
    chair.goto(item)
    record_review(chair, "second", "同意。")
    party = signed_in(browser, staff, "b.party")
    party.goto(item)
    for stage in ("final", "party_branch"):
        record_review(party, stage, "同意。")
    expect(party.locator("#reviews ~ table tbody tr")).to_have_count(5)

    # The clerk posts it, and an anonymous reader finds it on the board.
    clerk.goto(item)
    clerk.get_by_label("公开形式").select_option("board")
    clerk.get_by_label("公开起始日期").fill("2026-12-01")
    clerk.get_by_label("公开截止日期").fill("2026-12-31")
    clerk.get_by_role("button", name="公开", exact=True).click()
    expect(clerk.locator("p.note").first).to_contain_text("已公开")
    screenshot(clerk, "console-item-posted")
    reader = browser.new_context(locale="zh-CN").new_page()
    reader.goto(staff.url + "/c/tianhai")
    expect(reader.get_by_role("link", name=TITLE, exact=True)).to_be_visible()
    # The board shows the member's seal on the review (the name masked, as ever).
    posted = reader.locator("article", has_text=TITLE)
    expect(posted).to_contain_text("监委会审核")
    expect(posted).to_contain_text("（已盖监审印章）")
    # The anonymous reader's browser proves the entries; the seal's content is checked
    # on the unmasked page only, which the member's browser does.
    reader.goto(item.replace("/console/c/", "/c/").split("?")[0] + "/proof")
    seal_line = reader.locator("#checks li", has_text="监审印章")
    expect(seal_line).to_have_attribute("data-status", "info")
    expect(seal_line).to_contain_text("b*******的监审印章")  # the reviewer masked
    member.goto(item.replace("/console/c/", "/c/").split("?")[0] + "/proof")
    sealed = member.locator("#checks li", has_text="监审印章")
    expect(sealed).to_have_attribute("data-status", "ok")
    expect(sealed).to_contain_text("是登记的印章密钥对这一版内容")
    # A seal that is not the key's signature, or names another key, fails there.
    forged = member.evaluate(
        """async () => {
            const v = await import("/portal/verify.js");
            const data = JSON.parse(document.getElementById("verify-data").textContent);
            const contents = v.versionContents(data.entries);
            const seal = data.seals[0];
            const flipped = v.base64Decode(seal.seal_signature);
            flipped[0] ^= 1;
            const bad = {...seal, seal_signature: v.base64Encode(flipped)};
            const otherKey = {...seal, seal_key: seal.seal_key.replace(/\\+.*/, "+00000000")};
            const later = {...seal, outcome: "rejected"};
            return [await v.checkSeal(data, bad, contents), await v.checkSeal(data, otherKey,
                contents), await v.checkSeal(data, later, contents)].map((r) => r[0]);
        }"""
    )
    assert forged == ["fail", "fail", "fail"]


def test_the_keyboard_alone_completes_a_draft(browser: Browser, staff: Served) -> None:
    clerk = signed_in(browser, staff, "b.clerk")
    clerk.goto(staff.url + "/console/c/tianhai/new")
    fields = ["category", "title", "body", "scope", "planned_from", "planned_until"]
    typed = {"title": "键盘起草测试", "body": "全程只用键盘。", "planned_from": "2026/12/01",
             "planned_until": "2026/12/31"}  # fmt: skip
    for field in fields:
        for _ in range(30):  # Tab until the field has the focus
            clerk.keyboard.press("Tab")
            if clerk.evaluate("document.activeElement.id") == field:
                break
        else:
            pytest.fail(f"Tab never reached {field}")
        if field.startswith("planned"):
            # Headless Chromium lays a date field out in its own interface's locale
            # (en-US), month first, whatever the page's language: typed in that order.
            year, month, day = typed[field].split("/")
            clerk.keyboard.type(month + day + year)
            iso = f"{year}-{month}-{day}"
            assert clerk.evaluate("document.activeElement.value") == iso, field
        elif field in typed:
            clerk.keyboard.type(typed[field])
        else:
            clerk.keyboard.press("ArrowDown")  # another category; scope: internal
    for _ in range(30):
        clerk.keyboard.press("Tab")
        if clerk.evaluate("document.activeElement.type") == "submit":
            break
    with clerk.expect_navigation():
        clerk.keyboard.press("Enter")
    refusal = clerk.locator("[role=alert]")
    assert not refusal.count(), refusal.all_inner_texts()
    expect(clerk.locator("h1")).to_have_text("键盘起草测试")
    expect(clerk.get_by_role("button", name="提交审核")).to_be_visible()


def test_console_home_pages_are_accessible(browser: Browser, staff: Served) -> None:
    for username in STAFF:
        page = signed_in(browser, staff, username)
        assert_accessible(page, f"console-home-{username}")
    party = signed_in(browser, staff, "b.party")
    party.goto(staff.url + "/console/c/tianhai/objections")
    expect(party.locator("article").first).to_be_visible()  # the demo's objections
    assert_accessible(party, "console-objections")


def test_the_auditor_downloads_a_bundle_that_verifies_offline(
    browser: Browser, staff: Served, tmp_path: Path
) -> None:
    auditor = signed_in(browser, staff, "b.auditor")
    auditor.get_by_role("link", name="归档包").click()
    assert_accessible(auditor, "console-bundles")
    command = auditor.locator("#c-tianhai ~ pre").first.inner_text()
    vkey = (staff.keys / "tianhai.log.vkey").read_text().strip()
    assert vkey in command, "the page shows the command with the community's log key"
    section = auditor.locator("form", has=auditor.locator("#from-tianhai"))
    with auditor.expect_download() as download:
        section.get_by_role("button", name="下载归档包").click()
    bundle = tmp_path / download.value.suggested_filename
    download.value.save_as(bundle)
    assert main(["verify-bundle", str(bundle), "--key", vkey]) == 0
    with zipfile.ZipFile(bundle) as zf:
        held = [n for n in zf.namelist() if n.startswith("attachments/")]
    assert len(held) > 10, "the demo's vouchers and documents are in the bundle"


def test_the_chair_seals_the_latest_checkpoint_in_the_browser(
    browser: Browser, staff: Served
) -> None:
    chair = signed_in(browser, staff, "b.chair")
    chair.goto(staff.url + "/console/seal-key")
    chair.get_by_role("button", name="在本浏览器中生成印章密钥").click()
    vkey = chair.locator("code[data-vkey]").first.inner_text()
    chair.goto(staff.url + "/console/c/tianhai/seal-keys")
    chair.get_by_label("委员", exact=True).select_option("b.chair")
    chair.get_by_label("委员交来的公钥").fill(vkey)
    chair.get_by_role("button", name="登记").click()
    chair.get_by_role("link", name="返回工作台").click()
    chair.get_by_role("link", name="为检查点加盖印章").click()
    assert_accessible(chair, "console-checkpoint")
    status = chair.locator("[data-status]")
    for _ in range(2):  # sealing the same checkpoint again is consistent with the first
        chair.get_by_role("button", name="加盖印章").click()
        expect(status).to_have_text("已加盖印章。")
    name = vkey.split("+", 1)[0]
    note = chair.request.get(staff.url + "/v1/communities/tianhai/checkpoint").text()
    assert sum(line.startswith(f"— {name} ") for line in note.splitlines()) == 1

    # A log that shows this key another tree of the size it sealed (a fork) is refused
    # in the browser, and nothing is posted.
    chair.evaluate(
        """async () => {
            const seal = await import("/console/seal.js");
            const [record] = await seal.allKeys();
            for (const origin of Object.keys(record.sealed)) {
                record.sealed[origin].root = btoa(String.fromCharCode(...new Uint8Array(32)));
            }
            await seal.keepKey(record);
        }"""
    )
    chair.get_by_role("button", name="加盖印章").click()
    expect(status).to_contain_text("未能加盖印章")
    expect(status).to_contain_text("different roots")
    after = chair.request.get(staff.url + "/v1/communities/tianhai/checkpoint").text()
    assert after == note


def test_the_browser_makes_the_known_answer_statements(browser: Browser, staff: Served) -> None:
    """seal.js builds the statement of tests/vectors/review_seal_v1.json byte for byte,
    and the vector's key, imported from its key-file form, has the vector's vkey."""
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    member = signed_in(browser, staff, "b.member")
    member.goto(staff.url + "/console/seal-key")
    key = vectors["key"]
    seed = bytes.fromhex(key["seed_hex"])
    key_file = format_private_key(PrivateKey(key["name"], KeyKind.COSIGNER, seed))
    found = member.evaluate(
        """async ([cases, keyFile]) => {
            const seal = await import("/console/seal.js");
            const statements = [];
            for (const c of cases) {
                const review = {community: c.community, disclosure: c.disclosure,
                    version: c.version, category: c.category, scope: c.scope,
                    title: c.title, body: c.body, attachments: c.attachments};
                const bytes = await seal.statementOf(review, c.stage, c.outcome);
                statements.push(new TextDecoder().decode(bytes));
            }
            return {statements, vkey: await seal.importFile(keyFile)};
        }""",
        [vectors["cases"], key_file],
    )
    assert found["statements"] == [c["statement"] for c in vectors["cases"]]
    assert found["vkey"] == key["vkey"]


def test_an_entry_with_a_photographed_voucher_then_reversed(
    browser: Browser, staff: Served, tmp_path: Path
) -> None:
    photo = tmp_path / "voucher.png"
    photo.write_bytes(one_pixel_png())
    clerk = signed_in(browser, staff, "b.clerk")
    clerk.get_by_role("link", name="记账").click()
    clerk.get_by_label("支出").check()
    clerk.get_by_label("金额（元）").fill("386.00")
    clerk.get_by_label("科目").select_option("office")
    clerk.get_by_label("对方单位或个人").fill("天海文印社")
    clerk.get_by_label("所属月份").fill("2026-12")
    clerk.get_by_label("摘要").fill("打印纸、墨盒")
    clerk.get_by_label(re.compile("^凭证")).set_input_files(str(photo))
    assert_accessible(clerk, "console-finance")
    clerk.get_by_role("button", name="记账").click()
    entry = clerk.locator("article", has_text="天海文印社")
    expect(entry).to_contain_text("386.00元")
    voucher = entry.get_by_role("link", name="凭证").get_attribute("href")
    assert voucher is not None
    assert clerk.request.get(staff.url + voucher).body() == photo.read_bytes()
    entry.get_by_text("红字冲销这笔账").click()
    entry.get_by_label("冲销原因").fill("重复记账")
    entry.get_by_label("冲销记入月份").fill("2026-12")
    entry.get_by_label("冲销凭证").set_input_files(str(photo))
    entry.get_by_role("button", name="冲销", exact=True).click()
    expect(entry).to_contain_text("已冲销：重复记账")
    expect(clerk.locator("article", has_text="-386.00元")).to_contain_text("红字冲销")
