"""The read routes answer as the record stood at a time (``at``) as they do after the entry
the ledger's clock finds for it, and say which entry that was."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from ledger.store import open_store
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store

CHINA = timezone(timedelta(hours=8))
T = "/v1/communities/tianhai"


@dataclass
class Service:
    client: TestClient
    auditor: dict[str, str]
    times: list[datetime]  # each entry's stamp, in chain order
    disclosure: str  # a public disclosure of the demo


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    url = demo_store(tmp_path_factory.mktemp("at"), second_community=False)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        accounts.directory.add("audit", "disciplinary_auditor", password=GOOD_PASSWORD)
        token = accounts.tokens.issue("audit").secret
    with open_store(url) as store:
        rows = store.seal("tianhai").chain_rows(0, 100_000)
    times = [datetime.fromisoformat(json.loads(r[6])["timestamp"]["_data_"]) for r in rows]
    drafted = [r for r in rows if r[5] == b"gongkai/disclosure/drafted"]
    disclosure = str(uuid.UUID(bytes=drafted[0][3]))
    with TestClient(create_app(Settings(db_url=url, checkpoint_interval=0))) as client:
        yield Service(client, {"Authorization": f"Bearer {token}"}, times, disclosure)


def reads(service: Service) -> list[str]:
    return [
        f"{T}/board",
        f"{T}/disclosures/{service.disclosure}/history",
        f"{T}/finance/entries",
        f"{T}/finance/totals",
        f"{T}/audit-trail",
    ]


def entry_at(times: list[datetime], when: datetime) -> int:
    """The longest run of entries from the start all stamped by ``when``."""
    k = 0
    while k < len(times) and times[k] <= when:
        k += 1
    return k


def test_every_read_at_a_time_is_the_read_after_the_entry_it_meant(service: Service) -> None:
    times = service.times
    moments = [times[0] - timedelta(seconds=1), times[len(times) // 2], times[-1]]
    for when in moments:
        seq = entry_at(times, when)
        for path in reads(service):
            at = service.client.get(
                path, params={"at": when.astimezone(CHINA).isoformat()}, headers=service.auditor
            )
            after = service.client.get(path, params={"as_of": seq}, headers=service.auditor)
            if seq == 0 and path.endswith("/history"):
                assert at.status_code == after.status_code == 404  # not drafted yet
                continue
            assert at.status_code == 200, at.text
            assert at.json() == after.json()
            assert at.json()["as_of"] == seq


def test_a_finance_package_at_a_time_is_the_package_after_that_entry(service: Service) -> None:
    when = service.times[len(service.times) // 2]
    seq = entry_at(service.times, when)
    path = f"{T}/finance/package"
    at = service.client.get(path, params={"at": when.isoformat()}, headers=service.auditor)
    after = service.client.get(path, params={"as_of": seq}, headers=service.auditor)
    assert at.status_code == after.status_code == 200
    assert at.content == after.content


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"at": "2026-07-01T08:00:00"}, "at"),  # no zone: which 08:00?
        ({"at": "2026-07-01T08:00:00+08:00", "as_of": "3"}, "at"),
        ({"at": "9999-12-31T23:00:00-05:00"}, "at"),  # past the calendar in UTC
        ({"at": "yesterday"}, None),
    ],
    ids=str,
)
def test_an_unusable_time_is_a_problem(
    service: Service, params: dict[str, str], field: str | None
) -> None:
    for path in reads(service):
        response = service.client.get(path, params=params, headers=service.auditor)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        if field:
            assert response.json()["field"] == field
