"""The board (公开栏) as JSON: what each reader may see of it, now or as it stood after
any entry. The public view masks personal data."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Response

from api.service.as_of import AsOfDep
from api.service.deps import LedgerDep
from api.service.read_models import CurrentViews, CurrentViewsDep, ReadDBDep, ReaderDep
from ledger.application import Ledger
from projections.board import BoardItem
from projections.board_projection import BoardProjection, board_as_of
from projections.db import ReadDB
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
        # Every posting, a second channel's beside the first; a long-term item's has no
        # end, whatever its period says.
        "postings": [{"channel": c, "from": f, "until": u} for c, f, u in item.postings],
        "long_term": item.long_term,
        "posted_until": item.posted_until,
        "reviews": [mask_review(r) for r in item.reviews] if public else list(item.reviews),
        "corrections": item.corrections,
        "last_seq": item.last_seq,
    }


@dataclass(frozen=True, slots=True)
class CurrentBoard:
    """The board's items at one moment, and each answer made of them so far: the JSON of
    each view, by (public view, the scopes shown), and the portal's pages (whose keys
    start with "page")."""

    items: tuple[BoardItem, ...]
    scopes: frozenset[str]
    answers: dict[tuple[Any, ...], bytes] = field(default_factory=dict)
    _making: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def of(cls, items: list[BoardItem]) -> CurrentBoard:
        return cls(tuple(items), frozenset(item.scope for item in items))

    def answer(self, key: tuple[Any, ...], make: Callable[[], bytes]) -> bytes:
        """The answer kept under ``key``, made by ``make`` the first time. One request
        makes it while the others asking for it wait: when a new board replaces a stale
        one under load, every request in flight would otherwise render the same page at
        once, and the last of them would wait for all the others' work."""
        kept = self.answers.get(key)
        if kept is not None:
            return kept
        with self._making:
            kept = self.answers.get(key)
            if kept is None:
                kept = self.answers[key] = make()
        return kept


@router.get("/{community_id}/board", response_model=dict[str, Any])
def board(
    community_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    views: CurrentViewsDep,
    as_of: AsOfDep,
) -> Response:
    """Every disclosure the reader may see, in its current state (or after ``as_of``, or
    at time ``at``);
    ``projected_to`` says up to which entry the read model has caught up."""
    # The current board is read, and each view of it encoded, once per position of the
    # projection rather than per request (see CurrentViews).
    projected = tracked_position(db, BoardProjection.name, community_id)
    if as_of is None:
        current = current_board(ledger, db, views, community_id, projected)
    else:
        ledger.store.community(community_id)  # 404 for an unknown community
        current = CurrentBoard.of(board_as_of(db, community_id, as_of))
    public = sees_public_view(reader, community_id)
    shown = frozenset(s for s in current.scopes if can_see(reader, community_id, s))

    def encode() -> bytes:
        body = {
            "community": community_id,
            "as_of": as_of,
            "projected_to": projected,
            "public_view": public,
            "items": [item_json(i, public=public) for i in current.items if i.scope in shown],
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    return Response(current.answer((public, shown), encode), media_type="application/json")


def current_board(
    ledger: Ledger, db: ReadDB, views: CurrentViews, community_id: str, position: int
) -> CurrentBoard:
    """The current board at ``position``: the one kept, or else read, and kept if the
    projection was still at ``position`` after it was read."""
    kept = views.get(BoardProjection.name, community_id, position)
    if isinstance(kept, CurrentBoard):
        return kept  # of a community found before: communities are never removed
    with views.building(BoardProjection.name, community_id):
        kept = views.get(BoardProjection.name, community_id, position)
        if isinstance(kept, CurrentBoard):
            return kept  # built by the request this one waited for
        ledger.store.community(community_id)  # 404 for an unknown community
        current = CurrentBoard.of(board_as_of(db, community_id))
        if tracked_position(db, BoardProjection.name, community_id) == position:
            views.put(BoardProjection.name, community_id, position, current)
    return current
