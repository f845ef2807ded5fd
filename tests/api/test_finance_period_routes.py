"""Closing a period over HTTP on the demo community, which closes each month itself:
the clerk closes the last quarter that has ended, and the figures the close names are
those ``GET …/finance/totals`` gives at the close's entry, as are the figures of the
demo's own close of last month; the statement waits for the democratic finance group's
sign-off, then is drafted from those figures; a back-dated entry is refused with a
problem and stores nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.service.app import create_app
from api.service.settings import Settings
from ledger.domain.working_days import china_date
from tests.api.demo_service import catch_up, demo_store, reader_tokens
from tests.contract.test_ledger_contract import key

T = "/v1/communities/tianhai"
READERS = (("clerk", "tianhai"), ("committee_member", "tianhai"), ("resident", "tianhai"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url = demo_store(tmp_path_factory.mktemp("periods"), second_community=False)
    catch_up(url)
    tokens = {role: token for (role, _), token in reader_tokens(url, READERS).items()}
    settings = Settings(db_url=url, checkpoint_interval=0, worker=True, worker_poll=0.1)
    with TestClient(create_app(settings)) as client:
        yield client, tokens


def send(client: TestClient, token: str, path: str, body: dict[str, Any] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key()}
    return client.post(T + path, json=body or {}, headers=headers)


def last_month() -> str:
    first = china_date().replace(day=1)
    return f"{first - dt.timedelta(days=1):%Y-%m}"


def last_quarter() -> tuple[str, list[str]]:
    """The last quarter that has ended, and its months."""
    last = china_date().replace(day=1) - dt.timedelta(days=1)
    while last.month % 3:
        last = last.replace(day=1) - dt.timedelta(days=1)
    months = [f"{last.year}-{m:02d}" for m in range(last.month - 2, last.month + 1)]
    return f"{last.year}Q{last.month // 3}", months


def totals(client: TestClient, token: str, as_of: int, months: list[str]) -> tuple[int, int]:
    """Income and expense of ``months`` as the finance read model had them at ``as_of``."""
    books = client.get(
        f"{T}/finance/totals",
        params={"as_of": as_of},
        headers={"Authorization": f"Bearer {token}"},
    )
    found = [p for p in books.json()["periods"] if p["period"] in months]
    return sum(p["income_fen"] for p in found), sum(p["expense_fen"] for p in found)


def test_the_demos_close_of_last_month_names_the_books_figures(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = site
    month = last_month()
    shown = client.get(
        f"{T}/finance/periods/{month}", headers={"Authorization": f"Bearer {tokens['resident']}"}
    ).json()
    assert shown["signed_off_by"]
    assert shown["statement"]
    assert totals(client, tokens["resident"], shown["as_of"], [month]) == (
        shown["income_fen"], shown["expense_fen"]
    )  # fmt: skip
    again = send(client, tokens["clerk"], f"/finance/periods/{month}/close")
    assert again.status_code == 409
    assert "already closed" in again.json()["detail"]


def test_a_close_names_the_books_figures_and_its_statement_waits_for_the_sign_off(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = site
    month, months = last_quarter()
    closed = send(client, tokens["clerk"], f"/finance/periods/{month}/close")
    assert closed.status_code == 201, closed.text
    figures = closed.json()["result"]
    assert figures["entries"] > 0
    # Recompute them, as anyone may, from the read model at the close's entry.
    assert totals(client, tokens["resident"], figures["as_of"], months) == (
        figures["income_fen"], figures["expense_fen"]
    )  # fmt: skip
    shown = client.get(f"{T}/finance/periods/{month}",
                       headers={"Authorization": f"Bearer {tokens['resident']}"})  # fmt: skip
    assert shown.status_code == 200
    assert shown.json()["as_of"] == figures["as_of"]
    assert shown.json()["signed_off_by"] is None
    early = send(client, tokens["clerk"], f"/finance/periods/{month}/statement")
    assert early.status_code == 409
    assert "民主理财" in early.json()["detail"]
    signed = send(client, tokens["committee_member"], f"/finance/periods/{month}/sign-off",
                  {"opinion": "账实相符"})  # fmt: skip
    assert signed.status_code == 201, signed.text
    drafted = send(client, tokens["clerk"], f"/finance/periods/{month}/statement")
    assert drafted.status_code == 201, drafted.text
    assert client.get(f"{T}/finance/periods/{month}", headers={
        "Authorization": f"Bearer {tokens['resident']}"}).json()["statement"] == (
        drafted.json()["result"]["id"])  # fmt: skip


def test_a_back_dated_entry_is_refused_with_a_problem(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = site
    month = last_month()
    if (
        client.get(
            f"{T}/finance/periods/{month}", headers={"Authorization": f"Bearer {tokens['clerk']}"}
        ).status_code
        == 404
    ):
        send(client, tokens["clerk"], f"/finance/periods/{month}/close")  # fmt: skip
    uploaded = client.post(f"{T}/attachments", content=b"%PDF-1.4\n% a late voucher\n",
                           headers={"Authorization": f"Bearer {tokens['clerk']}"})  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text
    head = client.get(f"{T}/head").json()["seq"]
    entry = {"kind": "expense", "amount_fen": 100, "account": "office", "counterparty": "店",
             "voucher_sha256": uploaded.json()["sha256"], "period": month,
             "memo": "补记"}  # fmt: skip
    refused = send(client, tokens["clerk"], "/finance/entries", entry)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "next open period" in refused.json()["detail"]
    assert client.get(f"{T}/head").json()["seq"] == head
    for bad in ("2026-13", "soon"):
        answer = send(client, tokens["clerk"], f"/finance/periods/{bad}/close")
        assert answer.status_code == 422, answer.text
    clerk = {"Authorization": f"Bearer {tokens['clerk']}"}
    assert client.get(f"{T}/finance/periods/2001-01", headers=clerk).status_code == 404
