"""The 十个防止 report over HTTP on the demo street (天海社区 and an empty 新河社区): the
ten in the seed's order, three said not to be computable; the findings a reader may not
see are left out (a resident does not learn of a leadership item); the CSV for the
street's meeting says of each of the ten whether it was found; the console's pages; bad
input refused with a problem."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.service.app import create_app
from api.service.settings import Settings
from projections.ten_preventions import NAMES
from tests.api.demo_service import catch_up, demo_store, reader_tokens

T = "/v1/communities/tianhai"
LATER = {"at": "2027-03-01T12:00:00+08:00"}  # the demo's items are past their period
LEADERSHIP_ITEM = "【班子内部】"
READERS = (("resident", "tianhai"), ("clerk", "tianhai"), ("disciplinary_auditor", None))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url = demo_store(tmp_path_factory.mktemp("ten"))
    catch_up(url)
    tokens = {role: token for (role, _), token in reader_tokens(url, READERS).items()}
    with TestClient(create_app(Settings(db_url=url, checkpoint_interval=0))) as client:
        yield client, tokens


def get(client: TestClient, path: str, token: str | None, **params: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers, params=params)


def findings(report: dict[str, Any], key: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = next(
        p["findings"] for p in report["preventions"] if p["key"] == key
    )
    return found


def test_the_ten_in_the_seeds_order_three_not_computable(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = site
    response = get(client, f"{T}/ten-preventions", tokens["clerk"], **LATER)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["today"] == "2027-03-01"
    assert [p["name"] for p in report["preventions"]] == list(NAMES.values())
    blind = [p["key"] for p in report["preventions"] if not p["computable"]]
    assert blind == ["not_specific", "key_points", "form"]
    for p in report["preventions"]:
        if not p["computable"]:
            assert p["count"] is None
            assert p["findings"] == []
            assert p["basis"].startswith("无法从记录计算")
    # The demo's 低保 objection was verified: 不真实, with the finding.
    [untrue] = findings(report, "not_true")
    assert untrue["detail"].startswith("异议经核实属实")
    # By March the months after the demo's were owed and nothing was posted for them.
    late = findings(report, "not_timely")
    assert {f["period"] for f in late} >= {"2026-12", "2027-01"}
    assert all(f["obligation_id"] for f in late)


def test_a_reader_sees_only_the_findings_of_items_they_may_see(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = site
    titles = {}
    for role in ("resident", "clerk", "disciplinary_auditor"):
        report = get(client, f"{T}/ten-preventions", tokens[role], **LATER).json()
        titles[role] = [f["title"] for f in findings(report, "archive_incomplete")]
    assert any(LEADERSHIP_ITEM in t for t in titles["clerk"])
    assert titles["disciplinary_auditor"] == titles["clerk"]
    assert titles["resident"] == [t for t in titles["clerk"] if LEADERSHIP_ITEM not in t]
    assert titles["resident"], "the resident sees the public and internal items"


def test_who_may_read_it(site: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = site
    assert get(client, f"{T}/ten-preventions", None).status_code == 401
    for path in ("/v1/street/ten-preventions", "/v1/street/ten-preventions.csv"):
        assert get(client, path, None).status_code == 401
        refused = get(client, path, tokens["clerk"])
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
    assert (
        get(client, "/v1/communities/nowhere/ten-preventions", tokens["clerk"]).status_code == 404
    )


def test_the_csv_says_of_each_of_the_ten_what_was_found(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = site
    response = get(client, f"{T}/ten-preventions.csv", tokens["clerk"], **LATER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "ten-preventions-tianhai-2027-03-01.csv" in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["prevention"] for r in rows} == set(NAMES)
    for row in rows:
        assert row["community"] == "tianhai"
        if row["computable"] == "no":
            assert row["detail"].startswith("无法从记录计算")
            assert not row["disclosure_id"]
    json_report = get(client, f"{T}/ten-preventions", tokens["clerk"], **LATER).json()
    total = sum(max(len(p["findings"]), 1) for p in json_report["preventions"])
    assert len(rows) == total


def test_the_street_report_has_every_community(site: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = site
    report = get(client, "/v1/street/ten-preventions", tokens["disciplinary_auditor"], **LATER)
    assert report.status_code == 200, report.text
    body = report.json()
    assert [c["community"] for c in body["communities"]] == ["tianhai", "xinhe"]
    xinhe = body["communities"][1]
    # The empty community owes nothing, and its calendar covers no category.
    assert findings(xinhe, "not_timely") == []
    assert len(findings(xinhe, "rules_incomplete")) == 17
    sheet = get(client, "/v1/street/ten-preventions.csv", tokens["disciplinary_auditor"])
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert {r["community"] for r in rows} == {"tianhai", "xinhe"}


def test_bad_input_is_refused_with_a_problem(site: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = site
    for params in ({"at": "2027-03-01T12:00:00"}, {"at": "soon"}, {"as_of": "-1"}):
        response = get(client, f"{T}/ten-preventions", tokens["clerk"], **params)
        assert response.status_code in (400, 422), (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    page = get(client, "/console/c/tianhai/ten-preventions", tokens["clerk"], day="2027-13-01")
    assert page.status_code == 422


def test_the_console_pages(site: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = site
    page = get(client, "/console/c/tianhai/ten-preventions", tokens["resident"], day="2027-03-01")
    assert page.status_code == 200
    text = html.unescape(page.text)
    for name in NAMES.values():
        assert name in text
    assert text.count("无法从记录计算") >= 3
    assert LEADERSHIP_ITEM not in text
    assert "2026-12 · 应于 2027-01-10 前公开，至今未公开" in text
    street = get(client, "/console/street/ten-preventions", tokens["disciplinary_auditor"])
    assert street.status_code == 200
    assert "天海社区" in street.text
    assert "新河社区" in street.text
