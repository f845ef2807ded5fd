"""The ledger that tells its listener of each commit: once per stored command, with the
command's last entry, after the commit, and never failing the command it tells of."""

from __future__ import annotations

import pytest

from ledger.application.notifying import NotifyingLedger
from ledger.store.backend import Store
from ledger.store.base import Community
from tests.contract.test_ledger_contract import CLERK, DRAFT, key


def test_each_stored_command_is_told_with_its_last_entry(store: Store, community_id: str) -> None:
    heard: list[tuple[str, int, int]] = []

    def listen(community: str, last_seq: int) -> None:
        # Told after the commit: another reader sees the entry already.
        heard.append((community, last_seq, store.max_seq(community)))

    ledger = NotifyingLedger(store, listen)
    book = ledger.add_community(Community(community_id, "测试社区"))
    heard.clear()  # the default chart of accounts, adopted with the community
    drafted = book.draft_disclosure(CLERK, "first", **DRAFT)
    replayed = book.draft_disclosure(CLERK, "first", **DRAFT)
    assert replayed.replayed
    assert heard == [(community_id, drafted.last_seq, drafted.last_seq)]


def test_a_failing_listener_does_not_fail_the_command(
    store: Store, community_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(community: str, last_seq: int) -> None:
        raise RuntimeError("the listener broke")

    ledger = NotifyingLedger(store, broken)
    book = ledger.add_community(Community(community_id, "测试社区"))
    done = book.draft_disclosure(CLERK, key(), **DRAFT)
    assert book.head().seq == done.last_seq
    assert "the listener broke" in caplog.text
    assert f"entry {done.last_seq} of {community_id}" in caplog.text
