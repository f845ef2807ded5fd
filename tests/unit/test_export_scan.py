"""The export's first pass: one read of the chain finds the range, the attachments its
entries name and the board at its end, and gives what the plain definitions give."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import api.cli.export
from api.cli.export import CHINA_TIME, DateRange, SortedDigests, _scan, recorded_day
from ledger.store.base import RawRow
from projections.board import fold_board

DAY0 = dt.date(2026, 7, 1)
KINDS = ["drafted", "submitted-for-review", "published", "corrected", "withdrawn"]


def digest(n: int) -> str:
    return hashlib.sha256(n.to_bytes(4, "big")).hexdigest()


def make_rows(days: list[int], seed: int) -> list[RawRow]:
    """One row per day offset: finance entries with a voucher, disclosure events and
    drafts with attachments, timestamped like eventsourcing's stored states."""
    rng = random.Random(seed)
    oids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(2)]
    rows: list[RawRow] = []
    drafted: set[uuid.UUID] = set()
    for seq, offset in enumerate(days, start=1):
        when = dt.datetime.combine(DAY0 + dt.timedelta(days=offset), dt.time(9), CHINA_TIME)
        state: dict[str, Any] = {
            "timestamp": {"_type_": "datetime_iso", "_data_": when.isoformat()}
        }
        oid = rng.choice(oids)
        kind = rng.choice(["finance", *KINDS[1:]]) if oid in drafted else "drafted"
        drafted.add(oid)
        if kind == "finance":
            topic = "gongkai/finance/entry-recorded"
            state["voucher_sha256"] = digest(rng.randrange(30))
        else:
            topic = f"gongkai/disclosure/{kind}"
            state.update(title=f"t{seq}", category="finance", scope="public")
            state["attachments"] = [digest(rng.randrange(30)) for _ in range(rng.randrange(3))]
        data = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()
        rows.append((seq, b"", b"", oid.bytes, 1, topic.encode(), data))
    return rows


class FakeSeal:
    def __init__(self, rows: list[RawRow]) -> None:
        self.rows = rows

    def chain_rows(self, after: int, limit: int) -> list[RawRow]:
        return self.rows[after : after + limit]


class FakeLog:
    community_id = "tianhai"

    def __init__(self, rows: list[RawRow]) -> None:
        self.seal = FakeSeal(rows)


class FakeStore:
    def __init__(self, rows: list[RawRow]) -> None:
        self.rows = rows

    def chain_rows(self, community_id: str) -> Iterator[RawRow]:
        yield from self.rows


def expected(rows: list[RawRow], size: int, dates: DateRange) -> tuple[int, int, list[str]]:
    """The plain definitions: the first and last entry recorded in the range, and the
    attachments named by the entries between them."""
    inside = [r[0] for r in rows[:size] if (d := recorded_day(r[6])) is not None and d in dates]
    if not inside:
        return 0, 0, []
    first, last = inside[0], inside[-1]
    named: set[str] = set()
    for row in rows[first - 1 : last]:
        state = json.loads(row[6])
        named.update(state.get("attachments", []))
        if "voucher_sha256" in state:
            named.add(state["voucher_sha256"])
    return first, last, sorted(named)


@settings(max_examples=300, deadline=None)
@given(
    days=st.lists(st.integers(0, 9), min_size=1, max_size=40),
    low=st.integers(0, 9),
    span=st.integers(0, 9),
    hold=st.sampled_from([0, 1, 3, 20_000]),
    seed=st.integers(0, 1000),
    cut=st.integers(0, 5),
)
def test_the_scan_finds_what_the_definitions_give(
    days: list[int], low: int, span: int, hold: int, seed: int, cut: int
) -> None:
    """Days need not rise with seq (clocks of concurrent writers), and a small hold
    limit sends the board through its second read."""
    rows = make_rows(days, seed)
    size = max(1, len(rows) - cut)
    dates = DateRange(DAY0 + dt.timedelta(days=low), DAY0 + dt.timedelta(days=low + span), None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.cli.export, "HOLD_LIMIT", hold)
        found = _scan(FakeStore(rows), FakeLog(rows), size, dates)  # type: ignore[arg-type]
    first, last, named = expected(rows, size, dates)
    assert (found.first, found.last) == (first, last)
    assert list(found.referenced.sorted_hex()) == named
    if first:
        assert found.board.items() == fold_board(rows[:last])


def test_sorted_digests_sort_dedupe_and_drop_what_was_not_kept() -> None:
    digests = SortedDigests()
    values = [hashlib.sha256(bytes([i % 7, i])).digest() for i in range(50)]
    for value in values + values[:10]:
        digests.add(value)
    digests.keep()
    late = hashlib.sha256(b"after the range").digest()
    digests.add(late)
    assert list(digests.sorted_hex()) == sorted({v.hex() for v in values})
    with pytest.raises(ValueError, match="32 bytes"):
        digests.add(b"short")
