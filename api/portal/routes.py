"""The public portal's pages: the street's communities, each community's board (now, or
as it stood at the end of a day) and each item's versions. HTML, Chinese unless
``?lang=en``; errors are pages too, never problem+json. The pages are for people, not
API clients, so they stay out of the OpenAPI document (and its fuzzing, which expects
problem+json); the authorization matrix still covers them."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any, Final
from urllib.parse import urlencode
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from api.accounts.errors import AuthenticationError
from api.portal import i18n, views
from api.routes import feedback
from api.routes.board import current_board
from api.service.auth import SESSION_COOKIE, WWW_AUTHENTICATE, CurrentAccount
from api.service.deps import LedgerDep
from api.service.read_models import CurrentViews, CurrentViewsDep, ReadDBDep, ReaderDep
from ledger.application import Ledger
from ledger.attachments import AttachmentTooLargeError, UnsupportedMediaTypeError
from ledger.domain.permissions import COMMAND_ROLES
from ledger.domain.vocabulary import SECTION_NAMES
from ledger.domain.working_days import china_date
from ledger.errors import (
    GongkaiError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
)
from ledger.store.base import Community
from projections.board import BoardItem
from projections.board_projection import BoardProjection, board_as_of
from projections.clock import seq_at
from projections.db import ReadDB
from projections.history import ContentVersion, objections
from projections.opinions import OpinionsProjection, counts, opinions
from projections.recipients import key_ids
from projections.runner import tracked_position
from projections.visibility import Reader, can_see, sees_public_view

#: The pages load nothing from elsewhere: the one stylesheet is inline, the verify pages'
#: one script and the proofs it fetches come from here, and forms post here.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
# What a page says for each error it answers, by the first class that matches.
_ERRORS: Final[list[tuple[type[GongkaiError], int]]] = [
    (NotFoundError, 404),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (AttachmentTooLargeError, 413),
    (UnsupportedMediaTypeError, 415),
    (InvalidInputError, 422),
    (StoreError, 503),
]


class Page:
    """What every template needs: the language, and links that keep it."""

    def __init__(self, request: Request, lang: str) -> None:
        self.request = request
        self.lang = lang
        self.html_lang = i18n.LANGUAGES[lang][0]

    @classmethod
    def of(cls, request: Request, lang: str | None) -> Page:
        """The page in the language ``?lang=`` asks for (the default if unknown)."""
        return cls(request, i18n.language(lang))

    def url(self, path: str, **params: str | None) -> str:
        """``path`` with ``params`` (None ones left out) and the page's language."""
        query = {k: v for k, v in params.items() if v is not None}
        if self.lang != i18n.SOURCE:
            query["lang"] = self.lang
        return path + ("?" + urlencode(query) if query else "")

    def switch_url(self) -> str:
        """This page in the other language, with its other parameters kept."""
        query = {k: v for k, v in self.request.query_params.items() if k != "lang"}
        if self.lang == i18n.SOURCE:
            query["lang"] = "en"
        return self.request.url.path + ("?" + urlencode(query) if query else "")

    def html(self, template: str, **context: Any) -> bytes:
        """``template`` rendered in the page's language."""
        return (
            i18n.environment(self.lang)
            .get_template(template)
            .render(
                page=self,
                category_name=lambda code: i18n.category_name(code, self.lang),
                date_text=lambda iso: i18n.date_text(iso, self.lang),
                **context,
            )
            .encode()
        )

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return self.respond(self.html(template, **context), status)

    def respond(self, body: bytes, status: int = 200, *, gzipped: bool = False) -> HTMLResponse:
        """A page already rendered (and compressed, if ``gzipped``), with the portal's
        headers."""
        headers = {**SECURITY_HEADERS, "Content-Language": self.html_lang}
        if gzipped:
            headers |= {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return HTMLResponse(body, status_code=status, headers=headers)


def page_of(request: Request) -> Page:
    return Page.of(request, request.query_params.get("lang"))


def error_page(request: Request, status: int) -> HTMLResponse:
    """The page for an error; a 401 offers the sign-in form, coming back here after."""
    page = page_of(request)
    if status != 401:
        return page.render("error.html", status, error=status)
    sent = "authorization" in request.headers or SESSION_COOKIE in request.cookies
    # A sign-in that failed comes back here with ?sign_in=failed or throttled (routes/auth).
    problem = request.query_params.get("sign_in")
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "sign_in"])
    here = request.url.path + ("?" + query if query else "")
    response = page.render(
        "error.html",
        401,
        error=401 if sent else "sign-in",
        next_path=here,
        sign_in_problem=problem if problem in ("failed", "throttled") else None,
    )
    response.headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response


class PortalRoute(APIRoute):
    """A route whose errors, raised by its dependencies (a refused token, the read
    models not yet created) or by itself, are answered as pages in the reader's
    language rather than by the API's problem+json handlers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_errors_as_pages(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                return page_of(request).render("error.html", 422, error=422)
            except GongkaiError as e:
                status = next((s for cls, s in _ERRORS if isinstance(e, cls)), None)
                if status is None:
                    raise  # no page for it: the API's handler answers
                return error_page(request, status)

        return answer_errors_as_pages


router = APIRouter(route_class=PortalRoute, include_in_schema=False, tags=["portal"])
LangQuery = Annotated[str | None, Query(description="en for English")]
DateQuery = Annotated[str | None, Query(description="YYYY-MM-DD: the end of that day, UTC+8")]


def community_named(ledger: Ledger, community_id: str) -> Community:
    try:
        return ledger.store.community(community_id)
    except InvalidInputError:
        # An ID no community could have names no community: the same page as an unknown one.
        raise NotFoundError(f"no community {community_id!r}") from None


def entry_at(db: ReadDB, community_id: str, day: str | None) -> int | None:
    """The entry the record had reached at the end of ``day`` in China time (None: now)."""
    if day is None:
        return None
    _, when = views.end_of_day(day)
    return seq_at(db, community_id, when)


@router.get("/")
def index(request: Request, ledger: LedgerDep, lang: LangQuery = None) -> HTMLResponse:
    """The street's communities, each linking to its board."""
    page = Page.of(request, lang)
    communities = sorted(ledger.store.communities(), key=lambda c: c.id)
    return page.render("index.html", communities=communities)


@router.get("/c/{community_id}")
def board_page(
    request: Request,
    community_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    kept_views: CurrentViewsDep,
    lang: LangQuery = None,
    date: DateQuery = None,
) -> HTMLResponse:
    """What is posted on the community's board, by section: now, or at the end of
    ``date``. The current board is read once per position of its projection, with the
    JSON route's :func:`~api.routes.board.current_board`, and each view of it rendered
    once: the page depends on nothing else when it has no parameter but ``lang``."""
    page = Page.of(request, lang)
    public = sees_public_view(reader, community_id)

    # The day it is judged on: an item's posting ends with its period (已到期).
    day = date if date is not None else china_date().isoformat()

    def render(items: Sequence[BoardItem], as_of: int | None) -> bytes:
        return page.html(
            "board.html",
            opinion_counts=counts(db, community_id, as_of),
            community=community_named(ledger, community_id),
            sections=views.posted_sections(items, reader, community_id, public=public, day=day),
            past=views.past_items(items, reader, community_id, public=public, day=day),
            date=date,
            as_of=as_of,
            public=public,
            review_parts=views.review_parts,
            scope_name=views.scope_name,
            section_codes={name: section.value for section, name in SECTION_NAMES.items()},
        )

    if date is not None:
        as_of = entry_at(db, community_id, date)
        return page.respond(render(board_as_of(db, community_id, as_of), as_of))
    projected = tracked_position(db, BoardProjection.name, community_id)
    try:
        current = current_board(ledger, db, kept_views, community_id, projected)
    except InvalidInputError:
        # An ID no community could have names no community, as on every page.
        raise NotFoundError(f"no community {community_id!r}") from None
    if not set(request.query_params) <= {"lang"}:
        return page.respond(render(current.items, projected))
    shown = frozenset(s for s in current.scopes if can_see(reader, community_id, s))
    # The opinions' read model moves on its own: the page kept names where it stood.
    heard = tracked_position(db, OpinionsProjection.name, community_id)
    key = ("page", page.lang, public, shown, heard, day)
    body = current.answer(key, lambda: render(current.items, projected))
    if not accepts_gzip(request.headers.get("accept-encoding", "")):
        return page.respond(body)
    # Compressed once per board and view, as it is rendered: a phone on a mobile network
    # gets a tenth of the bytes, and no request pays for compressing.
    packed = current.answer((*key, "gzip"), lambda: gzip.compress(body, mtime=0))
    return page.respond(packed, gzipped=True)


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header (RFC 9110 section 12.5.3) takes gzip: named, or
    covered by "*", and not with q=0."""
    weights: dict[str, float] = {}
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        weight = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        weights[coding.strip().lower()] = weight
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


def visible_versions(
    db: ReadDB, reader: Reader, community_id: str, disclosure_id: str, as_of: int | None = None
) -> tuple[UUID, list[ContentVersion]]:
    """An item's ID and versions, if ``reader`` may see it; else not found, as on the
    history route (an item the reader may not see does not exist for them)."""
    try:
        key = UUID(disclosure_id)
    except ValueError:
        raise NotFoundError(f"no disclosure {disclosure_id!r}") from None
    return key, feedback.visible_versions(db, reader, community_id, key, as_of)


@router.get("/c/{community_id}/items/{disclosure_id}")
def item_page(
    request: Request,
    community_id: str,
    disclosure_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    principal: CurrentAccount,
    kept_views: CurrentViewsDep,
    lang: LangQuery = None,
    date: DateQuery = None,
) -> HTMLResponse:
    """Every version of one item, with what changed between each and the next, its
    objections and what came of them, and its opinions with their answers; an item the
    reader may not see is not found, as on the history route."""
    page = Page.of(request, lang)
    community = community_named(ledger, community_id)
    as_of = entry_at(db, community_id, date)
    key, versions = visible_versions(db, reader, community_id, disclosure_id, as_of)
    public = sees_public_view(reader, community_id)
    acts = objections(db, community_id, key, as_of)
    own = principal.username if principal else None
    found = opinions(db, community_id, str(key), as_of)
    posted = date is None and _is_posted(ledger, db, kept_views, community_id, key)
    session = getattr(request.state, "web_session", None)
    return page.render(
        "item.html",
        community=community,
        disclosure_id=str(key),
        versions=views.version_views(
            versions,
            public=public,
            community_id=community_id,
            keys=ledger.community(community_id).personal_keys(
                {k for v in versions for k in key_ids(v.recipients)}
            ),
        ),
        objections=views.item_objections(acts, versions[-1].title, public=public),
        opinions=feedback.shown_opinions(found, reader, community_id, own),
        # The form for a signed-in resident or representative of the community, while
        # the item is posted; its CSRF token is the session's.
        opinion_form=posted
        and reader.member_of(community_id)
        and reader.role in COMMAND_ROLES["leave_opinion"],
        sign_in_to_opine=posted and reader.role is None,
        csrf_token=session.csrf_token if session is not None else "",
        idempotency_key=str(uuid4()),
        date=date,
        public=public,
        scope_name=views.scope_name,
        recorded_text=views.recorded_text,
    )


def _is_posted(
    ledger: Ledger, db: ReadDB, kept_views: CurrentViews, community_id: str, key: UUID
) -> bool:
    """Whether the item is posted now, by the board kept for its read model's position."""
    position = tracked_position(db, BoardProjection.name, community_id)
    board = current_board(ledger, db, kept_views, community_id, position)
    return any(i.disclosure_id == key and i.status == "published" for i in board.items)
