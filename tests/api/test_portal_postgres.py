"""Every portal page on PostgreSQL, the production store: the demo set up as an operator
would (``gongkai demo``, ``db init``, the projection worker) in a database of its own,
each page answered, and the figures and bytes the pages carry checked against the JSON
routes, as on SQLite."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.cli.main import main
from api.portal.views import CHINA
from api.service.app import create_app
from api.service.settings import Settings
from tests.api.demo_service import catch_up, reader_tokens
from tests.api.test_portal_verify import stored_entry_hash
from tests.conftest import fresh_pg_database

RESIDENT = ("resident", "tianhai")
DATA = re.compile(r'<script type="application/json" id="verify-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """The demo on PostgreSQL, served; and a resident's bearer token."""
    keys = tmp_path_factory.mktemp("pg-portal") / "keys"
    with fresh_pg_database() as url:
        assert main(["demo", "--db", url, "--keys-dir", str(keys)]) == 0
        assert main(["db", "init", "--db", url]) == 0
        catch_up(url)
        token = reader_tokens(url, [RESIDENT])[RESIDENT]
        settings = Settings(db_url=url, keys_dir=Path(keys), checkpoint_interval=0)
        with TestClient(create_app(settings)) as served:
            yield served, token


def get(client: TestClient, path: str, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.text[:300])
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


def test_every_page_answers(client: tuple[TestClient, str]) -> None:
    served, _ = client
    board = served.get("/v1/communities/tianhai/board").json()["items"]
    item = board[0]["disclosure_id"]
    today = datetime.now(CHINA).date().isoformat()
    for path in (
        "/",
        "/c/tianhai",
        "/c/tianhai?lang=en",
        f"/c/tianhai?date={today}",
        f"/c/tianhai/items/{item}",
        f"/c/tianhai/items/{item}/proof",
        "/c/tianhai/verify",
        "/c/tianhai/sheets?section=affairs",
        "/c/tianhai/sheets?section=finance",
    ):
        get(served, path)
    page = get(served, "/c/tianhai")
    # Posted today: published, and long-term or within its posting (已到期 are listed apart).
    up = [
        i
        for i in board
        if i["status"] == "published"
        and (i["long_term"] or not i["posted_until"] or today <= i["posted_until"])
    ]
    assert page.count("<article>") == len(up)


def test_the_finance_page_shows_the_totals(client: tuple[TestClient, str]) -> None:
    served, token = client
    page = get(served, "/c/tianhai/finance", token)
    headers = {"Authorization": f"Bearer {token}"}
    totals = served.get("/v1/communities/tianhai/finance/totals", headers=headers).json()
    cells = {
        (period, series): int(fen)
        for period, series, fen in re.findall(
            r'<td data-period="([^"]+)" data-series="(income|expense)" data-fen="(-?\d+)"',
            page.split('id="accounts-table"')[0],
        )
    }
    expected = {
        (p["period"], s): p[f"{s}_fen"] for p in totals["periods"] for s in ("income", "expense")
    }
    assert cells
    assert cells == expected


def test_a_members_proof_page_carries_the_stored_bytes(client: tuple[TestClient, str]) -> None:
    served, token = client
    headers = {"Authorization": f"Bearer {token}"}
    board = served.get("/v1/communities/tianhai/board", headers=headers).json()["items"]
    item = next(i["disclosure_id"] for i in board if i["scope"] == "internal")
    match = DATA.search(get(served, f"/c/tianhai/items/{item}/proof", token))
    assert match is not None
    for entry in json.loads(match.group(1))["entries"]:
        digest = stored_entry_hash(entry)
        proof = served.get(
            "/v1/communities/tianhai/proof/inclusion", params={"seq": entry["seq"]}
        ).json()
        assert digest.hex() == proof["entry_hash"]
