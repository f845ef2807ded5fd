"""The inquiries read model: each inquiry with its deadline and what became of it, its
status on any day, as it stood after any entry, rebuilt to the same rows; and the
service's escalation of what it finds due, once however many processes look. On SQLite
and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from api.service.escalation import escalate_due
from ledger.application import Ledger
from ledger.application.community import SYSTEM
from ledger.domain.base import Actor
from ledger.domain.vocabulary import Role
from ledger.store import open_store
from ledger.store.base import Community, RawRow
from projections.db import ReadDB, open_read_db
from projections.inquiries import InquiriesProjection, inquiries, inquiry
from projections.runner import ProjectionRunner, store_source
from tests.projection_rows import CHAIR, CLERK, catch_up, check_runs_agree, key

REPRESENTATIVE = Actor("周*兰", Role.RESIDENT_REPRESENTATIVE)
CHINA = dt.timezone(dt.timedelta(hours=8))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CHINA)


@dataclass(frozen=True)
class Told:
    rows: list[RawRow]
    answered: str  # answered on time
    unanswered: str  # never answered
    disputed: str  # answered, marked unsatisfactory
    closed: str  # escalated and closed by a meeting


@pytest.fixture
def read_db(isolated_store_url: str) -> Iterator[ReadDB]:
    db = open_read_db(isolated_store_url)
    yield db
    db.close()


@pytest.fixture
def told(isolated_store_url: str) -> Told:
    store = open_store(isolated_store_url)
    store.init_schema(service_role=None)
    whole = Ledger(store)
    try:
        book = whole.add_community(Community("tianhai", "天海社区"))

        def file(question: str) -> str:
            done = book.file_inquiry(
                REPRESENTATIVE, key(), question=question, now=at("2026-12-07 09:00")
            )
            return str(done.result["id"])

        answered, unanswered, disputed, closed = (
            file(q) for q in ("问一", "问二", "问三", "问四")
        )
        book.answer_inquiry(CLERK, key(), answered, answer="答一", now=at("2026-12-10 17:00"))
        book.answer_inquiry(CLERK, key(), disputed, answer="答三", now=at("2026-12-08 10:00"))
        book.mark_unsatisfactory(REPRESENTATIVE, key(), disputed, reason="未答到点子上")
        book.escalate_inquiry(SYSTEM, closed, now=at("2026-12-11 09:00"))
        book.record_meeting(
            CHAIR,
            key(),
            closed,
            meeting="two_committees",
            held_on="2026-12-14",
            present=["王建国", "李娜"],
            conclusion="限期答复",
        )
        rows = list(store.seal("tianhai").chain_rows(0, 10_000))
    finally:
        whole.close()
        store.close()
    return Told(rows, answered, unanswered, disputed, closed)


def test_each_inquiry_with_its_deadline_and_status(read_db: ReadDB, told: Told) -> None:
    catch_up(read_db, InquiriesProjection(), "tianhai", told.rows)
    found = {v.inquiry_id: v for v in inquiries(read_db, "tianhai")}
    assert set(found) == {told.answered, told.unanswered, told.disputed, told.closed}
    first = found[told.answered]
    assert (first.text("question"), first.text("filed_on"), first.text("due_on")) == (
        "问一",
        "2026-12-07",
        "2026-12-10",
    )
    assert first.text("calendar").startswith("chinesecalendar ")
    assert first.answered is not None
    assert first.answered.fields["answer"] == "答一"
    statuses = {
        day: {name: found[i].status(dt.date.fromisoformat(day)) for name, i in (
            ("answered", told.answered),
            ("unanswered", told.unanswered),
            ("disputed", told.disputed),
            ("closed", told.closed),
        )}
        for day in ("2026-12-10", "2026-12-11")
    }  # fmt: skip
    assert statuses["2026-12-10"] == {
        "answered": "answered",
        "unanswered": "open",
        "disputed": "answered",
        "closed": "closed",
    }
    assert statuses["2026-12-11"]["unanswered"] == "overdue"
    meeting = found[told.closed].meeting
    assert meeting is not None
    assert meeting.fields["present"] == ["王建国", "李娜"]
    due = {i for i, v in found.items() if v.due_for_escalation(dt.date(2026, 12, 11))}
    assert due == {told.unanswered, told.disputed}
    assert inquiry(read_db, "tianhai", told.closed) == found[told.closed]
    assert inquiries(read_db, "elsewhere") == []


def test_runs_in_steps_agree_and_a_rebuild_keeps_the_rows(read_db: ReadDB, told: Told) -> None:
    def snapshot(db: ReadDB, community: str, as_of: int | None = None) -> object:
        return [(v.inquiry_id, v.status(dt.date(2026, 12, 11)), v.last_seq)
                for v in inquiries(db, community, as_of)]  # fmt: skip

    n = len(told.rows)
    check_runs_agree(
        read_db, InquiriesProjection(), told.rows, "tianhai", [2, 5, n - 1], 2, snapshot
    )


def test_the_service_escalates_what_is_due_once_however_many_look(
    isolated_store_url: str, read_db: ReadDB
) -> None:
    store, other = open_store(isolated_store_url), open_store(isolated_store_url)
    store.init_schema(service_role=None)
    ledgers = [Ledger(store), Ledger(other)]  # two processes of the service
    try:
        book = ledgers[0].add_community(Community("tianhai", "天海社区"))
        ids = [
            str(
                book.file_inquiry(
                    REPRESENTATIVE, key(), question=f"问{n}", now=at("2026-12-07 09:00")
                ).result["id"]
            )
            for n in range(4)
        ]
        book.answer_inquiry(CLERK, key(), ids[0], answer="按时答复", now=at("2026-12-09 09:00"))
        runner = ProjectionRunner(read_db, [InquiriesProjection()], store_source(store))
        runner.setup()
        runner.catch_up("tianhai")
        assert escalate_due(ledgers[0], read_db, "tianhai", at("2026-12-10 23:59")) == []
        found: list[list[str]] = []
        barrier = threading.Barrier(2)

        def look(ledger: Ledger) -> None:
            barrier.wait()
            found.append(escalate_due(ledger, read_db, "tianhai", at("2026-12-11 08:00")))

        threads = [threading.Thread(target=look, args=(ledger,)) for ledger in ledgers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Each due inquiry escalated by exactly one of the two.
        assert sorted(i for each in found for i in each) == sorted(ids[1:])
        runner.catch_up("tianhai")
        statuses = {
            v.inquiry_id: v.status(dt.date(2026, 12, 11)) for v in inquiries(read_db, "tianhai")
        }
        assert statuses == {ids[0]: "answered", **dict.fromkeys(ids[1:], "escalated")}
        assert escalate_due(ledgers[1], read_db, "tianhai", at("2026-12-20 08:00")) == []
        topics = [r[5] for r in store.seal("tianhai").chain_rows(0, 1_000)]
        assert topics.count(b"gongkai/inquiry/escalated") == 3
    finally:
        for ledger in ledgers:
            ledger.close()
        store.close()
        other.close()
