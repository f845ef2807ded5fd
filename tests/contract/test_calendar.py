"""The disclosure calendar (公开目录与时限) on SQLite and PostgreSQL alike: obligations
adopted by the clerk, in force once the committee approves them, retired with a reason;
the due rule checked against its cadence; and the calendar read model folding the acts,
as it stood after any entry."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.domain.base import Actor
from ledger.domain.disclosure import Disclosure
from ledger.domain.obligation import Obligation, ObligationStatus
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidInputError, InvalidTransitionError, PermissionDeniedError
from ledger.store.backend import Store
from projections.calendar import CalendarProjection, calendar
from projections.db import open_read_db
from projections.runner import ProjectionRunner, store_source
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, RESIDENT, key

MEMBER = Actor("陈红梅", Role.COMMITTEE_MEMBER)
FINANCE: dict[str, Any] = {
    "title": "每月财务收支明细",
    "category": "income_expense",
    "cadence": "monthly",
    "due_days": 10,
    "scope": "internal",
    "basis": "财务收支情况每月公开 [000]",
}


def adopt(ledger: CommunityLedger, **fields: Any) -> str:
    return str(ledger.adopt_obligation(CLERK, key(), **{**FINANCE, **fields}).result["id"])


def test_adopted_approved_and_retired(ledger: CommunityLedger) -> None:
    oid = adopt(ledger)
    assert ledger.get(Obligation, oid, "obligation").status is ObligationStatus.ADOPTED
    ledger.approve_obligation(MEMBER, key(), oid, opinion="同意")
    assert ledger.get(Obligation, oid, "obligation").status is ObligationStatus.IN_FORCE
    with pytest.raises(InvalidTransitionError):
        ledger.approve_obligation(CHAIR, key(), oid)
    ledger.retire_obligation(CLERK, key(), oid, reason="并入季度公开")
    with pytest.raises(InvalidTransitionError):
        ledger.retire_obligation(CLERK, key(), oid, reason="再次")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"cadence": "monthly", "due_days": 0}, "due_days"),
        ({"cadence": "monthly", "due_days": 29}, "due_days"),
        ({"cadence": "long_term", "due_days": 5}, "due_days"),
        ({"cadence": "per_matter", "due_days": 61}, "due_days"),
        ({"due_days": "10"}, "due_days"),
        ({"due_days": True}, "due_days"),
        ({"cadence": "weekly"}, "cadence"),
        ({"category": "gossip"}, "category"),
        ({"scope": "everyone"}, "scope"),
        ({"title": ""}, "title"),
    ],
)
def test_a_bad_obligation_is_refused_and_nothing_stored(
    ledger: CommunityLedger, fields: dict[str, Any], field: str
) -> None:
    head = ledger.head()
    with pytest.raises(InvalidInputError) as refused:
        adopt(ledger, **fields)
    assert refused.value.field == field
    assert ledger.head() == head


def test_who_may_do_what(ledger: CommunityLedger) -> None:
    for actor in (CHAIR, MEMBER, RESIDENT):
        with pytest.raises(PermissionDeniedError):
            ledger.adopt_obligation(actor, key(), **FINANCE)
    oid = adopt(ledger)
    for actor in (CLERK, RESIDENT):
        with pytest.raises(PermissionDeniedError):
            ledger.approve_obligation(actor, key(), oid)
    with pytest.raises(PermissionDeniedError):
        ledger.retire_obligation(CHAIR, key(), oid, reason="x")


def test_the_read_model_folds_the_calendar_as_of_any_entry(
    ledger: CommunityLedger, store: Store, store_url: str
) -> None:
    oid = adopt(ledger)
    adopted_at = ledger.head().seq
    ledger.approve_obligation(CHAIR, key(), oid, opinion="同意")
    other = adopt(ledger, title="政策法规", category="policies", cadence="long_term",
                  due_days=0, scope="public")  # fmt: skip
    ledger.retire_obligation(CLERK, key(), other, reason="已并入")
    db = open_read_db(store_url)
    try:
        runner = ProjectionRunner(db, [CalendarProjection()], store_source(store))
        runner.setup()
        runner.catch_up(ledger.community.id)
        now = {v.obligation_id: v for v in calendar(db, ledger.community.id)}
        assert now[oid].status == "in_force"
        assert now[oid].value("due_days") == 10
        assert now[other].status == "retired"
        then = calendar(db, ledger.community.id, as_of=adopted_at)
        assert [(v.obligation_id, v.status) for v in then] == [(oid, "adopted")]
    finally:
        db.close()


# --- a disclosure says which obligation and period it fulfils ------------------------------

ASSISTANCE: dict[str, Any] = {
    **FINANCE,
    "title": "低保对象",
    "category": "social_assistance",
    "scope": "public",
}


def in_force(ledger: CommunityLedger, **fields: Any) -> str:
    oid = adopt(ledger, **{**ASSISTANCE, **fields})
    ledger.approve_obligation(CHAIR, key(), oid)
    return oid


def draft(ledger: CommunityLedger, **fields: Any) -> str:
    return str(ledger.draft_disclosure(CLERK, key(), **{**DRAFT, **fields}).result["id"])


def test_a_draft_declares_the_obligation_and_period_it_fulfils(
    ledger: CommunityLedger, store: Store, store_url: str
) -> None:
    oid, did = in_force(ledger), draft(ledger)
    ledger.declare_coverage(CLERK, key(), did, obligation_id=oid, period="2026-07")
    assert ledger.get(Disclosure, did, "disclosure").covers == (
        oid, "2026-07", "social_assistance", "public"
    )  # fmt: skip
    # The draft must stay of the obligation's category and scope.
    with pytest.raises(InvalidTransitionError, match="category"):
        ledger.revise_draft(CLERK, key(), did, **{**DRAFT, "scope": "internal"})
    ledger.revise_draft(CLERK, key(), did, **{**DRAFT, "title": "2026年7月低保（修订）"})
    db = open_read_db(store_url)
    try:
        runner = ProjectionRunner(db, [CalendarProjection()], store_source(store))
        runner.setup()
        runner.catch_up(ledger.community.id)
        (view,) = calendar(db, ledger.community.id)
        assert [a.fields for a in view.covered] == [{"disclosure_id": did, "period": "2026-07"}]
    finally:
        db.close()
    ledger.submit_for_review(CLERK, key(), did)
    with pytest.raises(InvalidTransitionError):
        ledger.declare_coverage(CLERK, key(), did, obligation_id=oid, period="2026-08")


@pytest.mark.parametrize(
    ("cadence", "due_days", "period"),
    [
        ("monthly", 10, "2026-13"),
        ("monthly", 10, "2026Q3"),
        ("quarterly", 15, "2026Q5"),
        ("year_end", 20, "26"),
        ("per_matter", 5, "2026-02-30"),
        ("before_the_fact", 3, "2026-07"),
        ("long_term", 0, "2026-07"),
    ],
)
def test_a_period_not_of_the_cadence_is_refused(
    ledger: CommunityLedger, cadence: str, due_days: int, period: str
) -> None:
    oid, did = in_force(ledger, cadence=cadence, due_days=due_days), draft(ledger)
    head = ledger.head()
    with pytest.raises(InvalidInputError) as refused:
        ledger.declare_coverage(CLERK, key(), did, obligation_id=oid, period=period)
    assert refused.value.field == "period"
    assert ledger.head() == head


def test_only_an_obligation_in_force_of_the_same_category_and_scope_is_covered(
    ledger: CommunityLedger,
) -> None:
    did = draft(ledger)
    waiting = adopt(ledger, **ASSISTANCE)
    with pytest.raises(InvalidTransitionError, match="adopted"):
        ledger.declare_coverage(CLERK, key(), did, obligation_id=waiting, period="2026-07")
    retired = in_force(ledger)
    ledger.retire_obligation(CLERK, key(), retired, reason="停用")
    with pytest.raises(InvalidTransitionError, match="retired"):
        ledger.declare_coverage(CLERK, key(), did, obligation_id=retired, period="2026-07")
    for other in ({"category": "policies"}, {"scope": "internal"}):
        oid = in_force(ledger, **other)
        with pytest.raises(InvalidTransitionError):
            ledger.declare_coverage(CLERK, key(), did, obligation_id=oid, period="2026-07")
    with pytest.raises(PermissionDeniedError):
        ledger.declare_coverage(
            CHAIR, key(), did, obligation_id=in_force(ledger), period="2026-07"
        )
