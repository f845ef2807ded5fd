"""Reports over HTTP and in the browser without script, on the demo community: the
key registered by the street's auditor; a resident files a report and is given its
receipt code once; the code looks up its handling, which the auditor records; the
leadership reads the subject and text, the auditors alone the sealed identity, which
the demo committee's key file opens with ``gongkai reports open``. No file the service
keeps (the chain, the read models, the accounts, the commands) holds the identity, the
account that filed it, or the receipt code."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.cli.main import main
from api.service.app import create_app
from api.service.settings import Settings
from ledger.sealed_identity import (
    generate_key_pair,
    load_private_key,
    open_sealed,
    public_key_of,
)
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store

T = "/v1/communities/tianhai"
PROBLEM = "application/problem+json"
REPORTER = "jubao" + uuid.uuid4().hex[:6]  # an account found nowhere else
PEOPLE = {
    REPORTER: ("resident", "钱举报", "tianhai"),
    "chair": ("committee_chair", "王建国", "tianhai"),
    "member": ("committee_member", "陈红梅", "tianhai"),
    "auditor": ("disciplinary_auditor", "陈静", None),
}
NAME = "钱多多真名"
CONTACT = "联系地址九号楼"


@dataclass
class Site:
    url: str
    directory: Path
    client: TestClient
    tokens: dict[str, str]

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def post(self, path: str, body: dict[str, Any], who: str | None, key: str = "") -> Any:
        headers = {**self.headers(who), "Idempotency-Key": key or str(uuid.uuid4())}
        return self.client.post(f"{T}{path}", json=body, headers=headers)

    def sign_in(self, who: str) -> None:
        self.client.cookies.clear()
        response = self.client.post(
            "/v1/login",
            data={"username": who, "password": GOOD_PASSWORD, "next": "/console"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text

    def hidden(self, path: str, action: str) -> dict[str, str]:
        text = self.client.get(path).text
        found = re.search(rf'action="{re.escape(action)}"(.*?)</form>', text, re.S)
        assert found, f"no form to {action} on {path}"
        return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', found.group(1)))

    def report(self, report_id: str, who: str = "auditor") -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while True:
            response = self.client.get(f"{T}/reports/{report_id}", headers=self.headers(who))
            if response.status_code == 200 or time.monotonic() > deadline:
                assert response.status_code == 200, response.text
                found: dict[str, Any] = response.json()
                return found
            time.sleep(0.05)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("reports")
    url = demo_store(directory, second_community=False)
    catch_up(url)
    tokens = {}
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for username, (role, name, community) in PEOPLE.items():
            accounts.directory.add(
                username, role, community=community, display_name=name, password=GOOD_PASSWORD
            )
            tokens[username] = accounts.tokens.issue(username).secret
    settings = Settings(db_url=url, checkpoint_interval=0, worker=True, worker_poll=0.2)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield Site(url, directory, client, tokens)


def test_a_report_filed_over_json_gives_its_receipt_once(site: Site) -> None:
    key = str(uuid.uuid4())
    body = {"subject": "物业费去向", "text": "请核查物业费。", "name": NAME, "contact": CONTACT}
    filed = site.post("/reports", body, REPORTER, key)
    assert filed.status_code == 201, filed.text
    assert filed.headers["cache-control"] == "no-store"
    receipt = filed.json()["receipt"]
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", receipt)
    again = site.post("/reports", body, REPORTER, key)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["receipt"] is None
    assert again.json()["result"] == filed.json()["result"]

    report_id = filed.json()["result"]["id"]
    seen = site.report(report_id)
    assert seen["status"] == "filed"
    chair = site.report(report_id, "chair")
    assert chair["subject"] == "物业费去向"
    assert "sealed_identity" not in chair, "the sealed identity is the auditors' alone"
    opened = open_sealed(seen["sealed_identity"], demo_key(site), "tianhai", report_id)
    assert (opened.account, opened.name, opened.contact) == (REPORTER, NAME, CONTACT)
    assert site.client.get(f"{T}/reports", headers=site.headers("member")).status_code == 403

    status = site.client.post(f"{T}/reports/status", json={"receipt": receipt.lower()})
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "filed"
    assert NAME not in status.text
    wrong = site.client.post(f"{T}/reports/status", json={"receipt": "AAAA-AAAA-AAAA-AAAA"})
    assert wrong.status_code == 404
    assert wrong.headers["content-type"] == PROBLEM


def demo_key(site: Site) -> Any:
    return load_private_key((site.directory / "demo-report-key.pem").read_bytes())


def test_the_auditor_handles_it_and_the_reporter_follows_by_receipt(site: Site) -> None:
    body = {"subject": "活动室出租", "text": "出租收入未公示。"}
    filed = site.post("/reports", body, REPORTER)
    report_id, receipt = filed.json()["result"]["id"], filed.json()["receipt"]
    early = site.post(f"/reports/{report_id}/finding",
                      {"finding": "substantiated", "conclusion": "x"}, "auditor")  # fmt: skip
    assert early.status_code == 409, early.text
    assert early.headers["content-type"] == PROBLEM
    for path, step in (
        ("acknowledgement", {"note": "已受理"}),
        ("steps", {"step": "调阅活动室出租合同"}),
        ("finding", {"finding": "partly_substantiated", "conclusion": "收入已补充公示。"}),
    ):
        done = site.post(f"/reports/{report_id}/{path}", step, "auditor")
        assert done.status_code == 201, done.text
    deadline = time.monotonic() + 10
    while site.report(report_id)["status"] != "concluded" and time.monotonic() < deadline:
        time.sleep(0.05)
    status = site.client.post(f"{T}/reports/status", json={"receipt": receipt}).json()
    assert status["status"] == "concluded"
    assert status["concluded"]["finding"] == "partly_substantiated"
    assert status["concluded"]["conclusion"] == "收入已补充公示。"
    assert len(status["steps"]) == 1
    assert "调阅" not in str(status), "the steps' text is not the reporter's"


def test_bad_input_is_refused_and_stores_nothing(site: Site) -> None:
    head = site.client.get(f"{T}/head").json()
    bad_key = site.post("/report-key", {"public_key": "gongkai-report-key 00 AAAA"}, "auditor")
    assert bad_key.status_code == 422
    assert bad_key.headers["content-type"] == PROBLEM
    no_subject = site.post("/reports", {"subject": "", "text": "t"}, REPORTER)
    assert no_subject.status_code == 422
    assert site.client.get(f"{T}/head").json() == head


def test_a_new_key_seals_the_next_reports(site: Site) -> None:
    pem, public = generate_key_pair()
    registered = site.post("/report-key", {"public_key": public.line}, "auditor")
    assert registered.status_code == 201, registered.text
    assert site.client.get(f"{T}/report-key").json()["public_key"] == public.line
    filed = site.post("/reports", {"subject": "新钥匙", "text": "t", "name": NAME}, REPORTER)
    report_id = filed.json()["result"]["id"]
    sealed = site.report(report_id)["sealed_identity"]
    assert open_sealed(sealed, load_private_key(pem), "tianhai", report_id).name == NAME
    with pytest.raises(Exception, match="does not open"):
        open_sealed(sealed, demo_key(site), "tianhai", report_id)
    # The demo's key back in force, for the tests after this one.
    back = site.post("/report-key", {"public_key": public_key_of(demo_key(site)).line}, "auditor")
    assert back.status_code == 201, back.text


def test_the_portal_files_a_report_and_shows_the_receipt_once(site: Site) -> None:
    page = "/c/tianhai/reports"
    anonymous = site.client.get(page)
    site.client.cookies.clear()
    assert "查询办理情况" in site.client.get(page).text
    assert 'name="subject"' not in anonymous.text
    site.sign_in(REPORTER)
    hidden = site.hidden(page, page)
    filed = site.client.post(
        page, data={**hidden, "subject": "门禁卡收费", "text": "收费无依据。", "name": NAME,
                    "contact": CONTACT}, follow_redirects=False,
    )  # fmt: skip
    assert filed.status_code == 201, filed.text
    assert filed.headers["cache-control"] == "no-store"
    receipt = re.search(r"<strong data-receipt>([A-Z2-7-]+)</strong>", filed.text)
    assert receipt, filed.text
    again = site.client.post(
        page, data={**hidden, "subject": "门禁卡收费", "text": "收费无依据。", "name": NAME,
                    "contact": CONTACT}, follow_redirects=False,
    )  # fmt: skip
    assert "data-receipt" not in again.text
    assert "已经提交过了" in again.text

    site.client.cookies.clear()
    status = site.client.post(f"{page}/status", data={"receipt": receipt.group(1)})
    deadline = time.monotonic() + 10
    while status.status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.1)
        status = site.client.post(f"{page}/status", data={"receipt": receipt.group(1)})
    assert status.status_code == 200, status.text
    assert "门禁卡收费" in status.text
    assert "待受理" in status.text
    unknown = site.client.post(f"{page}/status", data={"receipt": "nope"})
    assert unknown.status_code == 404
    assert "没有找到" in unknown.text


def test_the_console_shows_the_auditor_the_forms_and_the_leadership_the_reports(
    site: Site,
) -> None:
    console = "/console/c/tianhai/reports"
    site.sign_in("auditor")
    text = site.client.get(console).text
    assert 'action="/console/c/tianhai/report-key"' in text
    assert "data-open-report=" in text
    assert "保洁服务合同续签未经居民代表会议" in text  # the demo's report
    site.sign_in("chair")
    text = site.client.get(console).text
    assert "保洁服务合同续签未经居民代表会议" in text
    assert "data-open-report=" not in text, "only the auditors open identities"
    assert "/report-key" not in text
    site.sign_in("member")
    assert site.client.get(console).status_code == 403


def test_gongkai_reports_open_opens_with_the_key_and_not_without(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = site.directory / "demo-report-key.pem"
    code = main(["reports", "open", "--key", str(key_file), "--community", "tianhai",
                 "--db", site.url])  # fmt: skip
    out = capsys.readouterr().out
    assert "保洁服务合同续签未经居民代表会议" in out
    assert "刘华" in out
    # A report sealed to another key (the test that replaced it) does not open with the
    # demo's: the command says so by its exit.
    listed = site.client.get(f"{T}/reports", headers=site.headers("auditor")).json()["reports"]
    demo_id = public_key_of(demo_key(site)).key_id
    assert code == (1 if any(r["key_id"] != demo_id for r in listed) else 0)
    other = tmp_path / "other.pem"
    assert main(["reports", "keygen", "-o", str(other)]) == 0
    assert other.stat().st_mode & 0o777 == 0o600
    assert main(["reports", "keygen", "-o", str(other)]) == 2, "never overwritten"
    capsys.readouterr()
    assert main(["reports", "open", "--key", str(other), "--community", "tianhai",
                 "--db", site.url]) == 1  # fmt: skip
    out = capsys.readouterr().out
    assert "刘华" not in out
    assert "not opened" in out


def test_no_file_of_the_service_holds_an_identity_an_account_or_a_receipt(site: Site) -> None:
    filed = site.post(
        "/reports", {"subject": "扫描", "text": "扫描", "name": NAME, "contact": CONTACT}, REPORTER
    )
    receipt = filed.json()["receipt"].replace("-", "")
    site.report(filed.json()["result"]["id"])  # the read models have it too
    stored = b"".join(
        p.read_bytes()
        for p in sorted(site.directory.rglob("*"))
        if p.is_file() and p.name != "demo-report-key.pem" and "accounts" not in p.name
    )
    assert "扫描".encode() in stored
    digest = hashlib.sha256(REPORTER.encode()).hexdigest()
    for secret in (NAME, CONTACT, REPORTER, receipt, digest):
        assert secret.encode() not in stored, secret
    # The accounts' store knows the account, of course, but not the report's secrets.
    accounts = b"".join(p.read_bytes() for p in site.directory.rglob("*accounts*") if p.is_file())
    for secret in (NAME, CONTACT, receipt):
        assert secret.encode() not in accounts, secret
