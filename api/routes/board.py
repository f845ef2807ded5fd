"""The board (公开栏) as JSON: what each reader may see of it, now or as it stood after
any entry. The public view masks personal data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import LedgerDep
from api.read_models import ReadDBDep, ReaderDep
from projections.board import BoardItem
from projections.board_projection import BoardProjection, board_as_of
from projections.masking import mask_review, mask_text
from projections.runner import tracked_position
from projections.visibility import can_see, sees_public_view

router = APIRouter(prefix="/v1/communities", tags=["board"])


def item_json(item: BoardItem, *, public: bool) -> dict[str, Any]:
    return {
        "disclosure_id": str(item.disclosure_id),
        "category": item.category,
        "title": mask_text(item.title) if public else item.title,
        "scope": item.scope,
        "status": item.status,
        "period_from": item.period_from,
        "period_until": item.period_until,
        "channel": item.channel,
        "reviews": [mask_review(r) for r in item.reviews] if public else list(item.reviews),
        "corrections": item.corrections,
        "last_seq": item.last_seq,
    }


@router.get("/{community_id}/board")
def board(
    community_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: Annotated[
        int | None, Query(ge=0, description="the board as it stood after this entry")
    ] = None,
) -> dict[str, Any]:
    """Every disclosure the reader may see, in its current state (or after ``as_of``);
    ``projected_to`` says up to which entry the read model has caught up."""
    ledger.store.community(community_id)  # 404 for an unknown community
    projected = tracked_position(db, BoardProjection.name, community_id)
    public = sees_public_view(reader, community_id)
    items = [
        item_json(item, public=public)
        for item in board_as_of(db, community_id, as_of)
        if can_see(reader, community_id, item.scope)
    ]
    return {
        "community": community_id,
        "as_of": as_of,
        "projected_to": projected,
        "public_view": public,
        "items": items,
    }
