"""Reports (举报) in the browser. On the portal, a signed-in resident or representative
files one, and is shown its receipt code once; anyone holding a code looks up how the
report is being handled. In the console, the community's leadership reads the reports'
subject and text; the street's disciplinary auditors also register the key reports are
sealed to, open a reporter's identity in their own browser with their key file
(``static/open_report.js``: the key never leaves the browser), and record the
acknowledgement, the investigation's steps and the finding."""

from __future__ import annotations

from importlib.resources import files
from typing import Final
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

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
from api.portal import views
from api.portal.routes import LangQuery, Page, PortalRoute, page_of
from api.routes.reports import may_read_reports, status_for_reporter
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep, ReaderDep
from ledger.application.reports import receipt_sha256
from ledger.domain.permissions import COMMAND_ROLES
from ledger.domain.vocabulary import Role
from ledger.errors import GongkaiError, NotFoundError, PermissionDeniedError
from projections.reports import ReportsProjection, report_by_receipt, reports

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)
portal_router = APIRouter(route_class=PortalRoute, include_in_schema=False, tags=["portal"])

STATUS_NAMES: Final = {
    "filed": "待受理",
    "acknowledged": "已受理",
    "investigating": "调查中",
    "concluded": "已办结",
}
FINDING_NAMES: Final = {
    "substantiated": "属实",
    "partly_substantiated": "部分属实",
    "unsubstantiated": "不属实",
}
SHOWN: Final = (ReportsProjection.name,)
SCRIPT_PATH: Final = "/console/open-report.js"
#: The console's acts on a report, by the last part of their address.
ACTS: Final = {
    "acknowledgement": "acknowledge_report",
    "steps": "record_investigation_step",
    "finding": "conclude_report",
}
NO_STORE: Final = {"Cache-Control": "no-store"}


def _script() -> bytes:
    return (files("api.console") / "static" / "open_report.js").read_bytes()


@router.get("/open-report.js")
def open_report_script() -> Response:
    return Response(_script(), media_type="text/javascript; charset=utf-8")


def _portal(request: Request, community_id: str, ledger: LedgerDep, reader: ReaderDep,
            lang: str | None, status: int = 200, **more: object) -> HTMLResponse:  # fmt: skip
    page = Page.of(request, lang)
    book = ledger.community(community_id)
    shown = {"receipt": None, "replayed": False, "found": None, "not_found": False, **more}
    response = page.render(
        "reports.html",
        status,
        **form_context(request, ledger, community_id),
        may_file=reader.member_of(community_id) and reader.role in COMMAND_ROLES["file_report"],
        signed_in=reader.role is not None,
        has_key=book.report_key() is not None,
        report_status=STATUS_NAMES,
        finding_names=FINDING_NAMES,
        recorded_text=views.recorded_text,
        **shown,
    )
    response.headers.update(NO_STORE)
    return response


@portal_router.get("/c/{community_id}/reports")
def reports_page(request: Request, community_id: CommunityPath, ledger: LedgerDep,
                 reader: ReaderDep, lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """How to report to the street disciplinary committee, and where to look one up."""
    ledger.store.community(community_id)
    return _portal(request, community_id, ledger, reader, lang)


@portal_router.post("/c/{community_id}/reports")
async def post_report(request: Request, community_id: CommunityPath, who: SignedIn,
                      ledger: LedgerDep, reader: ReaderDep) -> Response:  # fmt: skip
    """File a report; the page that answers shows the receipt code, once."""
    own_community(who, community_id)
    if who.role not in COMMAND_ROLES["file_report"]:
        raise PermissionDeniedError("reports are filed by the community's residents")
    page = page_of(request)
    form = await posted(request, who)
    here = f"/c/{community_id}/reports"
    try:
        filed = ledger.community(community_id).file_report(
            who.actor(), form.get("idempotency_key"), subject=form.get("subject"),
            text=form.get("text"), name=form.get("name"), contact=form.get("contact"),
        )  # fmt: skip
    except GongkaiError as e:
        return refused(page, e, here)
    status = 201 if filed.receipt is not None else 200
    return _portal(request, community_id, ledger, reader, page.lang, status,
                   receipt=filed.receipt, replayed=filed.receipt is None)  # fmt: skip


@portal_router.post("/c/{community_id}/reports/status")
async def post_status(request: Request, community_id: CommunityPath, ledger: LedgerDep,
                      db: ReadDBDep, reader: ReaderDep) -> Response:  # fmt: skip
    """The handling of the report a receipt code was given for. Anyone may ask: the
    code is the proof. A signed-in browser's form still carries its CSRF token."""
    ledger.store.community(community_id)
    form = await posted(request, None)
    page = page_of(request)
    code = form.get("receipt").strip()
    found = report_by_receipt(db, community_id, receipt_sha256(code)) if code else None
    if found is None:
        return _portal(request, community_id, ledger, reader, page.lang, 404, not_found=True)
    return _portal(request, community_id, ledger, reader, page.lang,
                   found=status_for_reporter(found))  # fmt: skip


@router.get("/c/{community_id}/reports")
def console_reports(request: Request, community_id: CommunityPath, who: SignedIn,
                    ledger: LedgerDep, db: ReadDBDep, reader: ReaderDep,
                    lang: LangQuery = None, seen: SeenQuery = None) -> HTMLResponse:  # fmt: skip
    """Every report of the community, for its leadership and the street's auditors,
    who handle them here."""
    ledger.store.community(community_id)
    may_read_reports(reader, community_id)
    wait_for(db, community_id, seen, SHOWN)
    page = Page.of(request, lang)
    auditor = who.role is Role.DISCIPLINARY_AUDITOR
    response = page.render(
        "console/reports.html",
        **form_context(request, ledger, community_id),
        reports=reports(db, community_id),
        report_key=ledger.community(community_id).report_key(),
        auditor=auditor,
        script=SCRIPT_PATH if auditor else None,
        report_status=STATUS_NAMES,
        finding_names=FINDING_NAMES,
        recorded_text=views.recorded_text,
    )
    response.headers.update(NO_STORE)
    return response


def _may_act(who: SignedIn, community_id: str, command: str) -> None:
    own_or_street(who, community_id)
    if who.role not in COMMAND_ROLES[command]:
        raise PermissionDeniedError("reports are handled by the street disciplinary committee")


@router.post("/c/{community_id}/report-key")
async def post_report_key(request: Request, community_id: CommunityPath, who: SignedIn,
                          ledger: LedgerDep) -> Response:  # fmt: skip
    _may_act(who, community_id, "register_report_key")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/reports"
    try:
        recorded = ledger.community(community_id).register_report_key(
            who.actor(), form.get("idempotency_key"), public_key=form.get("public_key")
        )
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, recorded)


@router.post("/c/{community_id}/reports/{report_id}/{act}")
async def post_handling(request: Request, community_id: CommunityPath, report_id: UUID,
                        act: str, who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    if act not in ACTS:
        raise NotFoundError(f"no act {act!r}")
    _may_act(who, community_id, ACTS[act])
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/reports"
    book = ledger.community(community_id)
    key = form.get("idempotency_key")
    try:
        if act == "acknowledgement":
            recorded = book.acknowledge_report(who.actor(), key, report_id, note=form.get("note"))
        elif act == "steps":
            recorded = book.record_investigation_step(
                who.actor(), key, report_id, step=form.get("step")
            )
        else:
            recorded = book.conclude_report(
                who.actor(), key, report_id, finding=form.get("finding"),
                conclusion=form.get("conclusion"),
            )  # fmt: skip
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, recorded)
