"""Residents' opinions (意见) in the browser: a signed-in resident or representative
leaves one from the item's page on the portal; the clerk answers it (答复) from the
console's list of the community's opinions, where the committee's chair, the party
branch and the street's auditors follow them too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts import Principal
from api.console.routes import (
    CommunityPath,
    SeenQuery,
    done,
    form_context,
    items_of,
    own_community,
    own_or_street,
    posted,
    refused,
    wait_for,
)
from api.portal.routes import LangQuery, Page, PortalRoute, page_of
from api.routes.feedback import ShownOpinion, shown_opinions
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import CurrentViewsDep, ReadDBDep
from ledger.domain.permissions import COMMAND_ROLES
from ledger.errors import GongkaiError, PermissionDeniedError
from projections.opinions import OpinionsProjection, opinions
from projections.visibility import Reader, reads_everything

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)
portal_router = APIRouter(route_class=PortalRoute, include_in_schema=False, tags=["portal"])

#: Who follows the community's opinions in the console: those who may read every entry
#: as it is (the leadership and the auditors), for the private texts are shown in full.
READ_BY: Final = "the community's leadership and the street's auditors"


@dataclass(frozen=True, slots=True)
class Listed:
    """An opinion in the console's list, with the title of its item."""

    disclosure_id: str
    title: str
    seq: int
    opinion: ShownOpinion


def may_follow(who: Principal, community_id: str) -> None:
    own_or_street(who, community_id)
    if not reads_everything(Reader(who.role, who.community), community_id):
        raise PermissionDeniedError(f"opinions are followed in the console by {READ_BY}")


@router.get("/c/{community_id}/opinions")
def opinions_page(request: Request, community_id: CommunityPath, who: SignedIn,
                  ledger: LedgerDep, db: ReadDBDep, views: CurrentViewsDep,
                  lang: LangQuery = None, seen: SeenQuery = None) -> HTMLResponse:  # fmt: skip
    """Every opinion of the community, those waiting for an answer first, then the
    latest; the clerk answers from here."""
    may_follow(who, community_id)
    wait_for(db, community_id, seen, (OpinionsProjection.name,))
    items = items_of(ledger, db, views, who, community_id)
    titles = {str(i.disclosure_id): i.title for i in items}
    found = opinions(db, community_id)
    shown = shown_opinions(found, Reader(who.role, who.community), community_id, who.username)
    listed = [Listed(o.disclosure_id, titles.get(o.disclosure_id, ""), o.seq, s)
              for o, s in zip(found, shown, strict=True)]  # fmt: skip
    listed.sort(key=lambda x: (x.opinion.answer is not None, -x.seq))
    page = Page.of(request, lang)
    return page.render(
        "console/opinions.html",
        **form_context(request, ledger, community_id),
        listed=listed,
        may_answer=who.role in COMMAND_ROLES["answer_opinion"],
    )


@router.post("/c/{community_id}/opinions/{disclosure_id}/{opinion_id}/answer")
async def post_answer(request: Request, community_id: CommunityPath, disclosure_id: UUID,
                      opinion_id: UUID, who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    own_community(who, community_id)
    if who.role not in COMMAND_ROLES["answer_opinion"]:
        raise PermissionDeniedError("the community's clerk answers residents' opinions")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/opinions"
    try:
        recorded = ledger.community(community_id).answer_opinion(
            who.actor(), form.get("idempotency_key"), disclosure_id, opinion_id,
            answer=form.get("answer"),
        )  # fmt: skip
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, recorded)


@portal_router.post("/c/{community_id}/items/{disclosure_id}/opinions")
async def post_opinion(request: Request, community_id: CommunityPath, disclosure_id: UUID,
                       who: SignedIn, ledger: LedgerDep, db: ReadDBDep) -> Response:  # fmt: skip
    """A resident's opinion from the item's page, signed with the account's name; back
    to the page once the opinions' read model shows it."""
    own_community(who, community_id)
    if who.role not in COMMAND_ROLES["leave_opinion"]:
        raise PermissionDeniedError("opinions are left by the community's residents "
                                    "and their representatives")  # fmt: skip
    page = page_of(request)
    form = await posted(request, who)
    here = f"/c/{community_id}/items/{disclosure_id}"
    try:
        recorded = ledger.community(community_id).leave_opinion(
            who.actor(), form.get("idempotency_key"), disclosure_id,
            resident=who.display_name or who.username,
            text=form.get("text"),
            text_public=form.get("text_public") == "yes",
        )  # fmt: skip
    except GongkaiError as e:
        return refused(page, e, here)
    wait_for(db, community_id, recorded.last_seq, (OpinionsProjection.name,))
    return RedirectResponse(page.url(here) + "#opinions", status_code=303)
