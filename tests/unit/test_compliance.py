"""The compliance view of the disclosure calendar against a table written by hand: a
community whose record is made on a clock the test sets (China time), with a monthly,
a long-term and a per-matter obligation; what each owes is met, late, missing or due,
month by month; items past their posting period still posted are expired; a long-term
item withdrawn is withdrawn early; and the view at an earlier entry shows what was late
then."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.domain.clock import HeldClock, held_at
from ledger.store.backend import Store
from projections.calendar import CalendarProjection
from projections.compliance import compliance
from projections.db import ReadDB, open_read_db
from projections.runner import ProjectionRunner, store_source
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, approve, key

CHINA = dt.timezone(dt.timedelta(hours=8))


Clock = HeldClock


@pytest.fixture
def clock() -> Iterator[Clock]:
    """The time every event is stamped with: a China time the test moves on."""
    with held_at(dt.datetime(2026, 7, 1, 9, tzinfo=CHINA)) as held:
        yield held


def at(clock: Clock, day: str) -> None:
    clock.set(dt.datetime.fromisoformat(f"{day}T10:00:00+08:00"))


def obligation(ledger: CommunityLedger, **fields: Any) -> str:
    oid = str(ledger.adopt_obligation(CLERK, key(), **fields).result["id"])
    ledger.approve_obligation(CHAIR, key(), oid, opinion="同意")
    return oid


def posted(
    ledger: CommunityLedger, obligation_id: str, period: str, until: str, **content: Any
) -> str:
    did = str(ledger.draft_disclosure(CLERK, key(), **{**DRAFT, **content}).result["id"])
    ledger.declare_coverage(CLERK, key(), did, obligation_id=obligation_id, period=period)
    ledger.submit_for_review(CLERK, key(), did)
    approve(ledger, did)
    ledger.publish(CLERK, key(), did, channel="board", period_from="2026-07-01",
                   period_until=until)  # fmt: skip
    return did


@dataclass
class Record:
    ledger: CommunityLedger
    db: ReadDB
    ids: dict[str, str]
    before_late: int  # the last entry before the August 低保 was posted


@pytest.fixture
def record(
    ledger: CommunityLedger, store: Store, store_url: str, clock: Clock
) -> Iterator[Record]:
    ids = {
        "dibao": obligation(ledger, title="低保对象", category="social_assistance",
                            cadence="monthly", due_days=10, scope="public"),
        "rules": obligation(ledger, title="政策法规", category="policies",
                            cadence="long_term", due_days=0, scope="public"),
        "matter": obligation(ledger, title="重大事项", category="council_decisions",
                             cadence="per_matter", due_days=5, scope="public"),
    }  # fmt: skip
    at(clock, "2026-07-02")
    ids["rules-item"] = posted(ledger, ids["rules"], "", "2026-07-31", category="policies")
    at(clock, "2026-08-05")
    ids["matter-item"] = posted(ledger, ids["matter"], "2026-08-01", "2026-08-20",
                                category="council_decisions")  # fmt: skip
    at(clock, "2026-08-08")
    ids["july"] = posted(ledger, ids["dibao"], "2026-07", "2026-08-31")
    at(clock, "2026-09-01")
    ledger.withdraw(CLERK, key(), ids["rules-item"], reason="制度修订中")
    before_late = ledger.head().seq
    at(clock, "2026-09-15")
    ids["august"] = posted(ledger, ids["dibao"], "2026-08", "2026-09-30")
    db = open_read_db(store_url)
    runner = ProjectionRunner(db, [CalendarProjection()], store_source(store))
    runner.setup()
    runner.catch_up(ledger.community.id)
    yield Record(ledger, db, ids, before_late)
    db.close()


def table(
    record: Record, today: str, as_of: int | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    names = {v: k for k, v in record.ids.items()}
    found = compliance(record.db, record.ledger.community.id, dt.date.fromisoformat(today), as_of)
    return {
        names[o.obligation_id]: [
            (w.period, w.status, str(w.due_on) if w.due_on else None,
             tuple(names[d] for d in w.expired))
            for w in owed
        ]
        for o, owed in found
    }  # fmt: skip


def test_what_each_obligation_owes_month_by_month(record: Record) -> None:
    assert table(record, "2026-10-20") == {
        "dibao": [
            ("2026-07", "met", "2026-08-10", ("july",)),
            ("2026-08", "late", "2026-09-10", ("august",)),
            ("2026-09", "missing", "2026-10-10", ()),
            ("2026-10", "due", "2026-11-10", ()),
        ],
        "rules": [("", "withdrawn_early", None, ())],
        "matter": [("2026-08-01", "met", "2026-08-06", ("matter-item",))],
    }


def test_an_item_within_its_posting_period_has_not_expired(record: Record) -> None:
    assert table(record, "2026-08-31")["dibao"][0] == ("2026-07", "met", "2026-08-10", ())
    assert table(record, "2026-08-21")["matter"] == [
        ("2026-08-01", "met", "2026-08-06", ("matter-item",))
    ]
    assert table(record, "2026-08-20")["matter"][0][3] == ()


def test_the_view_at_an_earlier_entry_shows_what_was_late_then(record: Record) -> None:
    then = table(record, "2026-09-12", as_of=record.before_late)
    assert then["dibao"] == [
        ("2026-07", "met", "2026-08-10", ("july",)),
        ("2026-08", "missing", "2026-09-10", ()),
        ("2026-09", "due", "2026-10-10", ()),
    ]
    # Before the withdrawal, the long-term item was met.
    assert table(record, "2026-08-31", as_of=record.before_late - 1)["rules"] == [
        ("", "met", None, ())
    ]
