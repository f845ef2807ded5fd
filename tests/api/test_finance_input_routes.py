"""The command routes take finance input exactly as the ledger does, and refuse the rest
with 422 problem+json naming the field, before anything is tried: nothing is coerced
(``true``, ``"100"``, ``100.0`` and ``1e2`` are no amounts), no period but an ASCII
month from 2000-01 to 2100-12, no text that would not show as stored. And two accounts
sending one ``Idempotency-Key`` each get their own command and result."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import demo_store, reader_tokens
from tests.api.test_command_routes import BODIES, PROBLEM, VOUCHER_PDF
from tests.contract.test_finance_input_contract import BAD_PERIODS, RLO

CLERK = ("clerk", "tianhai")
ENTRY = BODIES["record_entry"]
BASE = "/v1/communities/tianhai"


@dataclass
class Service:
    client: TestClient
    tokens: dict[Any, str]

    def post(
        self, path: str, body: str, who: Any = CLERK, key: str | None = None
    ) -> httpx.Response:
        """``body`` as JSON text, sent as it is: 1e2 stays 1e2 on the wire."""
        headers = {
            "Authorization": f"Bearer {self.tokens[who]}",
            "Idempotency-Key": key or str(uuid.uuid4()),
            "Content-Type": "application/json",
        }
        return self.client.post(BASE + path, content=body.encode(), headers=headers)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    url = demo_store(tmp_path_factory.mktemp("finance-input"), second_community=False)
    tokens: dict[Any, str] = dict(reader_tokens(url, [CLERK]))
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        accounts.directory.add("zhang.wei", "clerk", community="tianhai", password=GOOD_PASSWORD)
        tokens["second clerk"] = accounts.tokens.issue("zhang.wei").secret
    with TestClient(create_app(Settings(db_url=url, checkpoint_interval=0))) as client:
        uploaded = client.post(
            f"{BASE}/attachments",
            content=VOUCHER_PDF,
            headers={"Authorization": f"Bearer {tokens[CLERK]}"},
        )
        assert uploaded.status_code == 201, uploaded.text
        yield Service(client, tokens)


def with_raw(body: dict[str, Any], field: str, raw: str) -> str:
    """``body`` as JSON with ``field``'s value written as ``raw`` JSON text."""
    return json.dumps({**body, field: "@@"}, ensure_ascii=False).replace('"@@"', raw)


def assert_refused(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    detail = response.json()["detail"]
    for word in words:
        assert word in detail, detail


@pytest.mark.parametrize("period", BAD_PERIODS)
def test_a_period_that_is_no_month_is_refused(service: Service, period: str) -> None:
    body = with_raw(ENTRY, "period", json.dumps(period))
    assert_refused(service.post("/finance/entries", body), "period", "ASCII digits", "2000-01")
    reversal = with_raw(BODIES["reverse_entry"], "period", json.dumps(period))
    path = f"/finance/entries/{uuid.uuid4()}/reversal"
    assert_refused(service.post(path, reversal), "period", "ASCII digits")


@pytest.mark.parametrize("raw", ["true", "false", '"100"', "100.0", "1e2", "null", "0"])
def test_an_amount_that_is_not_an_int_of_fen_is_refused(service: Service, raw: str) -> None:
    assert_refused(
        service.post("/finance/entries", with_raw(ENTRY, "amount_fen", raw)), "amount_fen"
    )


def test_an_amount_above_the_ledgers_bound_is_refused(service: Service) -> None:
    body = with_raw(ENTRY, "amount_fen", str(10_000_000_001))
    assert_refused(service.post("/finance/entries", body), "amount_fen")


@pytest.mark.parametrize(
    ("path", "body", "field", "value"),
    [
        ("/finance/entries", ENTRY, "counterparty", f"文具店{RLO}"),
        ("/finance/entries", ENTRY, "memo", f"打印{RLO}纸"),
        ("/finance/entries", ENTRY, "account", f"office{RLO}"),
        ("/finance/entries", ENTRY, "counterparty", "文具\n店"),
        ("/finance/entries", ENTRY, "memo", "打印\x85纸"),
        (
            f"/finance/entries/{uuid.uuid4()}/reversal",
            BODIES["reverse_entry"],
            "reason",
            f"重复{RLO}",
        ),
        ("/disclosures", BODIES["draft_disclosure"], "title", f"低保{RLO}公示"),
        ("/disclosures", BODIES["draft_disclosure"], "title", "低保\n公示"),
        ("/disclosures", BODIES["draft_disclosure"], "body", f"合计{RLO}18,600元"),
        ("/disclosures", BODIES["draft_disclosure"], "body", "合计\x1b[2J"),
    ],
)
def test_text_that_would_not_show_as_stored_is_refused_naming_the_field(
    service: Service, path: str, body: dict[str, Any], field: str, value: str
) -> None:
    response = service.post(path, with_raw(body, field, json.dumps(value)))
    code = f"U+{ord(next(c for c in value if not c.isprintable())):04X}"
    assert_refused(response, field, f"{field} contains", code)


def test_prose_keeps_its_line_breaks(service: Service) -> None:
    body = {**BODIES["draft_disclosure"], "body": "本月低保对象共12户。\n\t发放金额合计18,600元。"}
    response = service.post("/disclosures", json.dumps(body))
    assert response.status_code == 201, response.text


def test_a_refused_command_leaves_its_key_unused(service: Service) -> None:
    key = str(uuid.uuid4())
    assert_refused(
        service.post("/finance/entries", with_raw(ENTRY, "amount_fen", "true"), key=key)
    )
    stored = service.post("/finance/entries", json.dumps(ENTRY), key=key)
    assert stored.status_code == 201, stored.text
    assert stored.json()["result"]["id"]


def test_a_non_integer_objection_version_is_refused(service: Service) -> None:
    body = with_raw(BODIES["raise_objection"], "disclosure_version", "true")
    response = service.post(f"/disclosures/{uuid.uuid4()}/objections", body)
    assert_refused(response, "disclosure_version")


def test_two_accounts_with_one_key_each_get_their_own_result(service: Service) -> None:
    key = "finance-2026-07-office"
    first = service.post("/finance/entries", json.dumps(ENTRY), key=key)
    other_body = json.dumps({**ENTRY, "amount_fen": 34_000})
    second = service.post("/finance/entries", other_body, who="second clerk", key=key)
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert "Idempotent-Replayed" not in second.headers
    assert second.json()["result"]["id"] != first.json()["result"]["id"]
    retried = service.post("/finance/entries", other_body, who="second clerk", key=key)
    assert retried.status_code == 200
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json()["result"] == second.json()["result"]
    reused = service.post("/finance/entries", json.dumps(ENTRY), who="second clerk", key=key)
    assert reused.status_code == 422
    assert reused.headers["content-type"] == PROBLEM
