"""The 十个防止 report in the console: for a community (its members and the auditors)
and for the whole street (the auditors), on any day asked, with the CSV for the street's
meeting a link away."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.console.calendar import DayQuery, judged_on
from api.console.routes import CommunityPath
from api.portal.routes import LangQuery, Page, PortalRoute
from api.routes.inquiries import may_read_inquiries
from api.routes.ten_preventions import may_read_street, report
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import KeptReportsDep, ReadDBDep, ReaderDep

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)


@router.get("/c/{community_id}/ten-preventions")
def community_page(request: Request, community_id: CommunityPath, who: SignedIn,
                   ledger: LedgerDep, kept: KeptReportsDep, db: ReadDBDep,
                   reader: ReaderDep, day: DayQuery = None,
                   lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """The community's report on ``day`` (China date, today if none), judged against the
    record as it stands now."""
    community = ledger.store.community(community_id)
    may_read_inquiries(reader, community_id)
    today = judged_on(day)
    reports = [(community.id, community.name, report(kept, db, reader, community.id, today, None))]
    return Page.of(request, lang).render(
        "console/ten_preventions.html",
        reports=reports,
        today=today,
        action=f"/console/c/{community.id}/ten-preventions",
        csv=f"/v1/communities/{community.id}/ten-preventions.csv",
        street=False,
    )


@router.get("/street/ten-preventions")
def street_page(request: Request, who: SignedIn, ledger: LedgerDep,
                kept: KeptReportsDep, db: ReadDBDep, reader: ReaderDep,
                day: DayQuery = None,
                lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """Every community's report, for the street's meeting."""
    may_read_street(reader)
    today = judged_on(day)
    reports = [
        (c.id, c.name, report(kept, db, reader, c.id, today, None))
        for c in ledger.store.communities()
    ]
    return Page.of(request, lang).render(
        "console/ten_preventions.html",
        reports=reports,
        today=today,
        action="/console/street/ten-preventions",
        csv="/v1/street/ten-preventions.csv",
        street=True,
    )
