"""The staff console's pages and forms, as a browser without script uses them: signed in
by the session cookie, each form posted with its CSRF token and its idempotency key,
files streamed into the store. The clerk drafts with a PDF and submits, a committee
member reviews, the clerk posts; and every refusal leaves the record as it was."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.console.finance import yuan_to_fen
from api.demo.files import one_page_pdf
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.errors import InvalidInputError
from ledger.store import open_store
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store

LIMIT = 64 * 1024
PDF = one_page_pdf(["Notice: the street lamps of building 3 are repaired"])
ACCOUNTS = {
    "clerk": ("clerk", "tianhai"),
    "chair": ("committee_chair", "tianhai"),
    "member": ("committee_member", "tianhai"),
    "party": ("party_reviewer", "tianhai"),
    "auditor": ("disciplinary_auditor", None),
    "resident": ("resident", "tianhai"),
    "other-clerk": ("clerk", "xinhe"),
}
DRAFT = {
    "category": "policies",
    "title": "三号楼路灯维修公示",
    "body": "三号楼路灯已于本月修复，费用由物业承担。",
    "scope": "public",
    "planned_from": "2026-12-01",
    "planned_until": "2026-12-31",
}


@dataclass
class Console:
    url: str
    client: TestClient

    def sign_in(self, who: str) -> None:
        self.client.cookies.clear()
        response = self.client.post(
            "/v1/login",
            data={"username": who, "password": GOOD_PASSWORD, "next": "/console"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text

    def form(self, path: str) -> dict[str, str]:
        """The hidden fields of the first form of the page at ``path``."""
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page.text))

    def post(self, path: str, data: dict[str, str], files: Any = None) -> Any:
        return self.client.post(path, data=data, files=files, follow_redirects=False)

    def head(self) -> int:
        with open_store(self.url) as store, Ledger(store) as ledger:
            return ledger.community("tianhai").head().seq

    def settle(self) -> None:
        catch_up(self.url)
        time.sleep(0.05)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    directory = tmp_path_factory.mktemp("console")
    url = demo_store(directory)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for name, (role, community) in ACCOUNTS.items():
            accounts.directory.add(name, role, community=community, password=GOOD_PASSWORD)
    settings = Settings(db_url=url, checkpoint_interval=0, attachment_max_bytes=LIMIT)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield Console(url, client)


def drafted(console: Console) -> str:
    """The clerk's new draft with a PDF: the item page's path."""
    console.sign_in("clerk")
    hidden = console.form("/console/c/tianhai/new")
    response = console.post(
        "/console/c/tianhai/new",
        {**hidden, **DRAFT},
        files={"attachments": ("notice.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 303, response.text
    path, _, query = response.headers["location"].partition("?")
    assert path.startswith("/console/c/tianhai/items/")
    assert query.startswith("seen="), "the item page waits for the draft to be applied"
    console.settle()
    return path


def test_the_console_asks_the_anonymous_to_sign_in(console: Console) -> None:
    console.client.cookies.clear()
    page = console.client.get("/console")
    assert page.status_code == 401
    assert 'action="/v1/login"' in page.text


def test_a_disclosure_goes_from_draft_to_the_board(console: Console) -> None:
    item = drafted(console)
    page = console.client.get(item)
    assert DRAFT["title"] in page.text
    assert "提交审核" in page.text  # the clerk may submit
    assert 'name="stage"' not in page.text  # but reviews nothing here
    digest = re.search(r"/attachments/([0-9a-f]{64})", page.text)
    assert digest is not None
    assert console.client.get(f"/v1/communities/tianhai/attachments/{digest[1]}").content == PDF

    assert console.post(f"{item}/submission", console.form(item)).status_code == 303
    console.settle()

    console.sign_in("member")
    assert DRAFT["title"] in console.client.get("/console").text  # waiting for the member
    review = {**console.form(item), "stage": "committee", "outcome": "approved",
              "opinion": "内容属实，同意公开。"}  # fmt: skip
    assert console.post(f"{item}/review", review).status_code == 303
    console.settle()
    assert "内容属实，同意公开。" in console.client.get(item).text
    party_review(console, item)

    console.sign_in("clerk")
    posting = {**console.form(item), "channel": "board", "period_from": "2026-12-01",
               "period_until": "2026-12-31"}  # fmt: skip
    assert console.post(f"{item}/publication", posting).status_code == 303
    console.settle()
    console.client.cookies.clear()
    board = console.client.get("/v1/communities/tianhai/board").json()["items"]
    assert DRAFT["title"] in [i["title"] for i in board]


def test_a_double_click_records_once(console: Console) -> None:
    console.sign_in("clerk")
    hidden = console.form("/console/c/tianhai/new")
    first = console.post("/console/c/tianhai/new", {**hidden, **DRAFT, "title": "重复提交测试"})
    before = console.head()
    again = console.post("/console/c/tianhai/new", {**hidden, **DRAFT, "title": "重复提交测试"})
    assert again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert console.head() == before


def test_a_form_without_its_csrf_token_is_refused_and_stores_nothing(console: Console) -> None:
    console.sign_in("clerk")
    hidden = console.form("/console/c/tianhai/new")
    before = console.head()
    for token in ("", "forged-token"):
        response = console.post(
            "/console/c/tianhai/new",
            {**hidden, "csrf_token": token, **DRAFT},
            files={"attachments": ("n.pdf", PDF + b"csrf", "application/pdf")},
        )
        assert response.status_code == 403, response.text
    assert console.head() == before


def test_a_file_before_the_csrf_token_is_refused(console: Console) -> None:
    """A form built by another site, file first: refused before the file is stored."""
    console.sign_in("clerk")
    boundary = "gk-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="x.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = console.client.post(
        "/console/c/tianhai/new",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 403


def test_a_resident_posting_to_the_clerks_form_is_refused(console: Console) -> None:
    console.sign_in("resident")
    assert console.client.get("/console/c/tianhai/new").status_code == 403
    page = console.client.get("/console")
    assert "起草公开事项" not in page.text
    hidden = dict(re.findall(r'name="(csrf_token)" value="([^"]*)"', page.text))
    before = console.head()
    response = console.post("/console/c/tianhai/new", {**hidden, "idempotency_key": "r1", **DRAFT})
    assert response.status_code == 403
    assert console.head() == before


def test_another_communitys_clerk_finds_no_such_console(console: Console) -> None:
    console.sign_in("other-clerk")
    assert console.client.get("/console/c/tianhai/new").status_code == 404
    item = drafted(console)  # signs the tianhai clerk in
    console.sign_in("other-clerk")
    assert console.client.get(item).status_code == 404


def test_a_file_too_big_or_of_another_type_is_refused_with_nothing_recorded(
    console: Console,
) -> None:
    console.sign_in("clerk")
    hidden = console.form("/console/c/tianhai/new")
    before = console.head()
    big = console.post(
        "/console/c/tianhai/new",
        {**hidden, **DRAFT},
        files={"attachments": ("big.pdf", b"%PDF-1.4\n" + b"0" * LIMIT, "application/pdf")},
    )
    assert big.status_code == 413
    assert "附件超过了大小上限" in big.text
    assert "每个不超过64KB" in console.client.get("/console/c/tianhai/new").text
    script = console.post(
        "/console/c/tianhai/new",
        {**hidden, **DRAFT},
        files={"attachments": ("notice.pdf", b"<script>alert(1)</script>", "application/pdf")},
    )
    assert script.status_code == 415
    assert console.head() == before


def test_a_review_the_role_may_not_record_says_why(console: Console) -> None:
    item = drafted(console)
    assert console.post(f"{item}/submission", console.form(item)).status_code == 303
    console.settle()
    console.sign_in("member")
    before = console.head()
    refused = console.post(
        f"{item}/review",
        {**console.form(item), "stage": "party_branch", "outcome": "approved", "opinion": "同意"},
    )
    assert refused.status_code == 403
    assert 'role="alert"' in refused.text
    assert console.head() == before


# --- the books --------------------------------------------------------------------------

PNG_PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1", 100), ("1,260.50", 126_050), ("1260.5", 126_050), ("0.01", 1), ("12,600元", 1_260_000)],
)
def test_yuan_as_people_write_them(text: str, fen: int) -> None:
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["", "0", "-5", "1.234", "1,26.00", "12e3", "一百", "1_000"])
def test_an_amount_that_is_no_yuan_is_refused(text: str) -> None:
    with pytest.raises(InvalidInputError):
        yuan_to_fen(text)


def test_an_entry_is_recorded_with_its_photographed_voucher_and_reversed(
    console: Console,
) -> None:
    console.sign_in("clerk")
    books = "/console/c/tianhai/finance"
    entry = {"kind": "expense", "amount": "1,260.50", "account": "office",
             "counterparty": "海秀文具商行", "period": "2026-12", "memo": "打印纸"}  # fmt: skip
    photo = {"voucher": ("voucher.png", PNG_PHOTO, "image/png")}
    recorded = console.post(books, {**console.form(books), **entry}, files=photo)
    assert recorded.status_code == 303, recorded.text
    console.settle()
    page = console.client.get(recorded.headers["location"]).text
    assert "1260.50元" in page
    digest = re.search(r"/attachments/([0-9a-f]{64})\">凭证", page)
    assert digest is not None
    assert console.client.get(f"/v1/communities/tianhai/attachments/{digest[1]}").content == (
        PNG_PHOTO
    )
    entry_id = re.search(r"/finance/([0-9a-f-]{36})/reversal", page)
    assert entry_id is not None
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    reversal = console.post(
        f"{books}/{entry_id[1]}/reversal",
        {**hidden, "reason": "重复记账，红字冲销", "period": "2026-12"},
        files={"voucher": ("fix.pdf", PDF, "application/pdf")},
    )
    assert reversal.status_code == 303, reversal.text
    console.settle()
    after = console.client.get(reversal.headers["location"]).text
    assert "已冲销：重复记账，红字冲销" in after


def test_an_entry_without_its_voucher_is_refused_and_records_nothing(console: Console) -> None:
    console.sign_in("clerk")
    books = "/console/c/tianhai/finance"
    before = console.head()
    entry = {"kind": "income", "amount": "100", "account": "subsidy",
             "counterparty": "街道办事处", "period": "2026-12"}  # fmt: skip
    refused = console.post(books, {**console.form(books), **entry})
    assert refused.status_code == 422
    assert "voucher" in refused.text
    bad_amount = console.post(
        books,
        {**console.form(books), **entry, "amount": "1.234"},
        files={"voucher": ("v.png", PNG_PHOTO, "image/png")},
    )
    assert bad_amount.status_code == 422
    assert console.head() == before


def test_a_resident_cannot_open_the_books(console: Console) -> None:
    console.sign_in("resident")
    assert console.client.get("/console/c/tianhai/finance").status_code == 403


# --- the work ledger ----------------------------------------------------------------------


def test_the_work_ledger_lists_every_act_by_date_with_filters(console: Console) -> None:
    item = drafted(console)
    assert console.post(f"{item}/submission", console.form(item)).status_code == 303
    console.settle()
    console.sign_in("chair")
    ledger = "/console/c/tianhai/work-ledger"
    page = console.client.get(ledger)
    assert page.status_code == 200, page.text
    rows = re.findall(r"<tr>\n<td>([0-9-]+ [0-9:]+)</td>\n<td>([^<]+)</td>", page.text)
    assert len(rows) > 50, "the demo's acts are all there"
    days = [day for day, _ in rows]
    assert days == sorted(days, reverse=True), "the latest first"
    assert any(act == "提交审核" for _, act in rows)
    reviews = console.client.get(ledger, params={"act": "reviewed"}).text
    acts = {act for _, act in re.findall(r"<tr>\n<td>([^<]+)</td>\n<td>([^<（]+)", reviews)}
    assert acts == {"审核"}
    table = console.client.get(ledger, params={"actor": "clerk"}).text.split("<table>")[1]
    assert "提交审核" in table
    assert "李娜" not in table, "the demo's clerk acted too, but is filtered out"


@pytest.mark.parametrize("who", ["resident", "member", "other-clerk"])
def test_the_work_ledger_is_the_leaderships(console: Console, who: str) -> None:
    console.sign_in(who)
    response = console.client.get("/console/c/tianhai/work-ledger")
    assert response.status_code == 403


# --- objections -----------------------------------------------------------------------------


def posted_item(console: Console) -> str:
    """A draft taken through the committee's review to the board, in the console."""
    item = drafted(console)
    assert console.post(f"{item}/submission", console.form(item)).status_code == 303
    console.settle()
    console.sign_in("member")
    review = {**console.form(item), "stage": "committee", "outcome": "approved",
              "opinion": "同意"}  # fmt: skip
    assert console.post(f"{item}/review", review).status_code == 303
    console.settle()
    party_review(console, item)
    console.sign_in("clerk")
    posting = {**console.form(item), "channel": "board", "period_from": "2026-12-01",
               "period_until": "2026-12-31"}  # fmt: skip
    assert console.post(f"{item}/publication", posting).status_code == 303
    console.settle()
    return item


def party_review(console: Console, item: str) -> None:
    """The party branch's 审查, which the seeds' gates ask before posting."""
    console.sign_in("party")
    review = {**console.form(item), "stage": "party_branch", "outcome": "approved",
              "opinion": "同意"}  # fmt: skip
    assert console.post(f"{item}/review", review).status_code == 303
    console.settle()


def raise_on(console: Console, item: str, content: str) -> None:
    console.sign_in("resident")
    hidden = console.form(item)
    assert hidden["version"] == "1"
    raised = console.post(f"{item}/objection", {**hidden, "form": "written", "content": content})
    assert raised.status_code == 303, raised.text
    console.settle()


def objection_ids(page: str) -> list[str]:
    return re.findall(r"/objections/([0-9a-f-]{36})/verification", page)


def test_an_objection_is_raised_verified_and_answered_by_a_correction(console: Console) -> None:
    item = posted_item(console)
    raise_on(console, item, "维修费用应为1,160元")
    objections = "/console/c/tianhai/objections"
    console.sign_in("party")
    page = console.client.get(objections).text
    assert "维修费用应为1,160元" in page
    assert "待核实" in page
    (oid, *_) = objection_ids(page)
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    verified = console.post(
        f"{objections}/{oid}/verification", {**hidden, "finding": "经核对发票，属实"}
    )
    assert verified.status_code == 303, verified.text
    console.settle()
    console.sign_in("clerk")
    page = console.client.get(objections).text
    assert "核实属实，待更正" in page
    assert "经核对发票，属实" in page
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    drafted = console.post(
        f"{objections}/{oid}/correction-draft",
        {
            **hidden,
            "title": DRAFT["title"] + "（更正）",
            "body": "费用1,160元。",
            "explanation": "原公示金额有误，现予更正。",
        },
    )
    assert drafted.status_code == 303, drafted.text
    console.settle()
    page = console.client.get(objections).text
    assert "更正稿待审核" in page
    assert "费用1,160元。" in page, "the draft is shown to be reviewed"
    # Not posted before the committee has reviewed it: refused, nothing stored.
    before = console.head()
    early = console.post(f"{objections}/{oid}/correction", console.form(objections))
    assert early.status_code == 422
    assert "监委会审核" in early.text
    assert console.head() == before
    console.sign_in("chair")
    hidden = console.form(objections)
    reviewed = console.post(
        f"{objections}/{oid}/correction-review",
        {**hidden, "stage": "committee", "outcome": "approved", "opinion": "同意更正"},
    )
    assert reviewed.status_code == 303, reviewed.text
    console.settle()
    console.sign_in("party")
    hidden = console.form(objections)
    reviewed = console.post(
        f"{objections}/{oid}/correction-review",
        {**hidden, "stage": "party_branch", "outcome": "approved", "opinion": "同意"},
    )
    assert reviewed.status_code == 303, reviewed.text
    console.settle()
    console.sign_in("clerk")
    hidden = console.form(objections)
    corrected = console.post(f"{objections}/{oid}/correction", hidden)
    assert corrected.status_code == 303, corrected.text
    console.settle()
    assert "已更正" in console.client.get(objections).text


def test_the_street_auditor_dismisses_an_objection(console: Console) -> None:
    item = posted_item(console)
    raise_on(console, item, "公示时间太短")
    console.sign_in("auditor")
    objections = "/console/c/tianhai/objections"
    page = console.client.get(objections).text
    # The latest objection is listed first: the one just raised.
    oid = objection_ids(page)[0]
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    dismissed = console.post(
        f"{objections}/{oid}/dismissal", {**hidden, "reason": "公示期符合规定"}
    )
    assert dismissed.status_code == 303, dismissed.text
    console.settle()
    assert "公示期符合规定" in console.client.get(objections).text


# A committee member reviews corrections there, and verifies nothing.
@pytest.mark.parametrize(("who", "status"), [("resident", 403), ("member", 200),
                                             ("other-clerk", 404)])  # fmt: skip
def test_objections_are_handled_by_their_handlers(console: Console, who: str, status: int) -> None:
    console.sign_in(who)
    page = console.client.get("/console/c/tianhai/objections")
    assert page.status_code == status
    assert "核实属实</button>" not in page.text


def test_the_clerk_may_not_verify_an_objection(console: Console) -> None:
    console.sign_in("clerk")
    page = console.client.get("/console/c/tianhai/objections").text
    assert "核实属实</button>" not in page, "the clerk is offered no verification"
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    before = console.head()
    response = console.post(
        f"/console/c/tianhai/objections/{uuid.uuid4()}/verification", {**hidden, "finding": "x"}
    )
    assert response.status_code == 403
    assert console.head() == before
