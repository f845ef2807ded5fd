"""Closing an accounting period (结账) on SQLite and PostgreSQL: the close's figures are
the finance read model's totals at the entry the close names; an entry or a reversal
back-dated into a closed month, or into a month of a closed quarter, is refused and
stores nothing; the statement is drafted only after the democratic finance group's
sign-off, once, with the close's figures in its body; and what cannot be closed yet is
refused with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.domain.base import Actor
from ledger.domain.disclosure import Disclosure
from ledger.domain.vocabulary import Role
from ledger.errors import (
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
)
from ledger.store.backend import Store
from projections.db import ReadDB, open_read_db
from projections.finance.projection import FinanceProjection
from projections.finance.queries import totals
from projections.runner import ProjectionRunner, store_source
from tests.contract.test_ledger_contract import CHAIR, CLERK, VOUCHER, key

MEMBER = Actor("陈红梅", Role.COMMITTEE_MEMBER)


def book(ledger: CommunityLedger, period: str, kind: str, account: str, fen: int) -> str:
    return str(
        ledger.record_entry(CLERK, key(), kind=kind, amount_fen=fen, account=account,
                            counterparty="某单位", voucher_sha256=VOUCHER, period=period,
                            memo="摘要").result["id"]
    )  # fmt: skip


@pytest.fixture
def books(ledger: CommunityLedger) -> dict[str, str]:
    """July and August: income, expenses, and a July expense reversed in July."""
    ids = {
        "grant": book(ledger, "2026-07", "income", "grant", 500_000),
        "rent": book(ledger, "2026-07", "income", "rent", 120_000),
        "office": book(ledger, "2026-07", "expense", "office", 12_000),
        "twice": book(ledger, "2026-07", "expense", "office", 12_000),
        "august": book(ledger, "2026-08", "expense", "activities", 30_000),
    }
    ledger.reverse_entry(CLERK, key(), ids["twice"], period="2026-07", voucher_sha256=VOUCHER,
                         reason="重复记账")  # fmt: skip
    return ids


@pytest.fixture
def read_db(store: Store, store_url: str) -> Iterator[ReadDB]:
    db = open_read_db(store_url)
    yield db
    db.close()


def catch_up(db: ReadDB, store: Store, community_id: str) -> None:
    runner = ProjectionRunner(db, [FinanceProjection()], store_source(store))
    runner.setup()
    runner.catch_up(community_id)


def refused(ledger: CommunityLedger, error: Any, match: str, act: Any) -> None:
    before = ledger.head()
    with pytest.raises(error, match=match):
        act()
    assert ledger.head() == before


def test_the_close_figures_are_the_books_at_its_entry(
    ledger: CommunityLedger, books: dict[str, str], store: Store, read_db: ReadDB
) -> None:
    closed = ledger.close_period(CLERK, key(), period="2026-07").result
    assert closed["as_of"] == ledger.head().seq - 1, "read at the head before the close"
    # Written out by hand: 5,000 + 1,200 in; 120 + 120 - 120 out; five entries.
    assert (closed["income_fen"], closed["expense_fen"], closed["entries"]) == (
        620_000, 12_000, 5
    )  # fmt: skip
    assert closed["accounts"] == [
        {"kind": "income", "account": "grant", "name": "上级拨款", "amount_fen": 500_000},
        {"kind": "income", "account": "rent", "name": "租金收入", "amount_fen": 120_000},
        {"kind": "expense", "account": "office", "name": "办公费", "amount_fen": 12_000},
    ]
    # Later entries (of the next month) do not change what the close read.
    book(ledger, "2026-08", "income", "donation", 9_900)
    catch_up(read_db, store, ledger.community.id)
    [july] = [t for t in totals(read_db, ledger.community.id, "month", closed["as_of"])
              if t.period == "2026-07"]  # fmt: skip
    assert (july.income_fen, july.expense_fen) == (closed["income_fen"], closed["expense_fen"])
    assert [(a.account, a.income_fen + a.expense_fen) for a in july.accounts] == [
        (a["account"], a["amount_fen"]) for a in closed["accounts"]
    ]


def test_an_entry_back_dated_into_a_closed_period_is_refused(
    ledger: CommunityLedger, books: dict[str, str]
) -> None:
    ledger.close_period(CLERK, key(), period="2026-07")
    refused(ledger, InvalidTransitionError, "2026-07 is closed",
            lambda: book(ledger, "2026-07", "expense", "office", 500))  # fmt: skip
    refused(
        ledger,
        InvalidTransitionError,
        "next open period",
        lambda: ledger.reverse_entry(CLERK, key(), books["office"], period="2026-07",
                                     voucher_sha256=VOUCHER, reason="错"),
    )  # fmt: skip
    # Into the next period, with the note, it is booked.
    ledger.reverse_entry(CLERK, key(), books["office"], period="2026-08",
                         voucher_sha256=VOUCHER, reason="冲销2026-07办公费")  # fmt: skip
    ledger.close_period(CLERK, key(), period="2026Q3")
    refused(ledger, InvalidTransitionError, "2026Q3 is closed",
            lambda: book(ledger, "2026-09", "expense", "office", 500))  # fmt: skip
    refused(ledger, InvalidTransitionError, "quarter 2026Q3 is closed",
            lambda: ledger.close_period(CLERK, key(), period="2026-08"))  # fmt: skip


def test_the_statement_needs_the_sign_off_and_carries_the_figures(
    ledger: CommunityLedger, books: dict[str, str]
) -> None:
    refused(ledger, NotFoundError, "not closed",
            lambda: ledger.sign_off_statement(MEMBER, key(), period="2026-07"))  # fmt: skip
    ledger.close_period(CLERK, key(), period="2026-07")
    refused(ledger, InvalidTransitionError, "民主理财",
            lambda: ledger.draft_statement(CLERK, key(), period="2026-07"))  # fmt: skip
    with pytest.raises(PermissionDeniedError):
        ledger.sign_off_statement(CLERK, key(), period="2026-07")
    ledger.sign_off_statement(MEMBER, key(), period="2026-07", opinion="账实相符")
    refused(ledger, InvalidTransitionError, "already signed off",
            lambda: ledger.sign_off_statement(CHAIR, key(), period="2026-07"))  # fmt: skip
    drafted = ledger.draft_statement(CLERK, key(), period="2026-07").result
    statement = ledger.get(Disclosure, drafted["id"], "disclosure")
    assert (statement.category, statement.scope.value) == ("income_expense", "internal")
    assert statement.title == "【内部】2026年7月社区财务收支明细"
    assert statement.body.splitlines()[:3] == [
        "收入合计6,200.00元：上级拨款（grant）5,000.00元；租金收入（rent）1,200.00元。",
        "支出合计120.00元：办公费（office）120.00元。",
        "本期收支相抵6,080.00元。",
    ]
    assert statement.planned == ("2026-08-01", "2026-08-30")
    refused(ledger, InvalidTransitionError, "already drafted",
            lambda: ledger.draft_statement(CLERK, key(), period="2026-07"))  # fmt: skip
    assert ledger.closed_period("2026-07") is not None


def test_what_cannot_be_closed_is_refused(ledger: CommunityLedger, books: dict[str, str]) -> None:
    for period in ("2026-7", "2026Q5", "2026", ""):
        refused(ledger, InvalidInputError, "period",
                lambda p=period: ledger.close_period(CLERK, key(), period=p))  # fmt: skip
    refused(ledger, InvalidTransitionError, "not ended",
            lambda: ledger.close_period(CLERK, key(), period="2099-01"))  # fmt: skip
    with pytest.raises(PermissionDeniedError):
        ledger.close_period(MEMBER, key(), period="2026-07")
    ledger.close_period(CLERK, key(), period="2026-07")
    refused(ledger, InvalidTransitionError, "already closed",
            lambda: ledger.close_period(CLERK, key(), period="2026-07"))  # fmt: skip
