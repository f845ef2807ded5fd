"""Sheets for the physical board (``/c/{id}/sheets?section=affairs``): one printed page
per posted item of a section, each with a QR code that opens the item's proof page.

The board on the wall is public, so the sheets show what the public sees, whoever prints
them: public items only, masked as on the public view. A clerk signed in cannot print an
internal item onto the street by mistake.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import segno
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.portal import views
from api.portal.routes import LangQuery, Page, PortalRoute, community_named
from api.portal.verify_page import key_context
from api.routes.reads import version_json
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep
from ledger.domain.vocabulary import SECTION_NAMES, Section
from ledger.domain.working_days import china_date
from ledger.errors import InvalidInputError
from ledger.seal.community_log import CommunityLog
from projections.board_projection import board_as_of
from projections.history import history
from projections.visibility import ANONYMOUS

router = APIRouter(route_class=PortalRoute, include_in_schema=False, tags=["portal"])
SectionQuery = Annotated[str, Query(description="affairs or finance")]


def qr_svg(url: str, label: str) -> Markup:
    """``url`` as an inline SVG QR code (error correction M: a sheet on a wall gets
    scratched), with ``label`` as its text alternative. segno escapes the label."""
    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=3, border=2, title=label, svgclass="qr"))  # noqa: S704


@router.get("/c/{community_id}/sheets")
def sheets_page(
    request: Request,
    community_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    section: SectionQuery = Section.AFFAIRS.value,
    lang: LangQuery = None,
) -> HTMLResponse:
    """The section's posted public items as printable sheets."""
    page = Page.of(request, lang)
    community = community_named(ledger, community_id)
    try:
        wanted = SECTION_NAMES[Section(section)]
    except ValueError:
        raise InvalidInputError(
            f"section is one of {', '.join(s.value for s in Section)}", field="section"
        ) from None
    today = china_date().isoformat()
    items = board_as_of(db, community_id)
    posted = dict(views.posted_sections(items, ANONYMOUS, community_id, public=True, day=today))
    configured: str | None = request.app.state.public_url
    base = configured or str(request.base_url).rstrip("/")
    sheets: list[dict[str, Any]] = []
    for item in posted.get(wanted, []):
        versions = history(db, community_id, UUID(item["disclosure_id"]))
        latest = version_json(versions[-1], public=True)
        proof = f"/c/{community_id}/items/{item['disclosure_id']}/proof"
        sheets.append(
            {
                "item": item,
                "body": latest["body"],
                "proof_url": base + proof,
                "qr": qr_svg(base + proof, item["title"]),
            }
        )
    return page.render(
        "sheets.html",
        community=community,
        section=wanted,
        sheets=sheets,
        review_parts=views.review_parts,
        scope_name=views.scope_name,
        # The key IDs only, for readers to compare: a sheet needs no checkpoint.
        **key_context(request, CommunityLog(ledger.store, community_id)),
    )
