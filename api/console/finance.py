"""The clerk's books in the console (财务): an income or expense entry recorded with its
voucher (凭证) scanned or photographed, and a wrong entry reversed in red ink (红字冲销)
with its reason and the reversal's voucher. Entries are never edited. A voucher is
internal, like the entries: the page and the files are for the community's members."""

from __future__ import annotations

from typing import Final
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.accounts import Principal
from api.console.forms import Form
from api.console.money import yuan_to_fen
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
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep
from ledger.domain.permissions import COMMAND_ROLES
from ledger.errors import GongkaiError, InvalidInputError, PermissionDeniedError
from projections import finance

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)
#: The entries the page lists, newest first.
LISTED: Final = 50


def the_voucher(form: Form, whose: str) -> str:
    """The SHA-256 of the one voucher the form carried."""
    vouchers = form.files.get("voucher", [])
    if len(vouchers) != 1:
        raise InvalidInputError(f"attach {whose} voucher (one file)", field="voucher")
    return vouchers[0].sha256


def may_keep_books(who: Principal, community_id: str) -> None:
    own_community(who, community_id)
    if who.role not in COMMAND_ROLES["record_entry"]:
        raise PermissionDeniedError("the community's clerk keeps the books")


@router.get("/c/{community_id}/finance")
def finance_page(request: Request, community_id: CommunityPath, who: SignedIn,
                 ledger: LedgerDep, db: ReadDBDep, lang: LangQuery = None,
                 seen: SeenQuery = None) -> HTMLResponse:  # fmt: skip
    """The form of a new entry, and the latest entries, each with its voucher and, if
    it stands, the form of its red-ink reversal."""
    may_keep_books(who, community_id)
    wait_for(db, community_id, seen, ("finance",))
    page = Page.of(request, lang)
    chart = ledger.community(community_id).chart()
    rows = finance.entries(db, community_id, None, None)
    return page.render(
        "console/finance.html",
        **form_context(request, ledger, community_id),
        accounts=sorted(chart.accounts.values(), key=lambda a: (a.kind.value, a.code)),
        entries=sorted(rows, key=lambda r: r.seq, reverse=True)[:LISTED],
    )


@router.post("/c/{community_id}/finance")
async def post_entry(request: Request, community_id: CommunityPath, who: SignedIn,
                     ledger: LedgerDep) -> Response:  # fmt: skip
    may_keep_books(who, community_id)
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/finance"
    try:
        voucher = the_voucher(form, "the entry's")
        recorded = ledger.community(community_id).record_entry(
            who.actor(),
            form.get("idempotency_key"),
            kind=form.get("kind"),
            amount_fen=yuan_to_fen(form.get("amount")),
            account=form.get("account"),
            counterparty=form.get("counterparty"),
            voucher_sha256=voucher,
            period=form.get("period"),
            memo=form.get("memo"),
        )
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, recorded)


@router.post("/c/{community_id}/finance/{entry_id}/reversal")
async def post_reversal(request: Request, community_id: CommunityPath, entry_id: UUID,
                        who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    may_keep_books(who, community_id)
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/finance"
    try:
        voucher = the_voucher(form, "the reversal's")
        reversed_ = ledger.community(community_id).reverse_entry(
            who.actor(),
            form.get("idempotency_key"),
            entry_id,
            period=form.get("period"),
            voucher_sha256=voucher,
            reason=form.get("reason"),
        )
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, reversed_)
