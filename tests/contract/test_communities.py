"""Each community has its own log and its own chain, and writes to one community never
wait on another's."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest

from ledger.application import CommunityLedger, Ledger
from ledger.chain.hashing import genesis_hash
from ledger.chain.verify import verify_store
from ledger.store.backend import Store
from ledger.store.base import Community
from tests.conftest import pg_url
from tests.contract.test_ledger_contract import CLERK, DRAFT, key, posted


@contextmanager
def write_lock_held(backend: str, store: Store, community_id: str) -> Iterator[None]:
    """Hold the community's write lock from another connection, as a slow writer would."""
    if backend == "sqlite":
        from ledger.store.sqlite import SQLiteStore

        assert isinstance(store, SQLiteStore)
        with closing(sqlite3.connect(store.community_path(community_id))) as conn:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.rollback()
        return
    import psycopg

    from ledger.store.postgres.ddl import advisory_key as _advisory_key

    with psycopg.connect(pg_url()) as conn:
        conn.execute(
            "SELECT pg_advisory_xact_lock(%s)", (_advisory_key(f"{community_id}_events"),)
        )
        yield
        conn.rollback()


def test_two_communities_have_separate_chains(store: Store, community_id: str) -> None:
    with Ledger(store) as whole:
        a = whole.add_community(Community(community_id + "a", "甲社区"))
        b = whole.add_community(Community(community_id + "b", "乙社区"))
        posted(a)
        assert (a.head().seq, b.head().seq) == (6, 1)
        first_a, first_b = a.entries(limit=1)[0], b.entries(limit=1)[0]
        assert first_a.prev_hash == genesis_hash(a.community.id)
        assert first_b.prev_hash == genesis_hash(b.community.id)
        assert verify_store(store, a.community.id).count == 6
        assert verify_store(store, b.community.id).count == 1


def test_a_write_to_one_community_does_not_wait_for_another(
    backend: str, store: Store, community_id: str
) -> None:
    with Ledger(store) as whole:
        busy = whole.add_community(Community(community_id + "a", "甲社区"))
        free = whole.add_community(Community(community_id + "b", "乙社区"))
        blocked_done = threading.Event()

        def write_to_busy() -> None:
            busy.draft_disclosure(CLERK, key(), **DRAFT)
            blocked_done.set()

        with write_lock_held(backend, store, busy.community.id):
            writer = threading.Thread(target=write_to_busy)
            writer.start()
            # The other community's write goes through while the lock is held...
            free.draft_disclosure(CLERK, key(), **DRAFT)
            assert free.head().seq == 2
            # ...and the busy community's writer is really waiting for its own lock.
            assert not blocked_done.wait(timeout=1.0)
        writer.join(timeout=30)
        assert blocked_done.is_set()
        assert busy.head().seq == 2


def test_a_chain_cannot_be_moved_to_another_community(
    ledger: CommunityLedger, store: Store
) -> None:
    """The genesis hash names the community: the same rows under another ID fail."""
    from ledger.chain.verify import ChainIntegrityError, verify_rows

    posted(ledger)
    rows = list(store.chain_rows(ledger.community.id))
    with pytest.raises(ChainIntegrityError) as info:
        verify_rows("elsewhere", rows)
    assert info.value.seq == 1


def test_two_writers_taking_turns_keep_one_chain(
    store_url: str, store: Store, ledger: CommunityLedger
) -> None:
    """Each writer's idea of the head goes stale whenever the other appends; every
    append must still land right after the true head."""
    from ledger.store import open_store

    with Ledger(open_store(store_url)) as other_process:
        other = other_process.community(ledger.community.id)
        for _ in range(5):
            ledger.draft_disclosure(CLERK, key(), **DRAFT)
            other.draft_disclosure(CLERK, key(), **DRAFT)
    assert verify_store(store, ledger.community.id).count == 11
