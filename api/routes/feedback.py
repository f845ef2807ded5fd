"""What residents said about a disclosure and what came of it, as JSON: its opinions
(意见) with the clerk's answers, and its objections (异议) with their outcomes. Both are
read as the disclosure is (its latest version's scope); on the public view the names
are masked, and an opinion's text is shown only if the resident chose so."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import APIRouter

from api.portal.views import Objection, item_objections
from api.service.as_of import AsOfDep
from api.service.auth import CurrentAccount
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep, ReaderDep
from ledger.errors import NotFoundError
from projections.db import ReadDB
from projections.history import ContentVersion, history, objections
from projections.masking import mask_name, mask_text
from projections.opinions import Opinion, opinions
from projections.visibility import Reader, can_see, reads_everything, sees_public_view

router = APIRouter(prefix="/v1/communities", tags=["reads"])


@dataclass(frozen=True, slots=True)
class ShownOpinion:
    """An opinion as one reader is shown it."""

    opinion_id: str
    version: int
    left_at: str
    resident: str
    role: str
    text: str  # "" when withheld
    text_withheld: bool  # the resident kept the text from this reader
    answer: str | None
    answered_at: str | None
    answered_by: str | None


def shown_opinions(
    found: list[Opinion], reader: Reader, community_id: str, own: str | None
) -> list[ShownOpinion]:
    """``found`` as ``reader`` may see it. The text of an opinion its resident kept
    private is shown to the community's leadership and the auditors, who handle it,
    and to the account that left it (``own``); the answer is public with the item."""
    public = sees_public_view(reader, community_id)
    handles = reads_everything(reader, community_id)
    name, text = (mask_name, mask_text) if public else (_as_is, _as_is)
    shown = []
    for o in found:
        visible = o.text_public or handles or (own is not None and o.actor == own)
        answer = o.answer
        shown.append(
            ShownOpinion(
                opinion_id=o.opinion_id,
                version=o.version,
                left_at=o.recorded_at,
                resident=name(o.resident),
                role=o.actor_role,
                text=text(o.text) if visible else "",
                text_withheld=not visible,
                answer=text(answer.text) if answer else None,
                answered_at=answer.recorded_at if answer else None,
                answered_by=name(answer.actor) if answer else None,
            )
        )
    return shown


def _as_is(value: str) -> str:
    return value


def visible_versions(
    db: ReadDB, reader: Reader, community_id: str, disclosure_id: UUID, as_of: int | None
) -> list[ContentVersion]:
    """The disclosure's versions, if ``reader`` may see it; to anyone else it does not
    exist."""
    versions = history(db, community_id, disclosure_id, as_of)
    if not versions or not can_see(reader, community_id, versions[-1].scope):
        raise NotFoundError(f"no disclosure {disclosure_id} in {community_id!r}")
    return versions


@router.get("/{community_id}/disclosures/{disclosure_id}/opinions")
def disclosure_opinions(
    community_id: str,
    disclosure_id: UUID,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    principal: CurrentAccount,
    as_of: AsOfDep,
) -> dict[str, Any]:
    """The residents' opinions on a disclosure, oldest first, each with its answer."""
    ledger.store.community(community_id)
    visible_versions(db, reader, community_id, disclosure_id, as_of)
    own = principal.username if principal else None
    found = opinions(db, community_id, str(disclosure_id), as_of)
    return {
        "community": community_id,
        "disclosure_id": str(disclosure_id),
        "as_of": as_of,
        "public_view": sees_public_view(reader, community_id),
        "opinions": [
            dataclasses.asdict(o) for o in shown_opinions(found, reader, community_id, own)
        ],
    }


@router.get("/{community_id}/disclosures/{disclosure_id}/objections")
def disclosure_objections(
    community_id: str,
    disclosure_id: UUID,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
) -> dict[str, Any]:
    """The objections to a disclosure, latest first, each with its outcome ("raised",
    "verified", "dismissed" or "corrected") and every act on it."""
    ledger.store.community(community_id)
    versions = visible_versions(db, reader, community_id, disclosure_id, as_of)
    public = sees_public_view(reader, community_id)
    acts = objections(db, community_id, disclosure_id, as_of)
    return {
        "community": community_id,
        "disclosure_id": str(disclosure_id),
        "as_of": as_of,
        "public_view": public,
        "objections": [
            objection_json(o) for o in item_objections(acts, versions[-1].title, public=public)
        ],
    }


def objection_json(objection: Objection) -> dict[str, Any]:
    raised = objection.raised
    return {
        "objection_id": str(objection.objection_id),
        "state": objection.state,
        "version": raised.disclosure_version,
        "raised_at": raised.recorded_at,
        "objector": raised.objector,
        "form": raised.form,
        "content": raised.text,
        "acts": [
            {
                "act": a.act,
                "recorded_at": a.recorded_at,
                "actor": a.actor,
                "actor_role": a.actor_role,
                "text": a.text,
                "new_version": a.new_version,
                # A review of the drafted correction: its stage and outcome.
                "stage": a.stage or None,
                "outcome": a.outcome or None,
            }
            for a in objection.acts
        ],
    }
