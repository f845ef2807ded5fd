"""The staff console (工作台): what waits for each signed-in person in their role, and the
forms that do it. Pages in the portal's templates and languages; every form works
without script, carries the session's CSRF token first and an idempotency key made
when the form was shown, so that a double click or a retried post records once; after
a post the browser is sent on (303) to the page of what it changed.

A page offers only the acts the reader's role may do; the ledger checks each again."""

from __future__ import annotations

import itertools
import uuid
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts import Principal, check_csrf
from api.console.forms import Form, read_form
from api.portal.routes import LangQuery, Page, PortalRoute, community_named, page_of
from api.routes.attachments import attachment_store
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep
from ledger.application import CommunityLedger, Ledger
from ledger.domain.permissions import COMMAND_ROLES
from ledger.domain.vocabulary import (
    CATEGORY_BY_CODE,
    CHANNEL_NAMES,
    ROLE_NAMES,
    SCOPE_NAMES,
    STAGE_NAMES,
    STAGE_ROLES,
    Channel,
    ReviewStage,
    Role,
    Scope,
)
from ledger.errors import GongkaiError, NotFoundError, PermissionDeniedError
from projections.audit_trail import acts_for
from projections.board import BoardItem
from projections.board_projection import board_as_of
from projections.db import ReadDB
from projections.history import changes, history
from projections.visibility import Reader, can_see

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)
CommunityPath = Annotated[str, Path(max_length=64)]

#: What each status waits for, by the roles who do it next.
WAITING: Final[dict[str, frozenset[Role]]] = {
    "drafted": frozenset({Role.CLERK}),
    "rejected": frozenset({Role.CLERK}),
    "approved": frozenset({Role.CLERK, Role.PARTY_REVIEWER, Role.COMMITTEE_CHAIR}),
    "submitted": frozenset(
        {Role.COMMITTEE_MEMBER, Role.COMMITTEE_CHAIR, Role.PARTY_REVIEWER, Role.CLERK}
    ),
}


#: The states of a disclosure as the console names them.
STATUS_NAMES: Final[dict[str, Any]] = {
    "drafted": "草稿",
    "submitted": "待审核",
    "approved": "审核通过",
    "rejected": "审核未通过",
    "published": "已公开",
    "withdrawn": "已撤回",
    "archived": "已归档",
}
#: The names every console page may show (each translated in the page's language).
NAMES: Final[dict[str, Any]] = {
    "status_names": STATUS_NAMES,
    "role_names": {role.value: name for role, name in ROLE_NAMES.items()},
    "scope_names": {scope.value: name for scope, name in SCOPE_NAMES.items()},
    "stage_names": {stage.value: name for stage, name in STAGE_NAMES.items()},
}


def own_community(who: Principal, community_id: str) -> None:
    """The console acts in the account's own community only."""
    if who.community != community_id:
        raise NotFoundError(f"no community {community_id!r} in this account's console")


def items_of(db: ReadDB, who: Principal, community_id: str) -> list[BoardItem]:
    """Every disclosure of the community in every state, of the scopes ``who`` may see."""
    reader = Reader(who.role, who.community)
    return [
        item for item in board_as_of(db, community_id) if can_see(reader, community_id, item.scope)
    ]


def stages_for(role: Role) -> list[ReviewStage]:
    """The review stages a role records."""
    return [stage for stage in ReviewStage if role in STAGE_ROLES[stage]]


@router.get("")
def home(request: Request, who: SignedIn, ledger: LedgerDep, db: ReadDBDep,
         lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """What waits for the signed-in person."""
    page = Page.of(request, lang)
    community = None
    waiting: list[BoardItem] = []
    others: list[BoardItem] = []
    if who.community is not None:
        community = community_named(ledger, who.community)
        for item in items_of(db, who, who.community):
            (waiting if who.role in WAITING.get(item.status, ()) else others).append(item)
    return page.render(
        "console/home.html",
        **NAMES,
        who=who,
        community=community,
        waiting=waiting,
        others=others,
        may_draft=who.role in COMMAND_ROLES["draft_disclosure"],
        communities=sorted(ledger.store.communities(), key=lambda c: c.id),
    )


@router.get("/c/{community_id}/new")
def new_draft(request: Request, community_id: CommunityPath, who: SignedIn, ledger: LedgerDep,
              lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """The form of a new disclosure, with its attachments."""
    own_community(who, community_id)
    if who.role not in COMMAND_ROLES["draft_disclosure"]:
        raise PermissionDeniedError("only the community's clerk drafts disclosures")
    page = Page.of(request, lang)
    return page.render("console/draft.html", **_form_context(request, ledger, community_id))


def _form_context(request: Request, ledger: Ledger, community_id: str) -> dict[str, Any]:
    session = getattr(request.state, "web_session", None)
    return {
        "community": community_named(ledger, community_id),
        "csrf_token": session.csrf_token if session is not None else "",
        "idempotency_key": str(uuid.uuid4()),
        "categories": sorted(CATEGORY_BY_CODE.values(), key=lambda c: c.code),
        "scopes": [(s.value, SCOPE_NAMES[s]) for s in Scope],
        "channels": [(c.value, CHANNEL_NAMES[c]) for c in Channel],
        **NAMES,
    }


async def _posted(request: Request, who: Principal) -> Form:
    """The form of a post, read as it streams in, its CSRF token checked first."""
    session = getattr(request.state, "web_session", None)

    def check(token: str | None) -> None:
        if session is not None:  # a bearer token is never sent by the browser on its own
            check_csrf(session, token)

    return await read_form(request, attachment_store(request), check)


def _done(page: Page, path: str) -> RedirectResponse:
    return RedirectResponse(page.url(path), status_code=303)


def _refused(page: Page, error: GongkaiError, back: str) -> HTMLResponse:
    """The ledger refused the act: say why, on a page that leads back."""
    status = 403 if isinstance(error, PermissionDeniedError) else 422
    return page.render("console/refused.html", status, detail=str(error), back=page.url(back))


@router.post("/c/{community_id}/new")
async def post_draft(request: Request, community_id: CommunityPath, who: SignedIn,
                     ledger: LedgerDep) -> Response:  # fmt: skip
    own_community(who, community_id)
    page = page_of(request)
    form = await _posted(request, who)
    back = f"/console/c/{community_id}/new"
    try:
        done = ledger.community(community_id).draft_disclosure(
            who.actor(),
            form.get("idempotency_key"),
            category=form.get("category"),
            title=form.get("title"),
            body=form.get("body"),
            scope=form.get("scope"),
            planned_from=form.get("planned_from"),
            planned_until=form.get("planned_until"),
            attachments=[f.sha256 for f in form.files.get("attachments", [])],
        )
    except GongkaiError as e:
        return _refused(page, e, back)
    return _done(page, f"/console/c/{community_id}/items/{done.result['id']}")


@router.get("/c/{community_id}/items/{disclosure_id}")
def item_page(request: Request, community_id: CommunityPath, disclosure_id: UUID,
              who: SignedIn, ledger: LedgerDep, db: ReadDBDep,
              lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """One disclosure as its reviewer sees it: the exact content and files that will be
    posted, what changed from the version before, the reviews recorded, and the acts
    this reader may do next."""
    own_community(who, community_id)
    versions = history(db, community_id, disclosure_id)
    item = next((i for i in items_of(db, who, community_id) if i.disclosure_id == disclosure_id),
                None)  # fmt: skip
    if not versions or item is None:
        raise NotFoundError(f"no disclosure {disclosure_id} in {community_id!r}")
    page = Page.of(request, lang)
    latest = versions[-1]
    diffs = [changes(old, new) for old, new in itertools.pairwise(versions)]
    acts = [a for a in acts_for(db, community_id, disclosure_id) if a.act == "reviewed"]
    role = who.role
    return page.render(
        "console/item.html",
        **_form_context(request, ledger, community_id),
        item=item,
        latest=latest,
        previous=versions[-2] if len(versions) > 1 else None,
        diff=diffs[-1] if diffs else None,
        acts=acts,
        may_submit=role in COMMAND_ROLES["submit_for_review"] and item.status in
        ("drafted", "rejected"),
        may_publish=role in COMMAND_ROLES["publish"] and item.status == "approved",
        review_stages=[s.value for s in stages_for(role)]
        if item.status in ("submitted", "approved") else [],
    )  # fmt: skip


ACTS: Final = ("submission", "review", "publication")


@router.post("/c/{community_id}/items/{disclosure_id}/{act}")
async def post_act(request: Request, community_id: CommunityPath, disclosure_id: UUID, act: str,
                   who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    own_community(who, community_id)
    if act not in ACTS:
        raise NotFoundError(f"no act {act!r}")
    page = page_of(request)
    form = await _posted(request, who)
    here = f"/console/c/{community_id}/items/{disclosure_id}"
    book = ledger.community(community_id)
    try:
        _record(book, who, act, disclosure_id, form)
    except GongkaiError as e:
        return _refused(page, e, here)
    return _done(page, here)


def _record(book: CommunityLedger, who: Principal, act: str, disclosure_id: UUID,
            form: Form) -> None:  # fmt: skip
    key = form.get("idempotency_key")
    if act == "submission":
        book.submit_for_review(who.actor(), key, disclosure_id)
    elif act == "review":
        book.review(
            who.actor(),
            key,
            disclosure_id,
            stage=form.get("stage"),
            outcome=form.get("outcome"),
            opinion=form.get("opinion"),
        )
    else:
        book.publish(
            who.actor(),
            key,
            disclosure_id,
            channel=form.get("channel"),
            period_from=form.get("period_from"),
            period_until=form.get("period_until"),
        )
