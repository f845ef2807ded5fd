"""The portal's page of residents' meetings and representatives' meetings (居民会议 /
居民代表会议): each one's time, place and agenda, its notice, how many were present of
its members and whether it could be held, and each resolution with its votes and the
disclosure it was posted as. Public, as the seeds have meetings posted before and
resolutions after; the names of those present are not on it (see the JSON route for
the community's members)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.portal.routes import LangQuery, Page, PortalRoute, community_named
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep
from ledger.domain.residents_meeting import ResidentsMeeting
from ledger.domain.working_days import CHINA_TIME
from projections.audit_trail import subjects_with

router = APIRouter(route_class=PortalRoute, include_in_schema=False, tags=["portal"])

KIND_NAMES: Final = {"residents": "居民会议", "representatives": "居民代表会议"}
MEETING_STATUS: Final = {
    "called": "已召集",
    "notified": "已通知",
    "held": "已举行",
    "not_quorate": "出席未过半数，未能举行",
}
#: The most meetings the page shows, the latest called first.
SHOWN: Final = 50


def _china(stamp: str) -> str:
    return dt.datetime.fromisoformat(stamp).astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def meeting_facts(meeting: ResidentsMeeting) -> dict[str, Any]:
    """What the page shows of one meeting."""
    return {
        "id": str(meeting.id),
        "kind": meeting.kind.value,
        "proposed": meeting.called_by.value == "representatives_proposal",
        "proposers": len(meeting.proposers),
        "starts": _china(meeting.starts_at.isoformat()),
        "place": meeting.place,
        "agenda": meeting.agenda,
        "status": meeting.status.value,
        "members": meeting.members,
        "present": meeting.present,
        "noticed": _china(meeting.notice[0]) if meeting.notice else "",
        "notice_item": meeting.notice[1] if meeting.notice else "",
        "resolutions": [
            {**vote, "posted_as": meeting.posted.get(vote["number"], "")} for vote in meeting.votes
        ],
    }


@router.get("/c/{community_id}/meetings")
def meetings_page(
    request: Request,
    community_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    lang: LangQuery = None,
) -> HTMLResponse:
    """The community's meetings, the latest called first."""
    page = Page.of(request, lang)
    community = community_named(ledger, community_id)
    book = ledger.community(community_id)
    meetings = [
        meeting_facts(book.get(ResidentsMeeting, found, "meeting"))
        for found in subjects_with(db, community_id, "meeting", "called")[:SHOWN]
    ]
    return page.render(
        "meetings.html",
        community=community,
        meetings=meetings,
        kind_names=KIND_NAMES,
        status_names=MEETING_STATUS,
    )
