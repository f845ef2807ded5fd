"""The disclosure calendar in the console (公开目录与时限): every obligation in force
with what it owes and what the record shows of it, period by period, for the
community's members and the street's auditors, on any day asked."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.console.routes import CommunityPath, form_context
from api.portal.routes import LangQuery, Page, PortalRoute
from api.routes.inquiries import may_read_inquiries
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import KeptReportsDep, ReadDBDep, ReaderDep
from ledger.domain.working_days import china_date
from ledger.errors import InvalidInputError
from projections.visibility import can_see

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)

CADENCE_NAMES: Final = {
    "monthly": "每月公开",
    "quarterly": "每季度公开",
    "year_end": "年终公开",
    "per_matter": "一事一公开",
    "before_the_fact": "事前公开",
    "long_term": "长期公开",
}
OWED_NAMES: Final = {
    "met": "按时公开",
    "late": "公开不及时",
    "missing": "未公开",
    "due": "待公开",
    "withdrawn_early": "公开不持久",
}


DayQuery = Annotated[str | None, Query(max_length=10)]


def judged_on(day: str | None) -> dt.date:
    """The China date a page judges the record on: ``day``, or today."""
    try:
        return dt.date.fromisoformat(day) if day else china_date()
    except ValueError:
        raise InvalidInputError("day is YYYY-MM-DD", field="day") from None


@router.get("/c/{community_id}/calendar")
def calendar_page(request: Request, community_id: CommunityPath, who: SignedIn,
                  ledger: LedgerDep, kept: KeptReportsDep, db: ReadDBDep,
                  reader: ReaderDep, day: DayQuery = None,
                  lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """What the calendar owes on ``day`` (China date, today if none), judged against
    the record as it stands now (``GET …/compliance?at=`` also rolls the record back)."""
    ledger.store.community(community_id)
    may_read_inquiries(reader, community_id)
    today = judged_on(day)
    lines = [
        (o, owed)
        for o, owed in kept.compliance(db, community_id, today)
        if can_see(reader, community_id, str(o.value("scope") or "leadership"))
    ]
    page = Page.of(request, lang)
    return page.render(
        "console/calendar.html",
        **form_context(request, ledger, community_id),
        lines=lines,
        today=today,
        cadence_names=CADENCE_NAMES,
        owed_names=OWED_NAMES,
    )
