"""The staff console (工作台): what waits for each signed-in person in their role, and the
forms that do it. Pages in the portal's templates and languages; every form works
without script, carries the session's CSRF token first and an idempotency key made
when the form was shown, so that a double click or a retried post records once; after
a post the browser is sent on (303) to the page of what it changed.

A page offers only the acts the reader's role may do; the ledger checks each again."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts import Principal, check_csrf
from api.console.forms import Form, read_form
from api.console.recipients import parse_recipients
from api.portal.routes import LangQuery, Page, PortalRoute, community_named, page_of
from api.routes.attachments import attachment_store
from api.routes.board import current_board
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import CurrentViews, CurrentViewsDep, ReadDBDep
from ledger.application import CommunityLedger, Ledger
from ledger.chain.idempotency import CommandResult
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
from ledger.errors import GongkaiError, InvalidInputError, NotFoundError, PermissionDeniedError
from ledger.seal.review_seal import key_ref, seal_key_verifier
from projections.audit_trail import acts_for
from projections.board import BoardItem
from projections.board_projection import BoardProjection
from projections.db import ReadDB
from projections.history import changes, history
from projections.inquiries import inquiries
from projections.recipients import key_ids, recipients_view
from projections.runner import tracked_position
from projections.seal_keys import keys_in_force
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


#: The read models a console page shows, and how long a page waits for them to reach
#: the act it follows (the worker applies an act within milliseconds of its commit).
SHOWN: Final = ("board", "history", "audit_trail", "seal_keys")
WAIT_SECONDS: Final = 3.0
SeenQuery = Annotated[int | None, Query(ge=0, description="the entry the page follows")]


def wait_for(
    db: ReadDB, community_id: str, seen: int | None, shown: Sequence[str] = SHOWN
) -> None:
    """Wait, a little, until the read models ``shown`` have applied entry ``seen``: the
    page after a form shows what the form did. If they lag further the page shows what
    they have."""
    if seen is None:
        return
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if all(tracked_position(db, name, community_id) >= seen for name in shown):
            return
        time.sleep(0.02)


def own_community(who: Principal, community_id: str) -> None:
    """The console acts in the account's own community only."""
    if who.community != community_id:
        raise NotFoundError(f"no community {community_id!r} in this account's console")


def own_or_street(who: Principal, community_id: str) -> None:
    """The account's own community, or any for a street-wide disciplinary auditor, who
    follows every community's handling."""
    street = who.community is None and who.role is Role.DISCIPLINARY_AUDITOR
    if not street:
        own_community(who, community_id)


#: The most items the console home lists besides those waiting for the reader.
RECENT: Final = 30


def items_of(
    ledger: Ledger, db: ReadDB, views: CurrentViews, who: Principal, community_id: str
) -> list[BoardItem]:
    """Every disclosure of the community in every state, of the scopes ``who`` may see:
    from the board the portal keeps for the read model's position (read once per new
    entry, not once per page)."""
    position = tracked_position(db, BoardProjection.name, community_id)
    board = current_board(ledger, db, views, community_id, position)
    reader = Reader(who.role, who.community)
    return [item for item in board.items if can_see(reader, community_id, item.scope)]


def escalated_counts(db: ReadDB, communities: Sequence[str]) -> dict[str, int]:
    """Each community's inquiries escalated and not yet closed by a meeting."""
    return {
        c: sum(1 for i in inquiries(db, c) if i.escalated is not None and i.meeting is None)
        for c in communities
    }


def registered_ref(db: ReadDB, who: Principal) -> str | None:
    """The ``<name>+<key ID>`` of the seal key registered for ``who``, if any."""
    if who.community is None:
        return None
    found = keys_in_force(db, who.community).get(who.username)
    return key_ref(seal_key_verifier(found.vkey)) if found else None


def stages_for(role: Role) -> list[ReviewStage]:
    """The review stages a role records."""
    return [stage for stage in ReviewStage if role in STAGE_ROLES[stage]]


@router.get("")
def home(request: Request, who: SignedIn, ledger: LedgerDep, db: ReadDBDep,
         views: CurrentViewsDep, lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """What waits for the signed-in person."""
    page = Page.of(request, lang)
    community = None
    waiting: list[BoardItem] = []
    others: list[BoardItem] = []
    if who.community is not None:
        community = community_named(ledger, who.community)
        for item in items_of(ledger, db, views, who, who.community):
            (waiting if who.role in WAITING.get(item.status, ()) else others).append(item)
        # The latest acts first; older items are on the board and in the audit trail.
        others = sorted(others, key=lambda i: i.last_seq, reverse=True)[:RECENT]
    return page.render(
        "console/home.html",
        **NAMES,
        who=who,
        community=community,
        waiting=waiting,
        others=others,
        may_draft=who.role in COMMAND_ROLES["draft_disclosure"],
        # Escalated inquiries reach the committee and the street's auditors.
        escalated_by=escalated_counts(db, [c.id for c in ledger.store.communities()]),
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
    return page.render("console/draft.html", **form_context(request, ledger, community_id))


def form_context(request: Request, ledger: Ledger, community_id: str) -> dict[str, Any]:
    session = getattr(request.state, "web_session", None)
    return {
        "community": community_named(ledger, community_id),
        "csrf_token": session.csrf_token if session is not None else "",
        "idempotency_key": str(uuid.uuid4()),
        "categories": sorted(CATEGORY_BY_CODE.values(), key=lambda c: c.code),
        "scopes": [(s.value, SCOPE_NAMES[s]) for s in Scope],
        "channels": [(c.value, CHANNEL_NAMES[c]) for c in Channel],
        "max_size": size_text(attachment_store(request).max_bytes),
        **NAMES,
    }


def size_text(size: int) -> str:
    """The largest file an upload may be, as the forms say it: 20MB, 64KB."""
    return f"{size >> 20}MB" if size >= 1 << 20 else f"{max(size >> 10, 1)}KB"


async def posted(request: Request, who: Principal | None) -> Form:
    """The form of a post, read as it streams in, its CSRF token checked first (when
    the browser has a session: a post anyone may make, such as a receipt's lookup,
    may come with none)."""
    session = getattr(request.state, "web_session", None)

    def check(token: str | None) -> None:
        if session is not None:  # a bearer token is never sent by the browser on its own
            check_csrf(session, token)

    return await read_form(request, attachment_store(request), check)


def done(page: Page, path: str, result: CommandResult | None = None) -> RedirectResponse:
    """On to ``path``, which waits for the act's last entry to be applied."""
    seen = str(result.last_seq) if result is not None else None
    return RedirectResponse(page.url(path, seen=seen), status_code=303)


def refused(page: Page, error: GongkaiError, back: str) -> HTMLResponse:
    """The ledger refused the act: say why, on a page that leads back."""
    status = 403 if isinstance(error, PermissionDeniedError) else 422
    return page.render("console/refused.html", status, detail=str(error), back=page.url(back))


@router.post("/c/{community_id}/new")
async def post_draft(request: Request, community_id: CommunityPath, who: SignedIn,
                     ledger: LedgerDep) -> Response:  # fmt: skip
    own_community(who, community_id)
    if who.role not in COMMAND_ROLES["draft_disclosure"]:
        raise PermissionDeniedError("only the community's clerk drafts disclosures")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/new"
    try:
        drafted = ledger.community(community_id).draft_disclosure(
            who.actor(),
            form.get("idempotency_key"),
            category=form.get("category"),
            title=form.get("title"),
            body=form.get("body"),
            scope=form.get("scope"),
            planned_from=form.get("planned_from"),
            planned_until=form.get("planned_until"),
            attachments=[f.sha256 for f in form.files.get("attachments", [])],
            recipients=parse_recipients(form.get("recipients")),
        )
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, f"/console/c/{community_id}/items/{drafted.result['id']}", drafted)


@router.get("/c/{community_id}/items/{disclosure_id}")
def item_page(request: Request, community_id: CommunityPath, disclosure_id: UUID,
              who: SignedIn, ledger: LedgerDep, db: ReadDBDep, views: CurrentViewsDep,
              lang: LangQuery = None, seen: SeenQuery = None) -> HTMLResponse:  # fmt: skip
    """One disclosure as its reviewer sees it: the exact content and files that will be
    posted, what changed from the version before, the reviews recorded, and the acts
    this reader may do next."""
    own_community(who, community_id)
    wait_for(db, community_id, seen)
    versions = history(db, community_id, disclosure_id)
    item = next(
        (i for i in items_of(ledger, db, views, who, community_id)
         if i.disclosure_id == disclosure_id), None)  # fmt: skip
    if not versions or item is None:
        raise NotFoundError(f"no disclosure {disclosure_id} in {community_id!r}")
    page = Page.of(request, lang)
    latest = versions[-1]
    diffs = [changes(old, new) for old, new in itertools.pairwise(versions)]
    acts = [a for a in acts_for(db, community_id, disclosure_id) if a.act == "reviewed"]
    role = who.role
    return page.render(
        "console/item.html",
        **form_context(request, ledger, community_id),
        item=item,
        latest=latest,
        # Members see an aid list's recipients whole, each opened with their key now.
        recipients=recipients_view(
            community_id,
            latest.recipients,
            ledger.community(community_id).personal_keys(key_ids(latest.recipients)),
            public=False,
        ),
        previous=versions[-2] if len(versions) > 1 else None,
        diff=diffs[-1] if diffs else None,
        acts=acts,
        may_submit=role in COMMAND_ROLES["submit_for_review"] and item.status in
        ("drafted", "rejected"),
        may_publish=role in COMMAND_ROLES["publish"] and item.status == "approved",
        may_object=role in COMMAND_ROLES["raise_objection"] and item.status == "published",
        review_stages=[s.value for s in stages_for(role)]
        if item.status in ("submitted", "approved") else [],
        # What the reviewer's browser seals (ledger.seal.review_seal): the version shown.
        seal_ref=registered_ref(db, who),
        seal_review={
            "community": community_id, "disclosure": str(disclosure_id),
            "version": latest.version, "category": latest.category, "scope": latest.scope,
            "title": latest.title, "body": latest.body, "attachments": list(latest.attachments),
        },
        script="/console/seal.js",
    )  # fmt: skip


#: The acts an item page posts, and the roles that may post each: refused before the
#: form is read (the ledger checks each act again).
ACTS: Final[dict[str, frozenset[Role]]] = {
    "submission": COMMAND_ROLES["submit_for_review"],
    "review": frozenset().union(*STAGE_ROLES.values()),
    "publication": COMMAND_ROLES["publish"],
    "objection": COMMAND_ROLES["raise_objection"],
}


@router.post("/c/{community_id}/items/{disclosure_id}/{act}")
async def post_act(request: Request, community_id: CommunityPath, disclosure_id: UUID, act: str,
                   who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    own_community(who, community_id)
    if act not in ACTS:
        raise NotFoundError(f"no act {act!r}")
    if who.role not in ACTS[act]:
        raise PermissionDeniedError(f"a {who.role.value} does not record the {act}")
    page = page_of(request)
    form = await posted(request, who)
    here = f"/console/c/{community_id}/items/{disclosure_id}"
    book = ledger.community(community_id)
    try:
        recorded = _record(book, who, act, disclosure_id, form)
    except GongkaiError as e:
        return refused(page, e, here)
    return done(page, here, recorded)


def version_number(text: str) -> int:
    if not text.isdigit():
        raise InvalidInputError("the version objected to is a number", field="version")
    return int(text)


def _record(book: CommunityLedger, who: Principal, act: str, disclosure_id: UUID,
            form: Form) -> CommandResult:  # fmt: skip
    key = form.get("idempotency_key")
    if act == "submission":
        return book.submit_for_review(who.actor(), key, disclosure_id)
    if act == "objection":
        return book.raise_objection(
            who.actor(),
            key,
            disclosure_id,
            disclosure_version=version_number(form.get("version")),
            objector=form.get("objector") or who.display_name or who.username,
            form=form.get("form"),
            content=form.get("content"),
        )
    if act == "review":
        return book.review(
            who.actor(),
            key,
            disclosure_id,
            stage=form.get("stage"),
            outcome=form.get("outcome"),
            opinion=form.get("opinion"),
            seal_key=form.get("seal_key"),
            seal_signature=form.get("seal_signature"),
        )
    return book.publish(
        who.actor(),
        key,
        disclosure_id,
        channel=form.get("channel"),
        period_from=form.get("period_from"),
        period_until=form.get("period_until"),
    )
