"""The demo's erasure, as its readers meet it: the 低保 lists of its first two months
named a recipient who later moved away, and the chair erased her personal data (PIPL
第四十七条). Her entries read [已删除] to members and the public alike, the others are
whole to members and masked to the public, her name and ID number are in no file of
the service's, and the chain still verifies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.cli.main import main
from api.demo.script import AID_RECIPIENTS, MOVED_AWAY, MOVED_AWAY_MONTHS
from api.service.app import create_app
from api.service.settings import Settings
from ledger.domain.personal_data import ERASED
from ledger.domain.working_days import china_date
from tests.api.demo_service import demo_store, reader_tokens

T = "/v1/communities/tianhai"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, Path]]:
    directory = tmp_path_factory.mktemp("erasure")
    url = demo_store(directory, second_community=False)
    tokens = reader_tokens(url, [("resident", "tianhai")])
    with TestClient(create_app(Settings(db_url=url, checkpoint_interval=0))) as client:
        yield client, tokens["resident", "tianhai"], directory


def first_lists() -> list[str]:
    """The periods of the lists that named her: the demo's first two months."""
    first = china_date().replace(day=1)
    months = []
    for n in range(6, 6 - MOVED_AWAY_MONTHS, -1):
        index = first.year * 12 + first.month - 1 - n
        months.append(f"{index // 12}年{index % 12 + 1}月")
    return months


def recipients(client: TestClient, title: str, token: str | None) -> list[dict[str, Any]]:
    board = client.get(f"{T}/board").json()["items"]
    found = next(i for i in board if i["title"].startswith(title) and "最低生活保障" in i["title"])
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    history = client.get(f"{T}/disclosures/{found['disclosure_id']}/history", headers=headers)
    listed: list[dict[str, Any]] = history.json()["versions"][-1]["recipients"]
    return listed


def test_the_erased_recipient_reads_deleted_and_the_others_do_not(
    site: tuple[TestClient, str, Path],
) -> None:
    client, token, _ = site
    for title in first_lists():
        member = recipients(client, title, token)
        assert len(member) == len(AID_RECIPIENTS) + 1
        erased = [r for r in member if r["erased"]]
        assert [(r["person_id"], r["name"], r["id_number"]) for r in erased] == [
            (MOVED_AWAY["person_id"], ERASED, ERASED)
        ]
        whole = {r["name"] for r in member if not r["erased"]}
        assert whole == {p["name"] for p in AID_RECIPIENTS}
        public = recipients(client, title, None)
        assert [r["name"] for r in public if r["erased"]] == [ERASED]
        assert all("id_number" not in r for r in public)
        assert "张**" in {r["name"] for r in public}  # the surname only


def test_her_data_is_in_no_file_and_the_chain_verifies(
    site: tuple[TestClient, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, directory = site
    if not any(directory.glob("*.sqlite3")):
        pytest.skip("the demo is on PostgreSQL: its rows are scanned by the contract tests")
    secrets = [str(MOVED_AWAY[f]).encode() for f in ("name", "id_number", "phone")]
    for path in directory.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(secret in data for secret in secrets), path
    url = next(f"sqlite:///{p}" for p in directory.glob("*.sqlite3") if p.stem == "gongkai")
    assert main(["verify", "--db", url, "--keys-dir", str(directory / "keys")]) == 0
    assert "intact" in capsys.readouterr().out
