"""The console's review seals (监审印章): each committee member's key page, where the key is
made or imported in the browser (``static/seal.js``; the server never sees it), and the
chair's register of the members' keys (监审印章备案), recorded in the chain."""

from __future__ import annotations

import functools
from importlib.resources import files
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.accounts import Principal
from api.console.routes import (
    NAMES,
    CommunityPath,
    SeenQuery,
    done,
    form_context,
    own_community,
    posted,
    refused,
    registered_ref,
    wait_for,
)
from api.portal import i18n
from api.portal.routes import LangQuery, Page, PortalRoute, community_named, page_of
from api.routes.commands import SEALING_ROLES, accept_as_cosigner, require_committee_member
from api.service.auth import SignedIn, get_accounts
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep
from ledger.domain.vocabulary import Role
from ledger.errors import GongkaiError, PermissionDeniedError
from ledger.seal.community_log import CommunityLog
from projections.seal_keys import keys_in_force, registered_keys

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)

#: Where the console's one script is served from (this site only; see the CSP).
SCRIPT_PATH: Final = "/console/seal.js"


@functools.cache
def _script() -> bytes:
    return (files("api.console") / "static" / "seal.js").read_bytes()


@router.get("/seal.js")
def seal_script() -> Response:
    """The seal's script; revalidated on each use, so a fix reaches every member."""
    return Response(
        _script(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def key_name(request: Request, who: Principal) -> str:
    """The name a member's new key gets: ``committee.<the log's origin>/<account>``, as
    the demo's committee key is named."""
    vkeys: dict[str, str] = getattr(request.app.state, "log_vkeys", {})
    community = who.community or ""
    origin = vkeys[community].split("+", 1)[0] if community in vkeys else community
    return f"committee.{origin}/{who.username}"


@router.get("/seal-key")
def seal_key_page(request: Request, who: SignedIn, db: ReadDBDep,
                  lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """A committee member's own key: made or imported in this browser, and whether it is
    the one the chair registered."""
    if who.role not in SEALING_ROLES or who.community is None:
        raise PermissionDeniedError("review seals are the supervision committee's")
    page = Page.of(request, lang)
    found = keys_in_force(db, who.community).get(who.username)
    return page.render(
        "console/seal_key.html",
        **NAMES,
        who=who,
        key_name=key_name(request, who),
        registered=found.vkey if found else "",
        script=SCRIPT_PATH,
    )


@router.get("/c/{community_id}/seal-keys")
def seal_keys_page(request: Request, community_id: CommunityPath, who: SignedIn,
                   ledger: LedgerDep, db: ReadDBDep, lang: LangQuery = None,
                   seen: SeenQuery = None) -> HTMLResponse:  # fmt: skip
    """The chair's register of the members' seal keys, and the form to record one."""
    own_community(who, community_id)
    wait_for(db, community_id, seen)
    if who.role is not Role.COMMITTEE_CHAIR:
        raise PermissionDeniedError("the committee's chair registers the seal keys")
    page = Page.of(request, lang)
    members = [
        a
        for a in get_accounts(request).directory.all()
        if a.community == community_id and a.role in SEALING_ROLES and not a.disabled
    ]
    return page.render(
        "console/seal_keys.html",
        **form_context(request, ledger, community_id),
        members=members,
        keys=registered_keys(db, community_id),
        in_force=keys_in_force(db, community_id),
    )


@router.post("/c/{community_id}/seal-keys")
async def post_seal_key(request: Request, community_id: CommunityPath, who: SignedIn,
                        ledger: LedgerDep) -> Response:  # fmt: skip
    own_community(who, community_id)
    if who.role is not Role.COMMITTEE_CHAIR:
        raise PermissionDeniedError("the committee's chair registers the seal keys")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/seal-keys"
    member, vkey = form.get("member"), form.get("vkey").strip()
    try:
        account = require_committee_member(get_accounts(request), community_id, member)
        registered = ledger.community(community_id).register_seal_key(
            who.actor(), form.get("idempotency_key"), member=member, vkey=vkey
        )
        accept_as_cosigner(ledger, community_id, vkey, account.display_name)
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, registered)


@router.get("/c/{community_id}/checkpoint")
def checkpoint_page(request: Request, community_id: CommunityPath, who: SignedIn,
                    ledger: LedgerDep, db: ReadDBDep,
                    lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """The chair seals the log's latest checkpoint in the browser, with the seal key."""
    own_community(who, community_id)
    if who.role is not Role.COMMITTEE_CHAIR:
        raise PermissionDeniedError("the committee's chair seals the checkpoints")
    page = Page.of(request, lang)
    log = CommunityLog(ledger.store, community_id)
    latest = log.latest_checkpoint()
    note = log.cosigned_note(latest)
    base = f"/v1/communities/{community_id}"
    gettext = i18n.translations(page.lang).gettext
    messages = {
        "no_key": gettext("本浏览器中没有您已登记的印章密钥：请在“我的监审印章”中导入。"),
        "other_log": gettext("这不是本社区日志的检查点。"),
        "older": gettext("这个检查点比您上次盖章的更旧，已拒绝。"),
        "no_proof": gettext("服务器没有给出与您上次盖章的检查点之间的一致性证明。"),
        "working": gettext("正在加盖印章……"),
        "done": gettext("已加盖印章。"),
        "failed": gettext("未能加盖印章："),
    }
    key_ref = registered_ref(db, who)
    return page.render(
        "console/checkpoint.html",
        **NAMES,
        community=community_named(ledger, community_id),
        note=note,
        tree_size=latest.tree_size,
        key_ref=key_ref,
        data={
            "community": community_id,
            "origin": latest.note.split("\n", 1)[0],
            "note": note,
            "key_ref": key_ref,
            "consistency": f"{base}/proof/consistency",
            "cosignatures": f"{base}/checkpoints/{latest.tree_size}/cosignatures",
            "messages": messages,
        },
        script=SCRIPT_PATH,
    )
