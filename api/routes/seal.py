"""The seal over HTTP: checkpoints with their cosignatures, proofs, tiles and keys.

Checkpoints and proofs are served in their C2SP text forms (``text/plain``), so that
tools written for other transparency logs can check them; JSON views sit beside them.
Everything here is public: a checkpoint, a proof or a key reveals no content.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.service.deps import LedgerDep
from api.service.params import MAX_SEQ
from ledger.errors import InvalidInputError
from ledger.seal.community_log import CommunityLog, InclusionProof
from ledger.seal.tlog_proof import TlogProof, format_tlog_proof
from ledger.store.base import Cosigner, StoredCheckpoint

router = APIRouter(prefix="/v1/communities", tags=["seal"])

TEXT = "text/plain; charset=utf-8"
# Mutable resources (the latest checkpoint) may be cached for a few seconds only.
SHORT_CACHE = {"Cache-Control": "public, max-age=5"}
MAX_COSIGNATURE_BYTES = 4096
LONG_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}
TreeSize = Annotated[int, Path(ge=0, le=MAX_SEQ)]


def _log(ledger: LedgerDep, community_id: str) -> CommunityLog:
    ledger.store.community(community_id)
    return CommunityLog(ledger.store, community_id)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def cosigner_json(c: Cosigner) -> dict[str, Any]:
    return {
        "vkey": c.vkey,
        "name": c.name,
        "key_id": c.key_id.hex(),
        "role": c.role,
        "label": c.label,
    }


def _checkpoints_json(log: CommunityLog, checkpoints: list[StoredCheckpoint]) -> list[Any]:
    """Each checkpoint with the seals it carries, named by the accepted cosigners' keys;
    one query for all their cosignatures."""
    known = {(c.name, c.key_id): c for c in log.cosigners()}
    seals: dict[int, list[dict[str, Any]]] = {}
    for s in log.seal.cosignatures([cp.tree_size for cp in checkpoints]):
        cosigner = known.get((s.key_name, s.key_id))
        who = (
            cosigner_json(cosigner) if cosigner else {"name": s.key_name, "key_id": s.key_id.hex()}
        )
        seals.setdefault(s.tree_size, []).append({**who, "timestamp": s.timestamp})
    return [
        {
            "tree_size": cp.tree_size,
            "root": _b64(cp.root),
            "signed_at": cp.signed_at,
            "seals": seals.get(cp.tree_size, []),
        }
        for cp in checkpoints
    ]


@router.get("/{community_id}/checkpoint", response_class=PlainTextResponse)
def latest_checkpoint(community_id: str, ledger: LedgerDep) -> Response:
    """The latest signed checkpoint with every cosignature (C2SP signed note)."""
    log = _log(ledger, community_id)
    note = log.cosigned_note(log.latest_checkpoint())
    return PlainTextResponse(note, media_type=TEXT, headers=SHORT_CACHE)


@router.get("/{community_id}/checkpoints")
def list_checkpoints(
    community_id: str,
    ledger: LedgerDep,
    below: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="only sizes below this")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Signed checkpoints, largest first, with the seals each carries."""
    log = _log(ledger, community_id)
    checkpoints = log.seal.checkpoints(limit=limit, below=below)
    return {"community": community_id, "checkpoints": _checkpoints_json(log, checkpoints)}


@router.get("/{community_id}/checkpoints/{tree_size}", response_class=PlainTextResponse)
def checkpoint_by_size(community_id: str, tree_size: TreeSize, ledger: LedgerDep) -> Response:
    log = _log(ledger, community_id)
    note = log.cosigned_note(log.checkpoint(tree_size))
    return PlainTextResponse(note, media_type=TEXT, headers=LONG_CACHE)


@router.post("/{community_id}/checkpoints/{tree_size}/cosignatures", status_code=201)
async def add_cosignature(
    community_id: str, tree_size: TreeSize, request: Request, ledger: LedgerDep
) -> dict[str, Any]:
    """Add a committee member's or witness's cosignature: the body is one C2SP
    ``tlog-cosignature`` line by an accepted key."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_COSIGNATURE_BYTES:
            raise InvalidInputError(
                f"a cosignature line is at most {MAX_COSIGNATURE_BYTES} bytes",
                field="cosignature",
            )
    body = raw.decode("utf-8", errors="replace")
    log = _log(ledger, community_id)
    cosigner, added = log.add_cosignature(tree_size, body)
    return {"tree_size": tree_size, "cosigner": cosigner_json(cosigner), "added": added}


def _proof_json(p: InclusionProof) -> dict[str, Any]:
    return {
        "seq": p.seq,
        "leaf_index": p.leaf_index,
        "tree_size": p.tree_size,
        "entry_hash": p.entry_hash.hex(),
        "leaf_hash": _b64(p.leaf_hash),
        "hashes": [_b64(h) for h in p.hashes],
        "checkpoint": p.checkpoint,
    }


def proof_text(p: InclusionProof) -> str:
    return format_tlog_proof(TlogProof(p.leaf_index, p.hashes, p.checkpoint))


@router.get("/{community_id}/proof/inclusion", response_model=None)
def inclusion(
    community_id: str,
    ledger: LedgerDep,
    seq: Annotated[int, Query(ge=1, le=MAX_SEQ, description="the chain entry")],
    tree_size: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="a signed size; default latest")
    ] = None,
    format: Annotated[str, Query(pattern="^(json|text)$")] = "json",
) -> dict[str, Any] | Response:
    """Entry ``seq``'s inclusion proof in a signed checkpoint: JSON, or the C2SP
    ``tlog-proof`` text with ``format=text``."""
    proof = _log(ledger, community_id).inclusion(seq, tree_size)
    if format == "text":
        return PlainTextResponse(proof_text(proof), media_type=TEXT)
    return _proof_json(proof)


@router.get("/{community_id}/proof/consistency")
def consistency(
    community_id: str,
    ledger: LedgerDep,
    old: Annotated[int, Query(alias="from", ge=0, le=MAX_SEQ)],
    new: Annotated[int, Query(alias="to", ge=0, le=MAX_SEQ)],
) -> dict[str, Any]:
    """The RFC 6962 consistency proof between two tree sizes."""
    hashes = _log(ledger, community_id).consistency(old, new)
    return {"from": old, "to": new, "hashes": [_b64(h) for h in hashes]}


@router.get("/{community_id}/keys")
def keys(community_id: str, ledger: LedgerDep, request: Request) -> dict[str, Any]:
    """The verifier keys: the log's (from its latest checkpoint) and the accepted
    cosigners'. Pin them out of band: a server could lie about its own keys."""
    log = _log(ledger, community_id)
    log_keys: dict[str, str] = request.app.state.log_vkeys
    return {
        "community": community_id,
        "log": log_keys.get(community_id),
        "cosigners": [cosigner_json(c) for c in log.cosigners()],
    }
