"""The ledger's clock: the record as it stood at a time is the longest run of entries from
the start all recorded by then, on both backends, however the times along the chain
are ordered, in any batches."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInputError
from ledger.store.base import RawRow
from projections.clock import ClockProjection, clock_text, seq_at
from projections.db import ReadDB, open_read_db
from projections.runner import ProjectionRunner
from tests.projection_rows import Source, catch_up, check_runs_agree, record_story

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
CHINA = timezone(timedelta(hours=8))


@pytest.fixture
def read_db(isolated_store_url: str) -> Iterator[ReadDB]:
    db = open_read_db(isolated_store_url)
    yield db
    db.close()


def timed_row(seq: int, stamp: Any) -> RawRow:
    state = json.dumps({"timestamp": {"_type_": "datetime_iso", "_data_": stamp}}).encode()
    oid = uuid.UUID(int=seq).bytes
    return (seq, b"", b"", oid, 1, b"gongkai/disclosure/archived", state)


def timed_rows(offsets: Sequence[int]) -> list[RawRow]:
    """Rows stamped ``START`` plus each offset in seconds, in chain order."""
    return [
        timed_row(seq, (START + timedelta(seconds=s)).isoformat())
        for seq, s in enumerate(offsets, 1)
    ]


def expected_seq(offsets: Sequence[Any], at: Any) -> int:
    """The naive definition: the longest prefix whose entries were all stamped by ``at``."""
    k = 0
    while k < len(offsets) and offsets[k] <= at:
        k += 1
    return k


def test_a_real_ledger_is_found_entry_by_entry(isolated_store_url: str, read_db: ReadDB) -> None:
    story = record_story(isolated_store_url, "tianhai")
    catch_up(read_db, ClockProjection(), "tianhai", story.rows)
    times = [datetime.fromisoformat(json.loads(r[6])["timestamp"]["_data_"]) for r in story.rows]
    # Even one writer stamps a reversal's two events in the other order from the chain's.
    assert times != sorted(times)
    for when in times:
        expected = expected_seq(times, when)
        assert seq_at(read_db, "tianhai", when) == expected
        assert seq_at(read_db, "tianhai", when.astimezone(CHINA)) == expected, "any zone"
        just_before = when - timedelta(microseconds=1)
        assert seq_at(read_db, "tianhai", just_before) == expected_seq(times, just_before)
    assert seq_at(read_db, "tianhai", times[0] - timedelta(microseconds=1)) == 0
    assert seq_at(read_db, "tianhai", max(times) + timedelta(days=3650)) == len(times)
    first = times[0]
    assert seq_at(read_db, "xinhe", first + timedelta(days=1)) == 0, "communities apart"


def test_an_entry_stamped_out_of_order_waits_for_those_before_it(read_db: ReadDB) -> None:
    # Entry 2 was stamped at +3 s, entry 3 at +2 s (two commands at once, chained the
    # other way): at +2 s the record held entry 1 only.
    catch_up(read_db, ClockProjection(), "tianhai", timed_rows([1, 3, 2, 4]))
    answers = [seq_at(read_db, "tianhai", START + timedelta(seconds=s)) for s in range(6)]
    assert answers == [0, 1, 1, 3, 4, 4]


def test_an_unreadable_stamp_keeps_the_time_before_it(read_db: ReadDB) -> None:
    rows = timed_rows([1, 2, 3])
    rows[1] = timed_row(2, "not a time")
    rows.append(timed_row(4, "2026-07-01T08:00:09"))  # no zone: not a time either
    catch_up(read_db, ClockProjection(), "tianhai", rows)
    answers = [seq_at(read_db, "tianhai", START + timedelta(seconds=s)) for s in range(5)]
    assert answers == [0, 2, 2, 4, 4]


def test_a_time_without_a_zone_is_refused(read_db: ReadDB) -> None:
    with pytest.raises(InvalidInputError, match="zone"):
        seq_at(read_db, "tianhai", datetime(2026, 7, 1, 8, 0))


@pytest.mark.parametrize(
    ("stamp", "text"),
    [
        ("2026-07-01T08:00:00.123456+00:00", "2026-07-01T08:00:00.123456+00:00"),
        ("2026-07-01T08:00:00+00:00", "2026-07-01T08:00:00.000000+00:00"),
        ("2026-07-01T16:00:00.5+08:00", "2026-07-01T08:00:00.500000+00:00"),
        ("2026-07-01T08:00:00Z", "2026-07-01T08:00:00.000000+00:00"),
        ("2026-13-01T08:00:00.123456+00:00", None),
        ("2026-07-01T08:00:00.123456", None),
        ("", None),
    ],
)
def test_clock_text_is_fixed_width_utc(stamp: str, text: str | None) -> None:
    assert clock_text(stamp) == text


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offsets=st.lists(st.integers(0, 30), max_size=25),
    cuts=st.lists(st.integers(1, 25), max_size=3),
    batch=st.integers(1, 6),
    asked=st.lists(st.integers(-1, 32), min_size=1, max_size=6),
)
def test_any_order_of_stamps_in_any_batches(
    read_db: ReadDB, offsets: list[int], cuts: list[int], batch: int, asked: list[int]
) -> None:
    community = "c" + uuid.uuid4().hex[:8]
    rows = timed_rows(offsets)

    def snapshot(db: ReadDB, community_id: str, as_of: int | None = None) -> list[int]:
        # What the clock answers for each asked time, limited to the entries caught up.
        return [
            min(
                seq_at(db, community_id, START + timedelta(seconds=s)),
                len(rows) if as_of is None else as_of,
            )
            for s in asked
        ]

    check_runs_agree(read_db, ClockProjection(), rows, community, cuts, batch, snapshot)
    runner = ProjectionRunner(read_db, [ClockProjection()], Source(rows), batch)
    assert runner.position("clock", community) == len(rows)
    assert [seq_at(read_db, community, START + timedelta(seconds=s)) for s in asked] == [
        expected_seq(offsets, s) for s in asked
    ]


@pytest.mark.parametrize(
    "when",
    [
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_a_time_shifted_past_the_calendars_ends_is_refused(
    read_db: ReadDB, when: datetime
) -> None:
    with pytest.raises(InvalidInputError, match="out of range"):
        seq_at(read_db, "tianhai", when)


def test_early_years_compare_as_times_do(read_db: ReadDB) -> None:
    catch_up(read_db, ClockProjection(), "tianhai", [timed_row(1, "0999-01-01T00:00:00+00:00")])
    assert seq_at(read_db, "tianhai", datetime(998, 12, 31, tzinfo=UTC)) == 0
    assert seq_at(read_db, "tianhai", datetime(999, 1, 1, tzinfo=UTC)) == 1
    assert seq_at(read_db, "tianhai", datetime(1000, 1, 1, tzinfo=UTC)) == 1
