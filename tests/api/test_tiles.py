"""The tree served as C2SP tlog-tiles: tiles and entry bundles agree with the chain and
with each other, partial tiles have the spec's widths, bad paths are problems."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.routes.tiles import parse_tile_path
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.seal.community_log import CommunityLog
from ledger.seal.merkle import leaf_hash, root_of
from ledger.store import open_store
from ledger.store.base import Community
from tests.contract.test_ledger_contract import CLERK, DRAFT


@pytest.fixture
def client(store_url: str, tmp_path: Path, community_id: str) -> Iterator[TestClient]:
    with open_store(store_url) as store:
        store.init_schema()
        with Ledger(store) as whole:
            book = whole.add_community(Community(community_id, "瓦片社区"))
            for i in range(259):  # with the chart: 260 entries
                book.draft_disclosure(CLERK, str(uuid.uuid4()), **{**DRAFT, "title": f"{i}"})
            CommunityLog(store, community_id).update_tree()
    settings = Settings(db_url=store_url, keys_dir=tmp_path, checkpoint_interval=0)
    with TestClient(create_app(settings)) as c:
        yield c


def test_tiles_rebuild_the_tree(client: TestClient, community_id: str) -> None:
    base = f"/v1/communities/{community_id}/tile"
    entries = client.get(f"{base}/entries/000").content
    assert len(entries) == 256 * 34
    hashes = [entries[i + 2 : i + 34] for i in range(0, len(entries), 34)]
    assert all(entries[i : i + 2] == b"\x00\x20" for i in range(0, len(entries), 34))
    level0 = client.get(f"{base}/0/000")
    assert level0.headers["cache-control"].endswith("immutable")
    assert level0.content == b"".join(leaf_hash(h) for h in hashes)
    leaves = [level0.content[i : i + 32] for i in range(0, 8192, 32)]
    partial = client.get(f"{base}/0/001.p/4").content
    assert len(partial) == 4 * 32
    level1 = client.get(f"{base}/1/000.p/1").content
    assert level1 == root_of(leaves), "a level-1 hash is the root of a full level-0 tile"
    more = client.get(f"{base}/entries/001.p/4").content
    assert [leaf_hash(more[i + 2 : i + 34]) for i in range(0, len(more), 34)] == [
        partial[i : i + 32] for i in range(0, 128, 32)
    ]
    for missing in ("0/001", "0/001.p/5", "0/002.p/1", "1/000", "entries/001"):
        response = client.get(f"{base}/{missing}")
        assert response.status_code == 404, missing
        assert response.headers["content-type"] == "application/problem+json"


BAD_PATHS = ["64/000", "01/000", "0/1", "0/x001", "0/000.p/256", "0/000.p/0", "0/000.p/x", "z/000"]


def test_bad_tile_paths_are_problems(client: TestClient, community_id: str) -> None:
    for bad in BAD_PATHS:
        response = client.get(f"/v1/communities/{community_id}/tile/{bad}")
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"


def test_tile_index_encoding() -> None:
    assert parse_tile_path("0/x001/x234/067") == (0, 1234067, 256)
    assert parse_tile_path("2/000.p/1") == (2, 0, 1)
    assert parse_tile_path("entries/x001/002.p/255") == (None, 1002, 255)
