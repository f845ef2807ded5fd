"""The community's review gates in the console (审核把关): the gates in force, which of
them the seeds' rules require and what turning one off means, and every choice made,
by whom, when and why; for the supervision committee's chair, who answers for the
reviews, the form that chooses them with its reason (:mod:`ledger.domain.gates`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.console.routes import (
    CommunityPath,
    done,
    form_context,
    own_community,
    own_or_street,
    posted,
    refused,
)
from api.portal.routes import LangQuery, Page, PortalRoute, page_of
from api.portal.views import recorded_text
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from ledger.application import CommunityLedger
from ledger.domain.gates import SEEDS_GATES, CommunitySettings, Gates, settings_id
from ledger.domain.permissions import COMMAND_ROLES
from ledger.errors import GongkaiError, PermissionDeniedError

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)

#: Each gate: its name, what it asks for, and what turning it off means, in plain words
#: (each translated in the page's language).
GATE_NAMES: Final = {
    "party_review": "党支部审查",
    "confidentiality_unless_public": "保密审查",
    "distinct_signers": "三审分人",
    "scope_floor": "收支明细不得社会公开",
}
GATE_MEANINGS: Final = {
    "party_review": "公开前，除监督委员会审核外，还须经党支部审查。",
    "confidentiality_unless_public": (
        "凡不是社会公开的事项，公开前都须经过保密审查：初审、复审、终审。"
    ),
    "distinct_signers": "保密审查的初审、复审、终审由三个不同的人签署，同一人不能签两道。",
    "scope_floor": "财务收支明细只向本社区居民（所属内部人员）公开，不能设为社会公开。",
}
GATE_OFF: Final = {
    "party_review": "关闭后，监督委员会审核通过即可公开，不再经党支部审查。",
    "confidentiality_unless_public": "关闭后，内部公开和班子内部的事项不经保密审查也能公开。",
    "distinct_signers": "关闭后，同一个人可以签署保密审查的两道甚至三道。",
    "scope_floor": "关闭后，财务收支明细可以设为社会公开，向社区以外的人公开。",
}


@dataclass(frozen=True)
class Choice:
    """One choice of gates recorded in the settings: by whom, when, why."""

    by: str
    role: str
    when: str
    reason: str
    gates: Gates


def choices(book: CommunityLedger) -> list[Choice]:
    """Every choice of gates the community recorded, the latest first."""
    made = []
    for event in book.events.get(settings_id(book.community.id)):
        if isinstance(event, CommunitySettings.GatesAdopted | CommunitySettings.GatesChanged):
            made.append(
                Choice(
                    by=event.actor,
                    role=event.actor_role,
                    when=recorded_text(event.timestamp.isoformat()),
                    reason=event.reason,
                    gates=Gates(
                        party_review=event.party_review,
                        confidentiality_unless_public=event.confidentiality_unless_public,
                        distinct_signers=event.distinct_signers,
                        scope_floor=event.scope_floor,
                    ),
                )
            )
    return made[::-1]


@router.get("/c/{community_id}/settings/gates")
def gates_page(request: Request, community_id: CommunityPath, who: SignedIn,
               ledger: LedgerDep, lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """The gates in force and every choice of them; the chair's form."""
    own_or_street(who, community_id)
    book = ledger.community(community_id)
    page = Page.of(request, lang)
    in_force = book.gates()
    return page.render(
        "console/gates.html",
        **form_context(request, ledger, community_id),
        in_force=in_force.as_fields(),
        seeds=SEEDS_GATES.as_fields(),
        as_seeds=in_force == SEEDS_GATES,
        choices=choices(book),
        gate_names=GATE_NAMES,
        gate_meanings=GATE_MEANINGS,
        gate_off=GATE_OFF,
        may_choose=who.community == community_id and who.role in COMMAND_ROLES["choose_gates"],
    )


@router.post("/c/{community_id}/settings/gates")
async def post_gates(request: Request, community_id: CommunityPath, who: SignedIn,
                     ledger: LedgerDep) -> Response:  # fmt: skip
    own_community(who, community_id)
    if who.role not in COMMAND_ROLES["choose_gates"]:
        raise PermissionDeniedError("the supervision committee's chair chooses the gates")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/settings/gates"
    # A checkbox left unticked is not sent: that gate is turned off.
    chosen = {name: name in form.fields for name in Gates.__dataclass_fields__}
    try:
        ledger.community(community_id).choose_gates(
            who.actor(), form.get("idempotency_key"), reason=form.get("reason"), **chosen
        )
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back)
