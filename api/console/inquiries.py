"""Inquiries (质询) in the browser. On the portal, the community's members read every
inquiry with its deadline and status; a residents' representative files one there, and
marks its answer unsatisfactory. In the console, the clerk answers, and the supervision
committee records the meeting that closes an escalated inquiry; the street's auditors
follow them too."""

from __future__ import annotations

import re
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
    own_or_street,
    posted,
    refused,
    wait_for,
)
from api.portal.routes import LangQuery, Page, PortalRoute, page_of
from api.routes.inquiries import may_read_inquiries
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep, ReaderDep
from ledger.domain.permissions import COMMAND_ROLES
from ledger.domain.vocabulary import Role
from ledger.domain.working_days import china_date
from ledger.errors import GongkaiError, NotFoundError, PermissionDeniedError
from projections.inquiries import InquiriesProjection, inquiries
from projections.visibility import Reader

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)
portal_router = APIRouter(route_class=PortalRoute, include_in_schema=False, tags=["portal"])

#: Who handles inquiries in the console: the clerk who answers, the committee that holds
#: the meeting, and the street's auditors, whom escalated inquiries reach.
HANDLERS: Final = frozenset(
    {Role.CLERK, Role.COMMITTEE_CHAIR, Role.COMMITTEE_MEMBER, Role.DISCIPLINARY_AUDITOR}
)
STATUS_NAMES: Final = {
    "open": "待答复",
    "answered": "已答复",
    "overdue": "已逾期",
    "escalated": "已提请问责",
    "closed": "已办结",
}
MEETING_NAMES: Final = {"supervision": "群众监督会议", "two_committees": "两委会议"}
SHOWN: Final = (InquiriesProjection.name,)


def _render(request: Request, template: str, community_id: str, ledger: LedgerDep,
            db: ReadDBDep, lang: str | None, **more: Any) -> HTMLResponse:  # fmt: skip
    page = Page.of(request, lang)
    return page.render(
        template,
        **form_context(request, ledger, community_id),
        inquiries=inquiries(db, community_id),
        today=china_date(),
        inquiry_status=STATUS_NAMES,
        meeting_names=MEETING_NAMES,
        **more,
    )


@portal_router.get("/c/{community_id}/inquiries")
def inquiries_page(request: Request, community_id: CommunityPath, ledger: LedgerDep,
                   db: ReadDBDep, reader: ReaderDep, who: SignedIn,
                   lang: LangQuery = None, seen: SeenQuery = None) -> HTMLResponse:  # fmt: skip
    """The community's inquiries, for its members and the auditors."""
    ledger.store.community(community_id)
    may_read_inquiries(reader, community_id)
    wait_for(db, community_id, seen, SHOWN)
    return _render(request, "inquiries.html", community_id, ledger, db, lang, who=who,
                   may_file=reader.member_of(community_id)
                   and who.role in COMMAND_ROLES["file_inquiry"])  # fmt: skip


@portal_router.post("/c/{community_id}/inquiries")
async def post_filing(request: Request, community_id: CommunityPath, who: SignedIn,
                      ledger: LedgerDep) -> Response:  # fmt: skip
    own_community(who, community_id)
    if who.role not in COMMAND_ROLES["file_inquiry"]:
        raise PermissionDeniedError("inquiries are filed by the residents' representatives")
    page = page_of(request)
    form = await posted(request, who)
    here = f"/c/{community_id}/inquiries"
    try:
        recorded = ledger.community(community_id).file_inquiry(
            who.actor(), form.get("idempotency_key"), question=form.get("question"),
            representative=who.display_name,
            on_behalf_of=form.get("on_behalf_of"),
        )  # fmt: skip
    except GongkaiError as e:
        return refused(page, e, here)
    return done(page, here, recorded)


@portal_router.post("/c/{community_id}/inquiries/{inquiry_id}/unsatisfactory")
async def post_unsatisfactory(request: Request, community_id: CommunityPath, inquiry_id: UUID,
                              who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    own_community(who, community_id)
    if who.role not in COMMAND_ROLES["mark_unsatisfactory"]:
        raise PermissionDeniedError("the representative who asked judges the answer")
    page = page_of(request)
    form = await posted(request, who)
    here = f"/c/{community_id}/inquiries"
    try:
        recorded = ledger.community(community_id).mark_unsatisfactory(
            who.actor(), form.get("idempotency_key"), inquiry_id, reason=form.get("reason")
        )
    except GongkaiError as e:
        return refused(page, e, here)
    return done(page, here, recorded)


def may_handle(who: Principal, community_id: str) -> None:
    own_or_street(who, community_id)
    if who.role not in HANDLERS:
        raise PermissionDeniedError(
            "inquiries are handled by the clerk, the supervision committee and the auditors"
        )


@router.get("/c/{community_id}/inquiries")
def console_inquiries(request: Request, community_id: CommunityPath, who: SignedIn,
                      ledger: LedgerDep, db: ReadDBDep, lang: LangQuery = None,
                      seen: SeenQuery = None) -> HTMLResponse:  # fmt: skip
    """Every inquiry, with the clerk's answer forms and the committee's meeting forms."""
    may_handle(who, community_id)
    wait_for(db, community_id, seen, SHOWN)
    return _render(request, "console/inquiries.html", community_id, ledger, db, lang,
                   may_answer=who.role in COMMAND_ROLES["answer_inquiry"],
                   may_record=who.role in COMMAND_ROLES["record_meeting"],
                   reader=Reader(who.role, who.community))  # fmt: skip


@router.post("/c/{community_id}/inquiries/{inquiry_id}/{act}")
async def post_handling(request: Request, community_id: CommunityPath, inquiry_id: UUID,
                        act: str, who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    own_community(who, community_id)
    commands = {"answer": "answer_inquiry", "meeting": "record_meeting"}
    if act not in commands:
        raise NotFoundError(f"no act {act!r}")
    if who.role not in COMMAND_ROLES[commands[act]]:
        raise PermissionDeniedError(f"a {who.role.value} does not record the {act}")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/inquiries"
    book = ledger.community(community_id)
    key = form.get("idempotency_key")
    try:
        if act == "answer":
            recorded = book.answer_inquiry(who.actor(), key, inquiry_id, answer=form.get("answer"))
        else:
            # Names as people write them: separated by commas or 顿号 (、).
            present = re.split(r"[,，、]", form.get("present"))
            present = [n.strip() for n in present]
            recorded = book.record_meeting(
                who.actor(), key, inquiry_id, meeting=form.get("meeting"),
                held_on=form.get("held_on"), present=[n for n in present if n],
                conclusion=form.get("conclusion"),
            )  # fmt: skip
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, recorded)
