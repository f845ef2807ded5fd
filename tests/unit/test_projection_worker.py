"""The projection worker's loop: woken by a commit, never losing one, backing off from
a failing community without holding up the others, and stopping promptly."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ledger.errors import StoreError
from projections.worker import CommitSignal, ProjectionWorker


class FakeRunner:
    """Counts catch-ups per community; raises for the communities in ``broken``."""

    def __init__(self, broken: set[str] | None = None) -> None:
        self.broken = broken or set()
        self.calls: list[str] = []
        self.called = threading.Event()

    def catch_up(self, community_id: str, on_progress: Any = None) -> int:
        self.calls.append(community_id)
        self.called.set()
        if community_id in self.broken:
            raise StoreError(f"{community_id} is broken")
        return 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def worker_of(runner: FakeRunner, **kwargs: Any) -> ProjectionWorker:
    return ProjectionWorker(runner, lambda: ["a", "b"], **kwargs)  # type: ignore[arg-type]


def test_a_commit_before_the_wait_is_not_lost() -> None:
    signal = CommitSignal()
    signal.committed("a", 7)
    signal.committed("b", 3)
    started = time.monotonic()
    assert signal.wait(30) == {"a", "b"}
    assert time.monotonic() - started < 1
    assert signal.wait(0.01) == set()


def test_a_commit_wakes_the_worker_long_before_its_poll() -> None:
    runner = FakeRunner()
    worker = worker_of(runner, poll=60)
    worker.start()
    try:
        assert runner.called.wait(5)  # the first look at every community
        time.sleep(0.05)
        runner.called.clear()
        before = len(runner.calls)
        worker.signal.committed("b", 42)
        assert runner.called.wait(1), "the commit did not wake the worker"
        time.sleep(0.05)
        assert runner.calls[before:] == ["b"]
    finally:
        started = time.monotonic()
        worker.stop()
    assert time.monotonic() - started < 2, "the worker did not stop at once"
    assert worker.status().state == "stopped"


def test_failures_back_off_doubling_up_to_a_bound() -> None:
    clock = Clock()
    worker = worker_of(FakeRunner({"a"}), first_backoff=0.5, max_backoff=4, clock=clock)
    delays = []
    for _ in range(6):
        assert worker.pass_once("a") == 0
        failing = worker.status().failing["a"]
        delays.append(failing.retry_at - clock.now)
    assert delays == [0.5, 1, 2, 4, 4, 4]
    assert failing.failures == 6
    assert failing.error == "a is broken"


def test_a_failing_community_does_not_hold_up_the_others() -> None:
    runner = FakeRunner({"a"})
    worker = worker_of(runner, poll=60, first_backoff=10)
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while set(runner.calls) != {"a", "b"}:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        runner.called.clear()
        worker.signal.committed("a", 1)
        worker.signal.committed("b", 1)
        assert runner.called.wait(1)
        time.sleep(0.05)
        status = worker.status()
    finally:
        worker.stop()
    # b was caught up again at once; a waits for its retry, 10 s after its failure.
    assert runner.calls.count("b") == 2
    assert runner.calls.count("a") == 1
    assert status.state == "retrying"
    assert set(status.failing) == {"a"}
    assert status.applied == 2


def test_recovery_clears_the_failure() -> None:
    runner = FakeRunner({"a"})
    worker = worker_of(runner, clock=Clock())
    worker.pass_once("a")
    runner.broken.clear()
    assert worker.pass_once("a") == 1
    assert worker.status().failing == {}


@pytest.mark.parametrize("poll", [0.0, -1.0])
def test_a_wait_of_no_time_returns_at_once(poll: float) -> None:
    started = time.monotonic()
    assert CommitSignal().wait(poll) == set()
    assert time.monotonic() - started < 0.5
