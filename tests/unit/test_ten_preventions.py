"""The 十个防止 report against a table written by hand: a community whose record, made on
a clock the test sets (China time), has each failure the record can show once and, beside
it, the same act done right, which must not be listed; the three failures the record
cannot show are said to be not computable and list nothing; the report at an earlier
entry shows what had failed then."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.domain.vocabulary import CATEGORIES
from ledger.store.backend import Store
from projections.db import ReadDB, open_read_db
from projections.registry import all_projections
from projections.runner import ProjectionRunner, store_source
from projections.ten_preventions import ten_preventions
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, PARTY, RESIDENT, approve, key
from tests.unit.test_compliance import Clock, at, clock, obligation, posted

__all__ = ["clock"]  # the fixture, used by name


@dataclass
class Record:
    ledger: CommunityLedger
    db: ReadDB
    ids: dict[str, str]
    before_objection: int  # the last entry before the objection was verified


def plain(ledger: CommunityLedger, until: str, **posting: str) -> str:
    """A public item of no obligation, posted from 2026-08-05."""
    did = str(ledger.draft_disclosure(CLERK, key(), **DRAFT).result["id"])
    ledger.submit_for_review(CLERK, key(), did)
    approve(ledger, did)
    ledger.publish(CLERK, key(), did, channel="board", period_from="2026-08-05",
                   period_until=until, **posting)  # fmt: skip
    return did


@pytest.fixture
def record(
    ledger: CommunityLedger, store: Store, store_url: str, clock: Clock
) -> Iterator[Record]:
    ids = {
        "dibao": obligation(ledger, title="低保对象", category="social_assistance",
                            cadence="monthly", due_days=10, scope="public"),
        "rules": obligation(ledger, title="政策法规", category="policies",
                            cadence="long_term", due_days=0, scope="public"),
        "meeting": obligation(ledger, title="居民代表会议", category="resident_meetings",
                              cadence="before_the_fact", due_days=3, scope="public"),
    }  # fmt: skip
    ids["unapproved"] = str(
        ledger.adopt_obligation(CLERK, key(), title="人事变动", category="personnel",
                                cadence="per_matter", due_days=5,
                                scope="public").result["id"]
    )  # fmt: skip
    at(clock, "2026-07-02")
    ids["rules-item"] = posted(ledger, ids["rules"], "", "2026-07-31", category="policies")
    at(clock, "2026-08-05")
    # Posted 10 days before its meeting (due 3 days before): before the fact.
    ids["notice-ok"] = posted(ledger, ids["meeting"], "2026-08-15", "2026-08-15",
                              category="resident_meetings")  # fmt: skip
    # The posting period ends the day it is posted: no day for residents to respond.
    ids["one-day"] = plain(ledger, "2026-08-05")
    ids["taken-down"] = plain(ledger, "2026-08-20")
    ledger.withdraw(CLERK, key(), ids["taken-down"], reason="发布有误")
    ids["heard"] = plain(ledger, "2026-08-31")
    ids["archived"] = plain(ledger, "2026-08-31")
    ids["objected"] = plain(ledger, "2026-08-31")
    ids["dismissed"] = plain(ledger, "2026-08-31")
    at(clock, "2026-08-06")
    for item in ("heard", "archived"):
        left = ledger.leave_opinion(RESIDENT, key(), ids[item], resident="刘*华",
                                    text="请说明", text_public=True)  # fmt: skip
        if item == "archived":
            ledger.answer_opinion(CLERK, key(), ids[item], str(left.result["opinion_id"]),
                                  answer="已说明")  # fmt: skip
    objections = {}
    for item in ("objected", "dismissed"):
        raised = ledger.raise_objection(
            RESIDENT,
            key(),
            ids[item],
            disclosure_version=1,
            objector="刘*华",
            form="written",
            content="数字不对",
        )
        objections[item] = str(raised.result["id"])  # fmt: skip
    at(clock, "2026-08-08")
    ids["july"] = posted(ledger, ids["dibao"], "2026-07", "2026-08-31")
    at(clock, "2026-08-22")
    # Posted two days after its meeting: after the fact.
    ids["notice-late"] = posted(ledger, ids["meeting"], "2026-08-20", "2026-08-31",
                                category="resident_meetings")  # fmt: skip
    at(clock, "2026-09-01")
    ledger.withdraw(CLERK, key(), ids["rules-item"], reason="制度修订中")
    ledger.archive(CLERK, key(), ids["archived"])
    ledger.dismiss_objection(CHAIR, key(), objections["dismissed"], reason="数字无误")
    before = ledger.head().seq
    ledger.verify_objection(PARTY, key(), objections["objected"], finding="金额有误，属实")
    at(clock, "2026-09-15")
    ids["august"] = posted(ledger, ids["dibao"], "2026-08", "2026-09-30")
    db = open_read_db(store_url)
    runner = ProjectionRunner(db, all_projections(), store_source(store))
    runner.setup()
    runner.catch_up(ledger.community.id)
    yield Record(ledger, db, ids, before)
    db.close()


def table(record: Record, today: str, as_of: int | None = None) -> dict[str, Any]:
    """Each of the ten: None if not computable, else its findings as (item or
    obligation named by the test, period, detail)."""
    names = {v: k for k, v in record.ids.items()}
    day = dt.date.fromisoformat(today)
    found: dict[str, Any] = {}
    for p in ten_preventions(record.db, record.ledger.community.id, day, as_of):
        if not p.computable:
            assert p.findings == ()
            found[p.key] = None
            continue
        found[p.key] = [
            (names.get(f.obligation_id or f.disclosure_id, f.disclosure_id), f.period, f.detail)
            for f in p.findings
        ]
    return found


def test_each_failure_with_the_items_behind_it(record: Record) -> None:
    found = table(record, "2026-10-20")
    rules = found.pop("rules_incomplete")
    assert found == {
        "not_specific": None,
        "not_true": [("objected", "", "异议经核实属实：金额有误，属实")],
        "key_points": None,
        "form": None,
        "archive_incomplete": [
            ("notice-ok", "", "公开期已于 2026-08-15 届满，仍未归档"),
            ("one-day", "", "公开期已于 2026-08-05 届满，仍未归档"),
            ("heard", "", "公开期已于 2026-08-31 届满，仍未归档"),
            ("objected", "", "公开期已于 2026-08-31 届满，仍未归档"),
            ("dismissed", "", "公开期已于 2026-08-31 届满，仍未归档"),
            ("july", "", "公开期已于 2026-08-31 届满，仍未归档"),
            ("notice-late", "", "公开期已于 2026-08-31 届满，仍未归档"),
            ("august", "", "公开期已于 2026-09-30 届满，仍未归档"),
        ],
        "after_the_fact": [
            (
                "meeting",
                "2026-08-20",
                "事项日期 2026-08-20，应于 2026-08-17 前公开，2026-08-22 才公开",
            ),
        ],
        "no_feedback": [
            ("one-day", "", "2026-08-05 公开，公开期至 2026-08-05"),
            ("taken-down", "", "2026-08-05 公开，当天即撤回"),
            ("heard", "", "1 条居民意见在公开期满后仍未答复"),
        ],
        "not_timely": [
            ("dibao", "2026-08", "应于 2026-09-10 前公开，2026-09-15 才公开"),
            ("dibao", "2026-09", "应于 2026-10-10 前公开，至今未公开"),
        ],
        "not_kept_up": [("rules", "", "长期公开的事项已被撤下")],
    }
    in_force = {"social_assistance", "policies", "resident_meetings"}
    missing = [
        f"公开目录中没有「{c.name}」的生效时限" for c in CATEGORIES if c.code not in in_force
    ]
    assert [d for _, _, d in rules][: len(missing)] == missing
    assert rules[len(missing) :] == [
        ("unapproved", "", "时限已于 2026-07-01 拟定，尚未经监督委员会审核")
    ]


def test_an_answered_opinion_and_a_dismissed_objection_are_not_failures(record: Record) -> None:
    found = table(record, "2026-10-20")
    assert not any(name == "archived" for name, _, _ in found["no_feedback"])
    assert not any(name == "dismissed" for name, _, _ in found["not_true"])


def test_within_its_posting_period_nothing_is_owed_an_archive(record: Record) -> None:
    found = table(record, "2026-08-31")
    assert [n for n, _, _ in found["archive_incomplete"]] == ["notice-ok", "one-day"]
    # An opinion waiting while its item is still posted is not yet a failure.
    assert [n for n, _, _ in found["no_feedback"]] == ["one-day", "taken-down"]


def test_the_report_at_an_earlier_entry_shows_what_had_failed_then(record: Record) -> None:
    then = table(record, "2026-09-12", as_of=record.before_objection)
    assert then["not_true"] == []
    assert then["not_timely"] == [("dibao", "2026-08", "应于 2026-09-10 前公开，至今未公开")]
    # The withdrawal of the long-term item was before: it shows.
    assert then["not_kept_up"] == [("rules", "", "长期公开的事项已被撤下")]
