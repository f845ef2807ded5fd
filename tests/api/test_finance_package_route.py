"""``GET /v1/communities/{id}/finance/package``: the finances as a Fiscal Data Package zip,
to the same readers as the finance JSON (the community's members and the auditors), with
the same sums, and problem+json for everyone else."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from api.service.app import create_app
from api.service.settings import Settings
from projections.finance.descriptor import DESCRIPTOR, ENTRIES
from tests.api.demo_service import catch_up, demo_store, reader_tokens
from tests.unit.test_finance_package import check_package, sums, table

PATH = "/v1/communities/tianhai/finance/package"
READERS = [
    ("resident", "tianhai"),
    ("committee_member", "tianhai"),
    ("disciplinary_auditor", None),
    ("resident", "xinhe"),
    ("clerk", "xinhe"),
]
PROBLEM = "application/problem+json"


@dataclass
class Service:
    client: TestClient
    tokens: dict[tuple[str, str | None], str]

    def get(
        self, who: tuple[str, str | None] | None, path: str = PATH, **params: object
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.get(path, headers=headers, params=params)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The demo community (six months of finances, with a reversal) and an empty second
    community, with an account for each kind of reader."""
    url = demo_store(tmp_path_factory.mktemp("finance-package"))
    catch_up(url)
    tokens = reader_tokens(url, READERS)
    with TestClient(create_app(Settings(db_url=url, checkpoint_interval=0))) as client:
        yield Service(client, tokens)


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.mark.parametrize("who", [("resident", "tianhai"), ("disciplinary_auditor", None)], ids=str)
def test_a_member_or_auditor_gets_the_package(
    service: Service, who: tuple[str, str | None]
) -> None:
    response = service.get(who)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    disposition = response.headers["content-disposition"]
    files = unzip(response.content)
    descriptor = check_package(files)
    as_of = descriptor["gongkai"]["as_of"]
    assert disposition == f'attachment; filename="tianhai-finance-{as_of}.zip"'
    assert "天海社区" in descriptor["title"], "the community's name from the store"
    rows = table(files)
    assert any(r["reverses"] for r in rows), "the demo's reversal is listed"
    totals = service.get(who, "/v1/communities/tianhai/finance/totals").json()["periods"]
    assert sums(rows, "period") == [
        (p["period"], p["income_fen"], p["expense_fen"], p["net_fen"], p["balance_fen"])
        for p in totals
    ]
    again = service.get(who)
    assert again.content == response.content, "the same record, the same bytes"


def test_as_of_and_a_range_of_months(service: Service) -> None:
    who = ("committee_member", "tianhai")
    whole = unzip(service.get(who).content)
    rows = table(whole)
    middle = int(rows[len(rows) // 2]["seq"])
    earlier = unzip(service.get(who, as_of=middle).content)
    assert [r["seq"] for r in table(earlier)] == [
        r["seq"] for r in rows if int(r["seq"]) <= middle
    ]
    month = rows[0]["period"]
    one = service.get(who, **{"from": month, "to": month})
    assert {r["period"] for r in table(unzip(one.content))} == {month}
    assert set(whole) == {DESCRIPTOR, ENTRIES}


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), (("resident", "xinhe"), 403), (("clerk", "xinhe"), 403)],
    ids=str,
)
def test_anyone_else_gets_a_problem(
    service: Service, who: tuple[str, str | None] | None, status: int
) -> None:
    response = service.get(who)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == status
    assert b"PK" not in response.content[:2]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/v1/communities/nowhere/finance/package", {}, 404),
        (PATH, {"as_of": 10**9}, 422),  # beyond what the read model has applied
        (PATH, {"as_of": -1}, 422),
        (PATH, {"from": "2026-13"}, 422),
        (PATH, {"from": "2026-09", "to": "2026-07"}, 422),
    ],
    ids=["unknown community", "as_of ahead", "negative as_of", "no such month", "backwards"],
)
def test_bad_requests_are_problems(
    service: Service, path: str, params: dict[str, object], status: int
) -> None:
    response = service.get(("disciplinary_auditor", None), path, **params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM


def test_an_empty_community_gets_an_empty_table(service: Service) -> None:
    response = service.get(("disciplinary_auditor", None), "/v1/communities/xinhe/finance/package")
    files = unzip(response.content)
    check_package(files)
    assert table(files) == []
