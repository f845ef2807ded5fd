"""Read the stored chain: communities, heads and entries as JSON.

Entries are shown as they are stored, whatever their scope, so the entries route is for
the community's leadership and the street's disciplinary auditors only; anyone may read
the heads, and check the record through the Merkle proofs and tiles, which carry hashes.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.params import MAX_SEQ
from api.service.read_models import reader_of
from ledger.chain.hashing import ChainedEvent
from ledger.errors import PermissionDeniedError
from projections.visibility import reads_everything

router = APIRouter(prefix="/v1/communities", tags=["ledger"])


def _state(state: bytes) -> Any:
    try:
        return json.loads(state)
    except ValueError:
        return {"base64": base64.b64encode(state).decode()}


def entry_json(e: ChainedEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "hash": e.hash.hex(),
        "prev_hash": e.prev_hash.hex(),
        "originator_id": str(e.originator_id),
        "originator_version": e.originator_version,
        "topic": e.topic,
        "state": _state(e.state),
    }


@router.get("")
def list_communities(ledger: LedgerDep) -> list[dict[str, str]]:
    return [{"id": c.id, "name": c.name} for c in ledger.store.communities()]


@router.get("/{community_id}/head")
def head(community_id: str, ledger: LedgerDep) -> dict[str, Any]:
    h = ledger.community(community_id).head()
    return {"community": community_id, "seq": h.seq, "hash": h.hash.hex()}


@router.get("/{community_id}/events")
def events(
    community_id: str,
    ledger: LedgerDep,
    principal: SignedIn,
    after: Annotated[
        int, Query(ge=0, le=MAX_SEQ, description="entries with seq greater than this")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    if not reads_everything(reader_of(principal), community_id):
        raise PermissionDeniedError(
            "the stored entries show every scope: only the community's leadership and the "
            "disciplinary auditors may read them"
        )
    entries = ledger.community(community_id).entries(after=after, limit=limit)
    return {
        "community": community_id,
        "events": [entry_json(e) for e in entries],
        "next_after": entries[-1].seq if entries else after,
    }
