"""Objections (异议) in the console: what residents raised about a posted item, and their
handling, as the ledger records it. The party branch, the committee's chair or the
street's disciplinary auditor verifies an objection (核实属实) with a finding or dismisses
it with the reason; the clerk answers a verified one by drafting the corrected version
with its explanation, which is reviewed as the disclosure was (the committee, and 初审 /
复审 / 终审 if the original went through them) before the clerk posts it. Each objection
is listed with every act on it, by date."""

from __future__ import annotations

from typing import Final
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.accounts import Principal
from api.console.forms import Form
from api.console.routes import (
    CommunityPath,
    SeenQuery,
    done,
    form_context,
    items_of,
    own_or_street,
    posted,
    refused,
    stages_for,
    wait_for,
)
from api.console.work_ledger import ACT_NAMES
from api.portal.routes import LangQuery, Page, PortalRoute, page_of
from api.portal.views import grouped
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import CurrentViewsDep, ReadDBDep
from ledger.application import CommunityLedger
from ledger.chain.idempotency import CommandResult
from ledger.domain.correction import Correction
from ledger.domain.permissions import COMMAND_ROLES
from ledger.domain.vocabulary import STAGE_ROLES, Role
from ledger.errors import GongkaiError, NotFoundError, PermissionDeniedError
from projections.history import community_objections

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)

#: What each act on an objection does, and who may do it.
ACTS: Final[dict[str, str]] = {
    "verification": "verify_objection",
    "dismissal": "dismiss_objection",
    "correction-draft": "draft_correction",
    "correction-review": "review_correction",
    "correction": "publish_correction",
}
#: The roles of each act: a correction is reviewed by the roles of its stage.
ACT_ROLES: Final[dict[str, frozenset[Role]]] = {
    act: COMMAND_ROLES.get(command) or frozenset().union(*STAGE_ROLES.values())
    for act, command in ACTS.items()
}
HANDLING_ROLES: Final = frozenset().union(*ACT_ROLES.values())
#: The states in which an objection has a drafted correction the page shows.
DRAFTED: Final = frozenset({"correction_submitted", "correction_rejected"})


def may_handle(who: Principal, community_id: str) -> None:
    """The community's own handlers, or a street-wide disciplinary auditor."""
    own_or_street(who, community_id)
    if who.role not in HANDLING_ROLES:
        raise PermissionDeniedError("objections are handled by the party branch, the chair, "
                                    "the clerk and the street's auditors")  # fmt: skip


@router.get("/c/{community_id}/objections")
def objections_page(request: Request, community_id: CommunityPath, who: SignedIn,
                    ledger: LedgerDep, db: ReadDBDep, views: CurrentViewsDep,
                    lang: LangQuery = None,
                    seen: SeenQuery = None) -> HTMLResponse:  # fmt: skip
    """Every objection of the community, the latest first, with the forms of the acts
    the reader's role may do on it."""
    may_handle(who, community_id)
    wait_for(db, community_id, seen, ("history",))
    items = items_of(ledger, db, views, who, community_id)
    titles = {item.disclosure_id: item.title for item in items}
    objections = grouped(community_objections(db, community_id), titles)
    # A drafted correction's content is the ledger's: the reviewers read what they review.
    book = ledger.community(community_id)
    drafts = {
        o.objection_id: book.get(Correction, o.objection_id, "objection").draft
        for o in objections
        if o.state in DRAFTED
    }
    page = Page.of(request, lang)
    return page.render(
        "console/objections.html",
        **form_context(request, ledger, community_id),
        objections=objections,
        drafts=drafts,
        act_names=ACT_NAMES,
        may={act: who.role in roles for act, roles in ACT_ROLES.items()},
        review_stages=[s.value for s in stages_for(who.role)],
    )


@router.post("/c/{community_id}/objections/{objection_id}/{act}")
async def post_objection_act(request: Request, community_id: CommunityPath, objection_id: UUID,
                             act: str, who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    may_handle(who, community_id)
    if act not in ACTS:
        raise NotFoundError(f"no act {act!r}")
    if who.role not in ACT_ROLES[act]:
        raise PermissionDeniedError(f"a {who.role.value} does not record the {act}")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/objections"
    try:
        recorded = _record(ledger.community(community_id), who, act, objection_id, form)
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, recorded)


def _record(book: CommunityLedger, who: Principal, act: str, objection_id: UUID,
            form: Form) -> CommandResult:  # fmt: skip
    key = form.get("idempotency_key")
    if act == "verification":
        return book.verify_objection(who.actor(), key, objection_id, finding=form.get("finding"))
    if act == "dismissal":
        return book.dismiss_objection(who.actor(), key, objection_id, reason=form.get("reason"))
    if act == "correction-review":
        return book.review_correction(
            who.actor(),
            key,
            objection_id,
            stage=form.get("stage"),
            outcome=form.get("outcome"),
            opinion=form.get("opinion"),
        )
    if act == "correction":
        return book.publish_correction(who.actor(), key, objection_id)
    return book.draft_correction(
        who.actor(),
        key,
        objection_id,
        title=form.get("title"),
        body=form.get("body"),
        explanation=form.get("explanation"),
        attachments=[f.sha256 for f in form.files.get("attachments", [])],
    )
