"""Concurrent writers and crashed writers never fork, break or lose the chain."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ledger.application import CommunityLedger
from ledger.chain.verify import verify_store
from ledger.store.backend import Store
from tests.integration.writers import Ack, append_many

ROOT = Path(__file__).resolve().parents[2]
PER_WRITER = 25


def assert_chain_holds(store: Store, ledger: CommunityLedger, acks: list[Ack]) -> int:
    """The chain verifies and every acknowledged entry is in it, where it was told."""
    result = verify_store(store, ledger.community.id)
    entries = {e.seq: e for e in ledger.entries(after=0, limit=100_000)}
    assert len(entries) == result.count
    for entity_id, first_seq, last_seq in acks:
        assert first_seq == last_seq
        assert str(entries[first_seq].originator_id) == entity_id
    assert len({seq for _, seq, _ in acks}) == len(acks)
    return result.count


@pytest.mark.slow
def test_8_threads_and_4_processes_append_to_one_intact_chain(
    ledger: CommunityLedger, store: Store, store_url: str
) -> None:
    cid = ledger.community.id
    start_at = time.time() + 4.0  # lets the spawned processes import before anyone writes
    thread_acks: list[Ack] = []
    lock = threading.Lock()

    def thread_writer(n: int) -> None:
        acks = append_many(store_url, cid, f"thread{n}", PER_WRITER, start_at)
        with lock:
            thread_acks.extend(acks)

    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pending = [
            pool.apply_async(append_many, (store_url, cid, f"proc{n}", PER_WRITER, start_at))
            for n in range(4)
        ]
        threads = [threading.Thread(target=thread_writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        process_acks = [ack for p in pending for ack in p.get(timeout=300)]

    acks = thread_acks + process_acks
    assert len(acks) == 12 * PER_WRITER
    assert assert_chain_holds(store, ledger, acks) == 1 + 12 * PER_WRITER


def _writer(store_url: str, cid: str, label: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.writers", store_url, cid, label, "1000000"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
def test_a_writer_killed_mid_stream_leaves_an_intact_chain_with_every_ack(
    ledger: CommunityLedger, store: Store, store_url: str
) -> None:
    cid = ledger.community.id
    acks: list[Ack] = []
    for round_ in range(3):
        writer = _writer(store_url, cid, f"killed{round_}")
        assert writer.stdout is not None
        target = len(acks) + 40 + 17 * round_
        while len(acks) < target:
            line = writer.stdout.readline()
            assert line, "the writer stopped before it was killed"
            entity_id, first, last = line.split()
            acks.append((entity_id, int(first), int(last)))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        # Whatever it printed after our last read was acknowledged too.
        for line in writer.stdout.read().splitlines():
            entity_id, first, last = line.split()
            acks.append((entity_id, int(first), int(last)))
        count = assert_chain_holds(store, ledger, acks)
        assert count >= 1 + len(acks)
    # After the crashes, a fresh writer carries the chain on.
    more = append_many(store_url, cid, "after", 5)
    assert assert_chain_holds(store, ledger, acks + more) >= 1 + len(acks) + 5
