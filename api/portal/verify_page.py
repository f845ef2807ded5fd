"""The verify pages: the community's latest signed checkpoint with the keys that signed
and cosigned it (``/c/{id}/verify``), and an item's proof page (``/c/{id}/items/{d}/proof``),
where the reader's browser checks each version's inclusion in that checkpoint with
``static/verify.js``.

What the browser may recompute depends on what the reader may see. The stored bytes of
a version carry the record as written: unmasked, with the clerk's name. A reader who sees
the item unmasked (its community's members and the auditors) gets those bytes, and the
browser hashes them into the chain entry the proof is about, so that the title and body
on the page are proven to be the ones in the sealed log. The public view is masked, so
the public gets no stored bytes: its browser proves that the entries the server names are
in the sealed log, and the page says that the content itself is checked only on the
unmasked view.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from importlib.resources import files
from typing import Any, Final
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from api.portal import views
from api.portal.routes import LangQuery, Page, PortalRoute, community_named, visible_versions
from api.routes.reads import version_json
from api.routes.seal import cosigner_json
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep, ReaderDep
from ledger.application import Ledger
from ledger.chain.hashing import ChainedEvent
from ledger.errors import NotFoundError
from ledger.seal.community_log import CommunityLog
from ledger.store.base import Community, StoredCheckpoint
from projections.audit_trail import acts_for
from projections.db import ReadDB
from projections.history import ContentVersion
from projections.masking import mask_name
from projections.seal_keys import registered_keys
from projections.visibility import sees_public_view

router = APIRouter(route_class=PortalRoute, include_in_schema=False, tags=["portal"])

#: Where the pages load their one script from (this site only; see the CSP).
SCRIPT_PATH: Final = "/portal/verify.js"


@functools.cache
def _script() -> bytes:
    return (files("api.portal") / "static" / "verify.js").read_bytes()


@router.get(SCRIPT_PATH)
def verify_script() -> Response:
    """The browser's verifier; revalidated on each use, so a fix reaches readers."""
    return Response(
        _script(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def key_id_hex(vkey: str) -> str:
    """A verifier key's ID, the part of it a reader compares with the printed board."""
    parts = vkey.split("+", 2)  # the name holds no "+"; the base64 key may
    return parts[1] if len(parts) == 3 else ""


def key_context(request: Request, log: CommunityLog) -> dict[str, Any]:
    """The keys that sign and cosign the log's checkpoints, as the pages show them."""
    log_key: str | None = request.app.state.log_vkeys.get(log.community_id)
    return {
        "log_key": log_key,
        "log_key_id": key_id_hex(log_key or ""),
        "cosigners": [cosigner_json(c) for c in log.cosigners()],
        "cosigner_role": views.cosigner_role,
    }


def seal_context(request: Request, ledger: Ledger, community: Community) -> dict[str, Any]:
    """The latest checkpoint (None before the first is signed) and the keys to check it."""
    log = CommunityLog(ledger.store, community.id)
    latest: StoredCheckpoint | None
    try:
        latest = log.latest_checkpoint()
    except NotFoundError:
        latest = None
    return {
        **key_context(request, log),
        "checkpoint": latest,
        "note": log.cosigned_note(latest) if latest else "",
        "root_b64": base64.b64encode(latest.root).decode() if latest else "",
        "script": SCRIPT_PATH,
        "recorded_text": views.recorded_text,
    }


@router.get("/c/{community_id}/verify")
def verify_page(
    request: Request, community_id: str, ledger: LedgerDep, lang: LangQuery = None
) -> HTMLResponse:
    """The latest signed checkpoint and its signers, checked in the browser."""
    page = Page.of(request, lang)
    community = community_named(ledger, community_id)
    return page.render(
        "verify.html",
        community=community,
        item=None,
        entries=[],
        seals=[],
        public=True,
        **seal_context(request, ledger, community),
    )


def stored_json(event: ChainedEvent) -> dict[str, Any]:
    """An entry as the browser hashes it (the chain's fields; bytes as hex, base64)."""
    return {
        "prev_hash": event.prev_hash.hex(),
        "originator_id": event.originator_id.hex,
        # A string: JavaScript's numbers are exact only up to 2^53.
        "originator_version": str(event.originator_version),
        "topic": event.topic,
        "state": base64.b64encode(event.state).decode(),
    }


@router.get("/c/{community_id}/items/{disclosure_id}/proof")
def proof_page(
    request: Request,
    community_id: str,
    disclosure_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    lang: LangQuery = None,
) -> HTMLResponse:
    """Each version of an item, proven in the latest checkpoint by the reader's browser;
    an item the reader may not see is not found, as on the item page."""
    page = Page.of(request, lang)
    community = community_named(ledger, community_id)
    key, versions = visible_versions(db, reader, community_id, disclosure_id)
    public = sees_public_view(reader, community_id)
    chain = ledger.community(community_id)
    entries = []
    for version in versions:
        shown = version_json(version, public=public)
        entry: dict[str, Any] = {
            "seq": version.seq,
            "version": version.version,
            "title": shown["title"],
            "body": shown["body"],
            "stored": None,
        }
        if not public:
            (event,) = chain.entries(after=version.seq - 1, limit=1)
            entry["stored"] = stored_json(event)
        entries.append(entry)
    return page.render(
        "verify.html",
        community=community,
        item={"disclosure_id": str(key), "title": entries[-1]["title"]},
        entries=entries,
        seals=review_seals(db, community_id, key, versions, public=public),
        public=public,
        **seal_context(request, ledger, community),
    )


def review_seals(
    db: ReadDB,
    community_id: str,
    disclosure_id: UUID,
    versions: Sequence[ContentVersion],
    *,
    public: bool,
) -> list[dict[str, Any]]:
    """The item's sealed reviews, each with the version it sealed (the latest recorded
    before it) and the key registered for its reviewer then, for the browser to check
    against the versions' stored bytes. The public view gets them too, without the
    content the seal is over: a seal's content digest would let anyone test guesses of
    what masking hides, so there the page only says the seal is checked unmasked."""
    keys = registered_keys(db, community_id)
    seals = []
    for act in acts_for(db, community_id, disclosure_id):
        if act.act != "reviewed" or not act.seal_key:
            continue
        reviewed = [v.version for v in versions if v.seq < act.seq]
        key = [k.vkey for k in keys if k.member == act.actor and k.seq < act.seq]
        if not reviewed or not key:
            continue
        seals.append(
            {
                "seq": act.seq,
                "version": reviewed[-1],
                "stage": act.stage,
                "outcome": act.outcome,
                "actor": mask_name(act.actor) if public else act.actor,
                "seal_key": act.seal_key,
                "seal_signature": act.seal_signature,
                "vkey": key[-1],
            }
        )
    return seals
