"""An aid list's recipients through the service: drafted with the list, shown whole to
the community's members and masked to the public, erased by the chair, after which
every view shows [已删除], no file of the store holds their data, the chain verifies and
a bundle exported before the erasure still verifies offline."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.cli.main import main
from api.service.app import create_app
from api.service.settings import Settings
from ledger.bundle.personal_keys import parse_personal_keys
from ledger.domain.personal_data import shown
from ledger.domain.vocabulary import Role
from tests.api.demo_service import catch_up, demo_store, reader_tokens
from tests.conftest import fresh_pg_database
from tests.contract.test_ledger_contract import DRAFT

PROBLEM = "application/problem+json"
CLERK = (Role.CLERK, "tianhai")
CHAIR = (Role.COMMITTEE_CHAIR, "tianhai")
RESIDENT = (Role.RESIDENT, "tianhai")
ZHANG = {
    "person_id": "7-301-1",
    "name": "张三丰",
    "id_number": "110101199003071234",
    "phone": "13812345678",
    "amount_fen": 86_000,
    "note": "因病致贫",
}
LI = {"person_id": "7-302-2", "name": "李秀英", "amount_fen": 52_000}
PERSONAL = ["张三丰", "110101199003071234", "13812345678", "因病致贫"]
ERASED = "[已删除]"


@dataclass
class Service:
    directory: Path
    url: str
    client: TestClient
    tokens: dict[tuple[Role, str | None], str]

    def headers(self, who: tuple[Role, str | None] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def post(self, path: str, body: dict[str, Any], who: tuple[Role, str | None]) -> Any:
        headers = {**self.headers(who), "Idempotency-Key": str(uuid.uuid4())}
        return self.client.post(f"/v1/communities/tianhai{path}", json=body, headers=headers)

    def get(self, path: str, who: tuple[Role, str | None] | None = None) -> Any:
        return self.client.get(path, headers=self.headers(who))

    def head_seq(self) -> int:
        return int(self.get("/v1/communities/tianhai/head").json()["seq"])

    def files(self) -> bytes:
        """Everything the databases hold, as their administrator could read it: on SQLite
        every byte of the ledger's and the read models' files, write-ahead logs and
        journals included; on PostgreSQL every row of every table of every schema (the
        ledger's and the read models'), as text and as its bytes."""
        if self.url.startswith("sqlite:"):
            found = [p for p in self.directory.iterdir() if p.is_file() and ".sqlite3" in p.name]
            names = {p.name for p in found}
            assert {"gongkai.tianhai.sqlite3", "gongkai.projections.sqlite3"} <= names, names
            return b"".join(p.read_bytes() for p in found)
        import psycopg

        chunks: list[bytes] = []
        with psycopg.connect(self.url) as conn:
            tables = conn.execute(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN "
                "('pg_catalog', 'information_schema')"
            ).fetchall()
            assert any(t.startswith("tianhai_") for _, t in tables)
            assert any(t == "history_versions" for _, t in tables)
            for schema, table in tables:
                rows = conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall()
                chunks += [row[0].encode() for row in rows]
                for row in conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall():
                    chunks += [bytes(v) for v in row if isinstance(v, bytes | memoryview)]
        return b"\n".join(chunks)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    directory = tmp_path_factory.mktemp("recipients")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = demo_store(directory, second_community=False)
        else:
            url = stack.enter_context(fresh_pg_database())
            keys = str(directory / "keys")
            assert main(["demo", "--db", url, "--keys-dir", keys]) == 0
            assert main(["db", "init", "--db", url]) == 0
        tokens = reader_tokens(url, [CLERK, CHAIR, RESIDENT])
        settings = Settings(db_url=url, checkpoint_interval=0, keys_dir=directory / "keys")
        with TestClient(create_app(settings)) as client:
            yield Service(directory, url, client, tokens)


def history(service: Service, disclosure_id: str, who: Any = None) -> list[dict[str, Any]]:
    response = service.get(f"/v1/communities/tianhai/disclosures/{disclosure_id}/history", who)
    assert response.status_code == 200, response.text
    recipients: list[dict[str, Any]] = response.json()["versions"][-1]["recipients"]
    return recipients


@pytest.mark.parametrize(
    ("recipient", "field"),
    [
        ({**LI, "id_number": "1234"}, "id_number"),
        ({**LI, "person_id": "13812345678"}, "recipients[0].person_id"),
        ({**LI, "amount_fen": "520.00"}, "amount_fen"),
        ({**LI, "age": 80}, "age"),
    ],
)
def test_a_bad_recipient_is_422_naming_the_field_and_nothing_is_stored(
    service: Service, recipient: dict[str, Any], field: str
) -> None:
    before = service.head_seq()
    response = service.post("/disclosures", {**DRAFT, "recipients": [recipient]}, CLERK)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in response.text
    assert service.head_seq() == before


def test_recipients_are_shown_then_erased_everywhere(service: Service, tmp_path: Path) -> None:
    drafted = service.post("/disclosures", {**DRAFT, "recipients": [ZHANG, LI]}, CLERK)
    assert drafted.status_code == 201, drafted.text
    did = drafted.json()["result"]["id"]
    catch_up(service.url)

    member = history(service, did, CLERK)
    shown = [(r["name"], r["amount_fen"]) for r in member]
    assert shown == [("张三丰", 86_000), ("李秀英", 52_000)]
    assert member[0]["id_number"] == ZHANG["id_number"]
    public = history(service, did)
    assert [r["name"] for r in public] == ["张**", "李**"]
    assert all("id_number" not in r and "phone" not in r and "note" not in r for r in public)
    portal = service.get(f"/c/tianhai/items/{did}").text
    assert "张**" in portal
    assert not [p for p in PERSONAL if p in portal]
    console = service.get(f"/console/c/tianhai/items/{did}", CLERK).text
    assert "张三丰" in console
    assert ZHANG["id_number"] in console

    keys = service.directory / "keys"
    db = ["--db", service.url, "--community", "tianhai", "--keys-dir", str(keys)]
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    period = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    assert main(["checkpoint", *db]) == 0
    old_bundle = tmp_path / "before.zip"
    assert main(["export", *db, "--period", period, "-o", str(old_bundle)]) == 0
    auditors = tmp_path / "auditors-before.zip"
    export = ["export", *db, "--period", period, "--with-personal-keys", "-o", str(auditors)]
    assert main(export) == 0
    with zipfile.ZipFile(old_bundle) as z:
        assert "personal-keys.json" not in z.namelist()
    opened = bundle_recipients(auditors)
    assert [r.name for r in opened] == ["张三丰", "李秀英"]

    assert service.post("/people/7-301-1/erasure", ERASURE, CLERK).status_code == 403
    erased = service.post("/people/7-301-1/erasure", ERASURE, CHAIR)
    assert erased.status_code == 201, erased.text
    catch_up(service.url)

    after = history(service, did, CLERK)
    assert after[0] == {
        "person_id": "7-301-1",
        "erased": True,
        "name": ERASED,
        "id_number": ERASED,
        "phone": ERASED,
        "note": ERASED,
        "amount_fen": None,
    }
    assert after[1]["name"] == "李秀英"
    trail = service.get("/v1/communities/tianhai/audit-trail?role=committee_chair", CHAIR).json()
    erasure = [a for a in trail["acts"] if a["act"] == "erased"]
    # The demo's own erasure comes first; this one is the last act.
    assert [a["opinion"] for a in erasure][-1] == ERASURE["reason"]
    assert [a["opinion"] for a in erasure].count(ERASURE["reason"]) == 1
    assert "删除个人信息" in service.get("/console/c/tianhai/work-ledger", CHAIR).text
    assert history(service, did)[0]["name"] == ERASED
    for page in (
        service.get(f"/c/tianhai/items/{did}").text,
        service.get(f"/console/c/tianhai/items/{did}", CLERK).text,
        service.get(f"/v1/communities/tianhai/disclosures/{did}/history", CLERK).text,
    ):
        assert ERASED in page
        assert not [p for p in PERSONAL if p in page]
    blob = service.files()
    assert not [p for p in PERSONAL if p.encode() in blob]

    assert main(["verify", *db]) == 0
    assert main(["checkpoint", *db]) == 0
    trusted = [
        "--key",
        (keys / "tianhai.log.vkey").read_text().strip(),
        "--key",
        (keys / "tianhai.committee.vkey").read_text().strip(),
    ]
    assert main(["verify-bundle", str(old_bundle), *trusted]) == 0
    assert main(["verify-bundle", str(auditors), *trusted]) == 0
    new_bundle = tmp_path / "after.zip"
    assert (
        main(["export", *db, "--period", period, "--with-personal-keys", "-o", str(new_bundle)])
        == 0
    )
    assert main(["verify-bundle", str(new_bundle), *trusted]) == 0
    assert [r.name for r in bundle_recipients(new_bundle)] == [ERASED, "李秀英"]
    with zipfile.ZipFile(new_bundle) as z:
        assert not [p for p in PERSONAL if any(p.encode() in z.read(n) for n in z.namelist())]


def bundle_recipients(bundle: Path) -> list[Any]:
    """The recipients of the last aid list in ``bundle``, opened with its keys."""
    with zipfile.ZipFile(bundle) as z:
        keys = parse_personal_keys(z.read("personal-keys.json"), "tianhai")
        lines = [json.loads(line) for line in z.read("events.jsonl").splitlines()]
    states = [json.loads(e["state"]) for e in lines if e["topic"] == "gongkai/disclosure/drafted"]
    listed = [s["recipients"] for s in states if s.get("recipients")][-1]
    return [shown("tianhai", r, keys) for r in listed]


ERASURE = {"ground": "consent_withdrawn", "reason": "本人书面申请撤回同意"}


def test_a_list_is_revised_retried_and_an_unknown_person_is_not_found(service: Service) -> None:
    drafted = service.post("/disclosures", {**DRAFT, "recipients": [LI]}, CLERK)
    assert drafted.status_code == 201, drafted.text
    did = drafted.json()["result"]["id"]
    body = {**DRAFT, "recipients": [LI, {**ZHANG, "person_id": "7-303-1"}]}
    headers = {**service.headers(CLERK), "Idempotency-Key": str(uuid.uuid4())}
    path = f"/v1/communities/tianhai/disclosures/{did}/revisions"
    first = service.client.post(path, json=body, headers=headers)
    again = service.client.post(path, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    catch_up(service.url)
    assert [r["person_id"] for r in history(service, did, CLERK)] == ["7-302-2", "7-303-1"]
    missing = service.post("/people/9-999-9/erasure", ERASURE, CHAIR)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM


def test_the_console_drafts_a_list_pasted_from_a_sheet(service: Service) -> None:
    from tests.api.test_console import PDF

    page = service.get("/console/c/tianhai/new", CLERK)
    assert page.status_code == 200
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    listed = "7-401-1\t王小明\t110101198001011234\t13900001111\t1,260.50\t独居老人\n7-402-2|赵芳\n"
    form = {**hidden, **DRAFT, "recipients": listed}
    posted = service.client.post(
        "/console/c/tianhai/new",
        data=form,
        files={"attachments": ("notice.pdf", PDF, "application/pdf")},
        headers=service.headers(CLERK),
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text
    did = posted.headers["location"].partition("?")[0].rsplit("/", 1)[1]
    catch_up(service.url)
    shown = history(service, did, CLERK)
    assert [(r["name"], r["amount_fen"]) for r in shown] == [("王小明", 126_050), ("赵芳", None)]
    bad = service.client.post(
        "/console/c/tianhai/new",
        data={**form, "recipients": "7-403-1|钱多多|x|y|z|w|extra"},
        files={"attachments": ("notice.pdf", PDF, "application/pdf")},
        headers=service.headers(CLERK),
        follow_redirects=False,
    )
    assert bad.status_code == 422
    assert "line 1" in bad.text
