"""Closing the books in the console (结账 → 民主理财 → 收支明细): the recent months and
quarters, each open or closed with the figures of its close; the clerk closes one that
has ended, the democratic finance group (the supervision committee's members) signs its
statement off with an opinion, and the clerk drafts the statement, which is then
reviewed and posted as any disclosure is (:mod:`ledger.application.finance_periods`).
The figures are the community's members', as the books are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.accounts import Principal
from api.console.routes import (
    CommunityPath,
    SeenQuery,
    done,
    form_context,
    own_community,
    posted,
    refused,
    wait_for,
)
from api.portal.routes import LangQuery, Page, PortalRoute, page_of
from api.portal.views import recorded_text
from api.routes.inquiries import may_read_inquiries
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep, ReaderDep
from ledger.application import CommunityLedger
from ledger.domain.finance_period import FinancePeriod, months_of, period_id, quarter_of, yuan
from ledger.domain.permissions import COMMAND_ROLES
from ledger.domain.working_days import china_date
from ledger.errors import GongkaiError, PermissionDeniedError
from projections import finance

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)
#: How far back the page lists: this month and the twelve before it, this quarter and
#: the four before it.
MONTHS_BACK: Final = 12
QUARTERS_BACK: Final = 4


@dataclass(frozen=True)
class Signed:
    """An act on a closed period: who did it, when (China time), and what they said."""

    by: str
    when: str
    opinion: str = ""


@dataclass(frozen=True)
class PeriodLine:
    """One month or quarter as the page shows it."""

    period: str
    ended: bool
    #: Entries booked into it so far, as the books' read model has them (an open period).
    booked: int
    closed: Signed | None = None
    figures: dict[str, Any] | None = None
    signed_off: Signed | None = None
    drafted: Signed | None = None
    statement: UUID | None = None

    @property
    def state(self) -> str:
        if self.statement is not None:
            return "drafted"
        if self.signed_off is not None:
            return "signed_off"
        if self.closed is not None:
            return "closed"
        return "open" if self.ended else "running"


#: The states of a period as the page names them (each translated in the page's language).
PERIOD_STATES: Final = {
    "running": "本期未结束",
    "open": "未结账",
    "closed": "已结账，待民主理财小组审核",
    "signed_off": "民主理财小组已审核，待起草收支明细",
    "drafted": "收支明细已起草",
}


def recent_periods(today: dt.date) -> tuple[list[str], list[str]]:
    """This month and the ones before it, newest first; and the same of quarters."""
    index = today.year * 12 + today.month - 1
    months = [f"{i // 12}-{i % 12 + 1:02d}" for i in range(index, index - MONTHS_BACK - 1, -1)]
    quarter = today.year * 4 + (today.month - 1) // 3
    quarters = [f"{q // 4}Q{q % 4 + 1}" for q in range(quarter, quarter - QUARTERS_BACK - 1, -1)]
    return months, quarters


def _signed(event: Any, opinion: str = "") -> Signed:
    when = event.timestamp
    return Signed(str(event.actor), recorded_text(when.isoformat()), opinion)


def period_line(book: CommunityLedger, period: str, booked: int, this_month: str) -> PeriodLine:
    """``period`` from its events: closed by whom and when, with the figures, its
    sign-off and its statement; or open."""
    fields: dict[str, Any] = {}
    for event in book.events.get(period_id(book.community.id, period)):
        if isinstance(event, FinancePeriod.PeriodClosed):
            fields["closed"] = _signed(event)
            fields["figures"] = {
                "as_of": event.as_of,
                "income_fen": event.income_fen,
                "expense_fen": event.expense_fen,
                "entries": event.entries,
                "accounts": event.accounts,
            }
        elif isinstance(event, FinancePeriod.StatementApproved):
            fields["signed_off"] = _signed(event, event.opinion)
        elif isinstance(event, FinancePeriod.StatementDrafted):
            fields["drafted"] = _signed(event)
            fields["statement"] = event.disclosure_id
    ended = months_of(period)[-1] < this_month
    return PeriodLine(period, ended, booked, **fields)


def booked_by_month(periods: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for month in periods:
        counts[month] = counts.get(month, 0) + 1
    return counts


@router.get("/c/{community_id}/finance/periods")
def periods_page(request: Request, community_id: CommunityPath, who: SignedIn,
                 ledger: LedgerDep, db: ReadDBDep, reader: ReaderDep, lang: LangQuery = None,
                 seen: SeenQuery = None) -> HTMLResponse:  # fmt: skip
    """The recent months and quarters with their state, and the form of the act each
    waits for, for the role that does it."""
    ledger.store.community(community_id)
    may_read_inquiries(reader, community_id)
    wait_for(db, community_id, seen, ("finance",))
    book = ledger.community(community_id)
    today = china_date()
    this_month = f"{today:%Y-%m}"
    months, quarters = recent_periods(today)
    listed = finance.entries(db, community_id, months_of(quarters[-1])[0], this_month)
    booked = booked_by_month(r.period for r in listed)
    in_quarter: dict[str, int] = {}
    for month, count in booked.items():
        in_quarter[quarter_of(month)] = in_quarter.get(quarter_of(month), 0) + count
    acts = who.community == community_id
    page = Page.of(request, lang)
    return page.render(
        "console/finance_periods.html",
        **form_context(request, ledger, community_id),
        months=[period_line(book, m, booked.get(m, 0), this_month) for m in months],
        quarters=[period_line(book, q, in_quarter.get(q, 0), this_month) for q in quarters],
        period_states=PERIOD_STATES,
        yuan=yuan,
        in_community=acts,
        may_close=acts and who.role in COMMAND_ROLES["close_period"],
        may_sign_off=acts and who.role in COMMAND_ROLES["sign_off_statement"],
        may_draft_statement=acts and who.role in COMMAND_ROLES["draft_statement"],
    )


def may_do(who: Principal, community_id: str, command: str, what: str) -> None:
    """Refused before the form is read (the ledger checks the role again)."""
    own_community(who, community_id)
    if who.role not in COMMAND_ROLES[command]:
        raise PermissionDeniedError(f"a {who.role.value} does not {what}")


@router.post("/c/{community_id}/finance/periods/{period}/close")
async def post_close(request: Request, community_id: CommunityPath, period: str,
                     who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    may_do(who, community_id, "close_period", "close a period: the clerk does")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/finance/periods"
    try:
        closed = ledger.community(community_id).close_period(
            who.actor(), form.get("idempotency_key"), period=period
        )
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, closed)


@router.post("/c/{community_id}/finance/periods/{period}/sign-off")
async def post_sign_off(request: Request, community_id: CommunityPath, period: str,
                        who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    may_do(who, community_id, "sign_off_statement",
           "sign a statement off: the democratic finance group does")  # fmt: skip
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/finance/periods"
    try:
        signed = ledger.community(community_id).sign_off_statement(
            who.actor(), form.get("idempotency_key"), period=period, opinion=form.get("opinion")
        )
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, signed)


@router.post("/c/{community_id}/finance/periods/{period}/statement")
async def post_statement(request: Request, community_id: CommunityPath, period: str,
                         who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    may_do(who, community_id, "draft_statement", "draft a statement: the clerk does")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/finance/periods"
    try:
        drafted = ledger.community(community_id).draft_statement(
            who.actor(), form.get("idempotency_key"), period=period
        )
    except GongkaiError as e:
        return refused(page, e, back)
    # On to the draft's review page, which waits for the board to have it.
    return done(page, f"/console/c/{community_id}/items/{drafted.result['id']}", drafted)
