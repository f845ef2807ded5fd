"""The demo community: realistic, complete, sealed in its chain, and idempotent."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest

from api.cli.main import main
from ledger.application import Ledger
from ledger.chain.verify import verify_store
from ledger.domain.vocabulary import CATEGORIES, Scope
from ledger.seal.checkpoint import open_checkpoint
from ledger.seal.community_log import CommunityLog
from ledger.seal.note import parse_vkey
from ledger.store import open_store


def test_demo_covers_the_domain_and_runs_twice_without_storing_twice(
    isolated_store_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    keys = ["--keys-dir", str(tmp_path / "keys")]
    assert main(["demo", "--db", isolated_store_url, *keys]) == 0
    with open_store(isolated_store_url) as store:
        first = verify_store(store, "tianhai")
        with Ledger(store) as whole:
            entries = whole.community("tianhai").entries(limit=5_000)
    assert first.count == len(entries) > 100
    states = [json.loads(e.state) for e in entries]
    drafted = [s for e, s in zip(entries, states, strict=True) if e.topic.endswith("/drafted")]
    assert {s["category"] for s in drafted} == {c.code for c in CATEGORIES}
    assert {s["scope"] for s in drafted} == set(Scope)
    for s in drafted:
        if s["scope"] == "internal":
            assert "内部" in s["title"]
        if s["scope"] == "leadership":
            assert "班子内部" in s["title"]
    topics = {e.topic for e in entries}
    for expected in [
        "gongkai/finance/entry-reversed",
        "gongkai/correction/correction-published",
        "gongkai/correction/objection-dismissed",
        "gongkai/disclosure/withdrawn",
        "gongkai/disclosure/archived",
        "gongkai/disclosure/draft-revised",
    ]:
        assert expected in topics
    stages = {
        s.get("stage") for e, s in zip(entries, states, strict=True) if "reviewed" in e.topic
    }
    assert {"committee", "party_branch", "first", "second", "final"} <= stages
    periods = {
        s["period"] for e, s in zip(entries, states, strict=True) if "entry-recorded" in e.topic
    }
    assert len(periods) >= 6
    amounts = [
        s["amount_fen"]
        for e, s in zip(entries, states, strict=True)
        if "entry-recorded" in e.topic
    ]
    assert all(isinstance(a, int) for a in amounts)
    assert any(a < 0 for a in amounts)  # the red-ink reversal

    capsys.readouterr()
    assert main(["demo", "--db", isolated_store_url, *keys]) == 0
    with open_store(isolated_store_url) as store:
        assert verify_store(store, "tianhai") == first


def test_the_demo_is_sealed_by_its_log_and_its_committee(
    isolated_store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Keys under the keys directory (private ones 0600, vkeys beside them), a signed
    checkpoint over the whole log, and the committee's cosignature on it; a second run
    reuses the keys and signs nothing new."""
    keys = tmp_path / "keys"
    assert main(["demo", "--db", isolated_store_url, "--keys-dir", str(keys)]) == 0
    printed = capsys.readouterr().out
    log_vkey = (keys / "tianhai.log.vkey").read_text().strip()
    member_vkey = (keys / "tianhai.committee.vkey").read_text().strip()
    assert log_vkey in printed
    assert member_vkey in printed
    for private in ("tianhai.log.key", "tianhai.committee.key"):
        assert stat.S_IMODE((keys / private).stat().st_mode) == 0o600
    with open_store(isolated_store_url) as store:
        log = CommunityLog(store, "tianhai")
        checkpoint = log.latest_checkpoint()
        assert checkpoint.tree_size == verify_store(store, "tianhai").count
        signed = open_checkpoint(
            log.cosigned_note(checkpoint), [parse_vkey(log_vkey)], [parse_vkey(member_vkey)]
        )
    assert [c.vkey for c, _ in signed.cosignatures] == [member_vkey]
    assert main(["demo", "--db", isolated_store_url, "--keys-dir", str(keys)]) == 0
    assert (keys / "tianhai.log.vkey").read_text().strip() == log_vkey
    with open_store(isolated_store_url) as store:
        assert len(CommunityLog(store, "tianhai").seal.checkpoints()) == 1


def test_demo_dates_follow_today(isolated_store_url: str) -> None:
    from api.demo.community import create_demo

    store = open_store(isolated_store_url)
    store.init_schema()
    with Ledger(store) as whole:
        summary = create_demo(whole, now=dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC))
        entries = whole.community("tianhai").entries(limit=5_000)
    periods = sorted(json.loads(e.state)["period"] for e in entries if "entry-recorded" in e.topic)
    assert (periods[0], periods[-1]) == ("2025-08", "2026-01")
    assert summary.head.seq == len(entries)
