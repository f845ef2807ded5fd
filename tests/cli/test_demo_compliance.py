"""The demo's six months against a table written by hand: the demo made on
2026-12-07 at 18:00 China time tells June to November 2026 and the first days of
December, each act stamped when it happens in its story. Which periods of its
calendar were met, late or missing, month by month; the 低保 list left up past its
posting period (expired, never archived); the first 公开制度, long-term, taken down
early; and the view at an earlier time shows what was late then."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from api.demo.community import create_demo
from ledger.application import Ledger
from ledger.store import open_store
from ledger.store.backend import Store
from projections.clock import seq_at
from projections.compliance import compliance
from projections.db import ReadDB, open_read_db
from projections.registry import all_projections
from projections.runner import ProjectionRunner, store_source
from projections.ten_preventions import ten_preventions

CHINA = dt.timezone(dt.timedelta(hours=8))
MADE = dt.datetime(2026, 12, 7, 18, tzinfo=CHINA)

Row = tuple[str, str, str | None, int]  # period, status, posted on, expired items

# What the demo's story is, in the terms of its calendar (api/demo/script.py): the
# statement of 2026-08 posted on 09-13, past the 10th; the 低保 list of 2026-07 posted
# on 08-15, that of 2026-09 never; the June list left up after its 20 days.
EXPECTED: dict[str, list[Row]] = {
    "每月财务收支明细": [
        ("2026-06", "met", "2026-07-05", 0),
        ("2026-07", "met", "2026-08-05", 0),
        ("2026-08", "late", "2026-09-13", 0),
        ("2026-09", "met", "2026-10-05", 0),
        ("2026-10", "met", "2026-11-05", 0),
        ("2026-11", "met", "2026-12-05", 0),
        ("2026-12", "due", None, 0),
    ],
    "低保及救济救助对象": [
        ("2026-06", "met", "2026-07-06", 1),
        ("2026-07", "late", "2026-08-15", 0),
        ("2026-08", "met", "2026-09-06", 0),
        ("2026-09", "missing", None, 0),
        ("2026-10", "met", "2026-11-06", 0),
        ("2026-11", "met", "2026-12-01", 0),
        ("2026-12", "due", None, 0),
    ],
    "工作计划及任务落实情况": [
        ("2026Q2", "met", "2026-07-08", 0),
        ("2026Q3", "met", "2026-10-08", 0),
        ("2026Q4", "met", "2026-12-01", 0),
    ],
    "年度目标及执行情况": [("2026", "met", "2026-12-01", 0)],
    "重大事项（一事一公开）": [],
    "居民会议决定的热点事项（事前公开）": [("2026-12-17", "met", "2026-12-01", 0)],
    # The first 公开制度 went up on 06-01 and came down on 09-27; its successor is up.
    "政策法规及规章制度": [("", "withdrawn_early", "2026-06-01", 0)],
}

# On 2026-09-12 at noon: the August statement was due on the 10th and not yet posted
# (it went up the next day but one); the July list was already late; the June list
# had passed its 20 days (07-06 to 07-25) and was still up.
EXPECTED_SEPTEMBER_12: dict[str, list[Row]] = {
    "每月财务收支明细": [
        ("2026-06", "met", "2026-07-05", 0),
        ("2026-07", "met", "2026-08-05", 0),
        ("2026-08", "missing", None, 0),
        ("2026-09", "due", None, 0),
    ],
    "低保及救济救助对象": [
        ("2026-06", "met", "2026-07-06", 1),
        ("2026-07", "late", "2026-08-15", 0),
        ("2026-08", "met", "2026-09-06", 0),
        ("2026-09", "due", None, 0),
    ],
    "工作计划及任务落实情况": [("2026Q2", "met", "2026-07-08", 0), ("2026Q3", "due", None, 0)],
    "年度目标及执行情况": [("2026", "due", None, 0)],
    "重大事项（一事一公开）": [],
    "居民会议决定的热点事项（事前公开）": [],
    # Still up then: it came down on 09-27.
    "政策法规及规章制度": [("", "met", "2026-06-01", 0)],
}


@pytest.fixture
def made(isolated_store_url: str) -> Iterator[tuple[str, ReadDB]]:
    store = open_store(isolated_store_url)
    store.init_schema()
    # The ledger closes its store on leaving; the read models catch up before that.
    with Ledger(store) as whole:
        create_demo(whole, now=MADE)
        db = caught_up(store, isolated_store_url)
    try:
        yield isolated_store_url, db
    finally:
        db.close()


def caught_up(store: Store, url: str) -> ReadDB:
    """The read models of the demo, brought up to its chain."""
    db = open_read_db(url)
    runner = ProjectionRunner(db, all_projections(), store_source(store))
    runner.setup()
    runner.catch_up("tianhai")
    return db


def table(db: ReadDB, today: dt.date, as_of: int | None = None) -> dict[str, list[Row]]:
    return {
        str(obligation.value("title")): [
            (
                w.period,
                w.status,
                w.posted_on.isoformat() if w.posted_on else None,
                len(w.expired),
            )
            for w in owed
        ]
        for obligation, owed in compliance(db, "tianhai", today, as_of)
    }


def test_the_demos_six_months_month_by_month(made: tuple[str, ReadDB]) -> None:
    _, db = made
    assert table(db, MADE.date()) == EXPECTED


def test_the_report_at_an_earlier_time_shows_what_was_late_then(
    made: tuple[str, ReadDB],
) -> None:
    _, db = made
    then = dt.datetime(2026, 9, 12, 12, tzinfo=CHINA)
    as_of = seq_at(db, "tianhai", then)
    assert table(db, then.date(), as_of) == EXPECTED_SEPTEMBER_12
    # The same entry judged today: August's statement is still missing, not late,
    # since the record of then holds no posting of it.
    assert table(db, MADE.date(), as_of)["每月财务收支明细"][2] == ("2026-08", "missing", None, 0)


def test_the_ten_preventions_name_the_demos_failures(made: tuple[str, ReadDB]) -> None:
    _, db = made
    found = {p.key: p for p in ten_preventions(db, "tianhai", MADE.date())}
    late = [(f.period, f.title) for f in found["not_timely"].findings]
    assert late == [
        ("2026-08", "每月财务收支明细"),
        ("2026-07", "低保及救济救助对象"),
        ("2026-09", "低保及救济救助对象"),
    ]
    assert [f.title for f in found["archive_incomplete"].findings] == [
        "2026年6月城市最低生活保障金发放公示"
    ]
    assert [f.title for f in found["not_kept_up"].findings] == ["政策法规及规章制度"]
    assert len(found["not_true"].findings) == 1  # the 低保 objection, verified


def test_the_chain_is_stamped_in_story_order_and_never_after_it_was_made(
    made: tuple[str, ReadDB],
) -> None:
    url, _ = made
    with open_store(url) as store, Ledger(store) as whole:
        entries = whole.community("tianhai").entries(limit=10_000)
    stamps = [
        dt.datetime.fromisoformat(json.loads(e.state)["timestamp"]["_data_"]) for e in entries
    ]
    assert stamps == sorted(stamps)
    assert stamps[0] == dt.datetime(2026, 6, 1, 8, tzinfo=CHINA)
    assert stamps[-1] <= MADE
    assert stamps[-1] >= dt.datetime(2026, 12, 5, tzinfo=CHINA)  # the story's last day


def test_the_demo_made_before_its_months_postings_are_done_is_never_ahead(
    isolated_store_url: str,
) -> None:
    """Made on the 2nd at 08:00, the first days of the month are played faster: every
    act before the moment it was made, in the story's order, and the month's statement
    and list still posted by their due date."""
    early = dt.datetime(2026, 12, 2, 8, tzinfo=CHINA)
    store = open_store(isolated_store_url)
    store.init_schema()
    with Ledger(store) as whole:
        create_demo(whole, now=early)
        entries = whole.community("tianhai").entries(limit=10_000)
        db = caught_up(store, isolated_store_url)
    stamps = [
        dt.datetime.fromisoformat(json.loads(e.state)["timestamp"]["_data_"]) for e in entries
    ]
    assert stamps == sorted(stamps)
    assert stamps[-1] <= early
    try:
        got = table(db, early.date())
    finally:
        db.close()
    assert got["每月财务收支明细"][5][:2] == ("2026-11", "met")
    assert got["低保及救济救助对象"][5][:2] == ("2026-11", "met")
    assert got["每月财务收支明细"][:5] == EXPECTED["每月财务收支明细"][:5]
