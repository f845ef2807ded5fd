"""The communities' compliance views and 十个防止 reports kept between street reports: a
street of three communities, made on a clock the test sets (China time); after one
community posts an item and the read models catch up, the street's report is what
computing it afresh gives, not what it was, and the other two communities' results are
the ones kept. Another day, another entry, or a catch-up during the computation never
gets a result kept for something else; readers still see only their scopes' findings;
the least recently used results and the old ones are let go."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import projections.kept_reports
from api.routes.ten_preventions import report
from ledger.application import CommunityLedger, Ledger
from ledger.domain.vocabulary import Role
from ledger.store.backend import Store
from ledger.store.base import Community
from projections.compliance import compliance
from projections.db import ReadDB, open_read_db
from projections.kept_reports import KeptReports
from projections.registry import all_projections
from projections.runner import ProjectionRunner, store_source
from projections.ten_preventions import Prevention, ten_preventions
from projections.visibility import Reader
from tests.unit.test_compliance import Clock, at, clock, obligation, posted

__all__ = ["clock"]  # the fixture, used by name

TODAY = dt.date(2026, 10, 20)


@dataclass
class Street:
    books: list[CommunityLedger]
    db: ReadDB
    runner: ProjectionRunner
    dibao: dict[str, str]  # community -> its monthly 低保 obligation

    @property
    def ids(self) -> list[str]:
        return [book.community.id for book in self.books]

    def catch_up(self) -> None:
        for cid in self.ids:
            self.runner.catch_up(cid)


@pytest.fixture
def street(store: Store, store_url: str, clock: Clock) -> Iterator[Street]:
    """Three communities, each with a public monthly 低保 list (July posted on time,
    August not yet) and a leadership obligation never met."""
    whole = Ledger(store)
    books, dibao = [], {}
    for n in range(3):
        at(clock, "2026-07-01")
        cid = f"k{n}" + uuid.uuid4().hex[:12]
        book = whole.add_community(Community(cid, f"社区{n}"))
        dibao[cid] = obligation(book, title="低保对象", category="social_assistance",
                                cadence="monthly", due_days=10, scope="public")  # fmt: skip
        obligation(book, title="班子分工", category="personnel", cadence="monthly",
                   due_days=10, scope="leadership")  # fmt: skip
        at(clock, "2026-08-08")
        posted(book, dibao[cid], "2026-07", "2026-08-31")
        books.append(book)
    db = open_read_db(store_url)
    runner = ProjectionRunner(db, all_projections(), store_source(store))
    runner.setup()
    found = Street(books, db, runner, dibao)
    found.catch_up()
    yield found
    db.close()
    whole.close()


def post_august(street: Street, clock: Clock, n: int = 0) -> None:
    """Community ``n`` posts its August list, late, and the read models catch up."""
    at(clock, "2026-09-15")
    book = street.books[n]
    posted(book, street.dibao[book.community.id], "2026-08", "2026-09-30")
    street.catch_up()


def kept_street(kept: KeptReports, street: Street) -> list[list[Prevention]]:
    return [kept.ten_preventions(street.db, cid, TODAY) for cid in street.ids]


def fresh_street(street: Street) -> list[list[Prevention]]:
    return [ten_preventions(street.db, cid, TODAY) for cid in street.ids]


def test_after_a_step_only_the_community_that_moved_is_computed_again(
    street: Street, clock: Clock
) -> None:
    kept = KeptReports()
    stale = kept_street(kept, street)
    assert (kept.hits, kept.misses) == (0, 3)
    post_august(street, clock)
    again = kept_street(kept, street)
    assert again == fresh_street(street)
    assert again != stale
    assert again[1:] == stale[1:]
    # The first community computed again; the other two given what was kept.
    assert (kept.hits, kept.misses) == (2, 4)
    assert kept_street(kept, street) == again
    assert (kept.hits, kept.misses) == (5, 4)


def test_the_compliance_view_is_kept_the_same_way(street: Street, clock: Clock) -> None:
    kept = KeptReports()
    stale = [kept.compliance(street.db, cid, TODAY) for cid in street.ids]
    post_august(street, clock, n=2)
    again = [kept.compliance(street.db, cid, TODAY) for cid in street.ids]
    assert again == [compliance(street.db, cid, TODAY) for cid in street.ids]
    assert again[2] != stale[2]
    assert (kept.hits, kept.misses) == (2, 4)


def test_another_day_or_entry_is_not_given_a_result_kept_for_another(
    street: Street, clock: Clock
) -> None:
    kept, cid = KeptReports(), street.ids[0]
    before = street.books[0].head().seq
    post_august(street, clock)
    now = kept.ten_preventions(street.db, cid, TODAY)
    earlier_day = dt.date(2026, 8, 20)
    assert kept.ten_preventions(street.db, cid, earlier_day) == ten_preventions(
        street.db, cid, earlier_day
    )
    then = kept.ten_preventions(street.db, cid, TODAY, as_of=before)
    assert then == ten_preventions(street.db, cid, TODAY, as_of=before)
    assert then != now
    assert (kept.hits, kept.misses) == (0, 3)


def test_readers_see_only_their_scopes_findings_of_what_is_kept(street: Street) -> None:
    kept, cid = KeptReports(), street.ids[0]

    def not_timely(reader: Reader) -> list[str]:
        (found,) = [p for p in report(kept, street.db, reader, cid, TODAY, None)
                    if p.key == "not_timely"]  # fmt: skip
        return [f.title for f in found.findings]

    auditor = not_timely(Reader(Role.DISCIPLINARY_AUDITOR))
    resident = not_timely(Reader(Role.RESIDENT, cid))
    assert "班子分工" in auditor
    assert "班子分工" not in resident
    assert "低保对象" in resident
    assert (kept.hits, kept.misses) == (1, 1)


def test_a_result_read_while_a_catch_up_moved_its_projections_is_not_kept(
    street: Street, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept, cid = KeptReports(), street.ids[0]

    def caught_up_meanwhile(db: ReadDB, community_id: str, *args: Any) -> Any:
        found = ten_preventions(db, community_id, *args)
        post_august(street, clock)
        return found

    monkeypatch.setattr(projections.kept_reports, "ten_preventions", caught_up_meanwhile)
    kept.ten_preventions(street.db, cid, TODAY)
    assert len(kept) == 0
    monkeypatch.undo()
    assert kept.ten_preventions(street.db, cid, TODAY) == ten_preventions(street.db, cid, TODAY)
    assert len(kept) == 1


def test_the_least_recently_used_is_let_go(street: Street) -> None:
    kept = KeptReports(max_entries=2)
    first, second, third = street.ids
    kept.compliance(street.db, first, TODAY)
    kept.compliance(street.db, second, TODAY)
    kept.compliance(street.db, first, TODAY)  # now the second is the least recent
    kept.compliance(street.db, third, TODAY)
    assert len(kept) == 2
    kept.compliance(street.db, first, TODAY)
    assert (kept.hits, kept.misses) == (2, 3)
    kept.compliance(street.db, second, TODAY)
    assert kept.misses == 4


def test_a_result_older_than_max_age_is_computed_again(street: Street) -> None:
    now = [0.0]
    kept, cid = KeptReports(max_age=60, clock=lambda: now[0]), street.ids[0]
    kept.compliance(street.db, cid, TODAY)
    now[0] = 60
    kept.compliance(street.db, cid, TODAY)
    now[0] = 121
    kept.compliance(street.db, cid, TODAY)
    assert (kept.hits, kept.misses) == (1, 2)


def test_a_newer_state_replaces_what_was_kept_for_the_same_question(
    street: Street, clock: Clock
) -> None:
    kept = KeptReports()
    kept_street(kept, street)
    post_august(street, clock)
    kept_street(kept, street)
    assert len(kept) == 3
