"""The disclosure calendar over HTTP (公开目录与时限): the clerk adopts an obligation,
the supervision committee approves it, the clerk retires one; anyone reads the calendar,
each obligation shown to those who may see items of its scope. And the review gates the
items pass (审核把关), chosen by the committee's chair and public."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from api.routes.command_bodies import Body
from api.routes.commands import IdempotencyKey, run_command
from api.routes.inquiries import may_read_inquiries
from api.service.as_of import AsOfDep
from api.service.auth import SignedIn, require_csrf
from api.service.deps import LedgerDep
from api.service.params import MultiLine, SingleLine
from api.service.read_models import KeptReportsDep, ReadDBDep, ReaderDep
from ledger.domain.gates import SEEDS_GATES
from ledger.domain.obligation import DUE_RULES, Cadence
from ledger.domain.working_days import china_date
from projections.calendar import ObligationView, calendar
from projections.visibility import can_see, reads_everything

commands = APIRouter(
    prefix="/v1/communities/{community_id}",
    tags=["commands"],
    dependencies=[Depends(require_csrf)],
)
reads = APIRouter(prefix="/v1/communities/{community_id}", tags=["reads"])


class ObligationAdoption(Body):
    title: SingleLine = Field(min_length=1, max_length=200)
    category: str = Field(max_length=40)
    cadence: Literal[
        "monthly", "quarterly", "year_end", "per_matter", "before_the_fact", "long_term"
    ]
    due_days: int = Field(ge=0, le=60, description="its meaning depends on the cadence")
    scope: Literal["public", "internal", "leadership"]
    basis: MultiLine = Field(default="", max_length=1_000)


class ObligationApproval(Body):
    opinion: MultiLine = Field(default="", max_length=2_000)


class CoverageDeclaration(Body):
    obligation_id: str = Field(max_length=40)
    period: str = Field(default="", max_length=20)


class GatesChoice(Body):
    party_review: bool = Field(default=True, description="党支部审查 before publication")
    confidentiality_unless_public: bool = Field(
        default=True, description="保密审查 (初审 → 复审 → 终审) for every item not public"
    )
    distinct_signers: bool = Field(default=True, description="three people for the three stages")
    scope_floor: bool = Field(default=True, description="收支明细 is never public")
    reason: MultiLine = Field(min_length=1, max_length=2_000)


class ObligationRetirement(Body):
    reason: MultiLine = Field(min_length=1, max_length=2_000)


@commands.post("/obligations", status_code=201)
def adopt_obligation(
    community_id: str,
    body: ObligationAdoption,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """An obligation of the disclosure calendar, in force once the committee approves."""
    return run_command(
        "adopt_obligation",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.adopt_obligation(who.actor(), key, **body.model_dump()),
    )


@commands.post("/obligations/{obligation_id}/approval", status_code=201)
def approve_obligation(
    community_id: str,
    obligation_id: UUID,
    body: ObligationApproval,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "approve_obligation",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.approve_obligation(who.actor(), key, obligation_id, opinion=body.opinion),
    )


@commands.post("/disclosures/{disclosure_id}/coverage", status_code=201)
def declare_coverage(
    community_id: str,
    disclosure_id: UUID,
    body: CoverageDeclaration,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """Which obligation and period a draft fulfils (YYYY-MM, YYYYQn, YYYY, a date, or
    nothing for a long-term one, by the obligation's cadence)."""
    return run_command(
        "declare_coverage",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.declare_coverage(who.actor(), key, disclosure_id, **body.model_dump()),
    )


@commands.post("/obligations/{obligation_id}/retirement", status_code=201)
def retire_obligation(
    community_id: str,
    obligation_id: UUID,
    body: ObligationRetirement,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "retire_obligation",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.retire_obligation(who.actor(), key, obligation_id, reason=body.reason),
    )


@commands.post("/settings/gates", status_code=201)
def choose_gates(
    community_id: str,
    body: GatesChoice,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """The review gates in force from now on, with the reason for relaxing any of the
    seeds' rules (the default: all hold)."""
    fields = body.model_dump()
    reason = fields.pop("reason")
    return run_command(
        "choose_gates",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.choose_gates(who.actor(), key, reason=reason, **fields),
    )


@reads.get("/settings/gates")
def gates_in_force(community_id: str, ledger: LedgerDep) -> dict[str, Any]:
    """The gates every disclosure passes before it is posted, public as the procedure is."""
    ledger.store.community(community_id)
    gates = ledger.community(community_id).gates()
    return {"community": community_id, "gates": gates.as_fields(), "seeds": gates == SEEDS_GATES}


def obligation_json(view: ObligationView, covered: bool) -> dict[str, Any]:
    cadence = str(view.value("cadence") or "")
    try:
        rule: tuple[str, int, int] | None = DUE_RULES[Cadence(cadence)]
    except ValueError:
        rule = None  # a cadence this release does not know
    return {
        "obligation_id": view.obligation_id,
        "status": view.status,
        "title": view.value("title"),
        "category": view.value("category"),
        "cadence": cadence,
        "due_days": view.value("due_days"),
        "due_rule": rule[0] if rule else "",
        "scope": view.value("scope"),
        "basis": view.value("basis"),
        "adopted": view.adopted.as_json(),
        "approved": view.approved.as_json() if view.approved else None,
        "retired": view.retired.as_json() if view.retired else None,
        # Which disclosures fulfil it, drafts included: the leadership's and the auditors'.
        **({"covered": [a.as_json() for a in view.covered]} if covered else {}),
    }


@reads.get("/calendar")
def disclosure_calendar(
    community_id: str, ledger: LedgerDep, db: ReadDBDep, reader: ReaderDep, as_of: AsOfDep
) -> dict[str, Any]:
    """The community's disclosure calendar, in the order adopted: every obligation of a
    scope the reader may see, with its status (adopted, in_force, retired)."""
    ledger.store.community(community_id)
    covered = reads_everything(reader, community_id)
    return {
        "community": community_id,
        "as_of": as_of,
        "obligations": [
            obligation_json(v, covered)
            for v in calendar(db, community_id, as_of)
            if can_see(reader, community_id, str(v.value("scope") or "leadership"))
        ],
    }


@reads.get("/compliance")
def disclosure_compliance(
    community_id: str,
    ledger: LedgerDep,
    kept: KeptReportsDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
    at: Annotated[
        dt.datetime | None, Query(description="as in as_of's twin: also the day")
    ] = None,
) -> dict[str, Any]:
    """What each obligation in force owes and what the record shows of it: each period
    met, late, missing or still due, the items expired, long-term items withdrawn early.
    For the community's members and the auditors; ``at`` also sets the day it is judged
    on (China date), which is otherwise today."""
    ledger.store.community(community_id)
    may_read_inquiries(reader, community_id)
    today = china_date(at)  # a time without its zone is refused, as by as_of's twin
    lines = kept.compliance(db, community_id, today, as_of)  # filtered below
    return {
        "community": community_id,
        "as_of": as_of,
        "today": today.isoformat(),
        "obligations": [
            {
                "obligation_id": o.obligation_id,
                "title": o.value("title"),
                "cadence": o.value("cadence"),
                "owed": [
                    {
                        "period": w.period,
                        "due_on": w.due_on.isoformat() if w.due_on else None,
                        "status": w.status,
                        "posted_on": w.posted_on.isoformat() if w.posted_on else None,
                        "disclosures": list(w.disclosures),
                        "expired": list(w.expired),
                    }
                    for w in owed
                ],
            }
            for o, owed in lines
            if can_see(reader, community_id, str(o.value("scope") or "leadership"))
        ],
    }
