"""PostgreSQL's seal reads, which run on connections of their own beside the store's
pool: right answers from many threads at once, an error once the store is closed, and
a fresh connection after the server dropped one."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from ledger.application import Ledger
from ledger.errors import StoreError
from ledger.seal.community_log import CommunityLog
from ledger.seal.merkle import inclusion_proof, leaf_hash, root_of
from ledger.store import open_store
from ledger.store.backend import Store
from ledger.store.base import Community
from tests.conftest import SERVICE_ROLE, fresh_pg_database, pg_url
from tests.contract.test_seal import grow


@pytest.fixture
def pg_db() -> Iterator[str]:
    """A database of this test's own, so that killing its connections hurts no other."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def sealed(pg_db: str) -> Iterator[tuple[Store, str, list[bytes]]]:
    """A store, a community with a tree of 20 entries, and their leaf hashes."""
    store = open_store(pg_db)
    store.init_schema(service_role=SERVICE_ROLE)
    community_id = "t" + uuid.uuid4().hex[:16]
    ledger = Ledger(store)
    grow(ledger.add_community(Community(community_id, "测试社区")), 19)
    CommunityLog(store, community_id).update_tree()
    leaves = [leaf_hash(row[2]) for row in store.chain_rows(community_id)]
    yield store, community_id, leaves
    ledger.close()


def _terminate_others(url: str) -> int:
    """End every other session of the test's database, as a server restart would."""
    name = url.rpartition("/")[2]
    with psycopg.connect(pg_url("SUPER"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


def test_node_reads_answer_what_was_asked(sealed: tuple[Store, str, list[bytes]]) -> None:
    store, community_id, leaves = sealed
    seal = store.seal(community_id)
    assert seal.read_nodes([]) == {}
    nodes = [(0, 3), (1, 0), (0, 3), (2, 1)]  # a repeat is answered once
    found = seal.read_nodes(nodes)
    assert sorted(found) == [(0, 3), (1, 0), (2, 1)]
    assert found[(0, 3)] == leaves[3]
    assert found[(1, 0)] == root_of(leaves[0:2])
    assert found[(2, 1)] == root_of(leaves[4:8])
    with pytest.raises(StoreError, match="lacks 1 node"):
        seal.read_nodes([(0, 3), (0, 99)])


def test_node_reads_from_many_threads_agree(sealed: tuple[Store, str, list[bytes]]) -> None:
    store, community_id, leaves = sealed
    size = len(leaves)
    expected = [inclusion_proof(i, size, store.seal(community_id).read_nodes) for i in range(size)]
    failures: list[str] = []

    def prove() -> None:
        seal = store.seal(community_id)  # a seal store per request, as the service does
        for _ in range(10):
            for i in range(size):
                if inclusion_proof(i, size, seal.read_nodes) != expected[i]:
                    failures.append(f"leaf {i}")

    threads = [threading.Thread(target=prove) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_closed_store_refuses_reads(sealed: tuple[Store, str, list[bytes]]) -> None:
    store, community_id, _ = sealed
    seal = store.seal(community_id)
    assert seal.tree_size() == 20
    store.close()
    with pytest.raises(StoreError):
        seal.read_nodes([(0, 0)])
    with pytest.raises(StoreError):
        seal.tree_size()


def test_reads_reconnect_after_the_server_dropped_them(
    pg_db: str, sealed: tuple[Store, str, list[bytes]]
) -> None:
    store, community_id, leaves = sealed
    seal = store.seal(community_id)
    assert seal.read_nodes([(0, 5)]) == {(0, 5): leaves[5]}
    assert _terminate_others(pg_db) > 0
    # The read that finds its connection dead may fail; the next one reconnects.
    with contextlib.suppress(StoreError):
        seal.read_nodes([(0, 5)])
    assert seal.read_nodes([(0, 6)]) == {(0, 6): leaves[6]}
    assert store.seal(community_id).checkpoint() is None
