"""Closing an accounting period over HTTP (结账): the clerk closes a month or a quarter,
the democratic finance group signs its statement off, the clerk drafts the statement as
a disclosure; the members and the auditors read each close with its figures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from api.routes.command_bodies import Body
from api.routes.commands import IdempotencyKey, run_command
from api.routes.inquiries import may_read_inquiries
from api.service.auth import SignedIn, require_csrf
from api.service.deps import LedgerDep
from api.service.params import MultiLine
from api.service.read_models import ReaderDep
from ledger.domain.finance_period import months_of
from ledger.errors import NotFoundError

commands = APIRouter(
    prefix="/v1/communities/{community_id}",
    tags=["commands"],
    dependencies=[Depends(require_csrf)],
)
reads = APIRouter(prefix="/v1/communities/{community_id}", tags=["reads"])


class SignOff(Body):
    opinion: MultiLine = Field(default="", max_length=2_000)


@commands.post("/finance/periods/{period}/close", status_code=201)
def close_period(
    community_id: str,
    period: str,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """Close a month (YYYY-MM) or a quarter (YYYYQn) that has ended: its figures as the
    chain has them now, and the entry they were read at."""
    return run_command(
        "close_period",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.close_period(who.actor(), key, period=period),
    )


@commands.post("/finance/periods/{period}/sign-off", status_code=201)
def sign_off_statement(
    community_id: str,
    period: str,
    body: SignOff,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "sign_off_statement",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.sign_off_statement(who.actor(), key, period=period, opinion=body.opinion),
    )


@commands.post("/finance/periods/{period}/statement", status_code=201)
def draft_statement(
    community_id: str,
    period: str,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """The signed-off statement as a draft disclosure, to be reviewed and posted."""
    return run_command(
        "draft_statement",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.draft_statement(who.actor(), key, period=period),
    )


@reads.get("/finance/periods/{period}")
def closed_period(
    community_id: str, period: str, ledger: LedgerDep, reader: ReaderDep
) -> dict[str, Any]:
    """A closed period's figures, the entry they were read at (recompute them with
    ``GET …/finance/totals?as_of=``), its sign-off and its statement."""
    ledger.store.community(community_id)
    may_read_inquiries(reader, community_id)
    months_of(period)
    closed = ledger.community(community_id).closed_period(period)
    if closed is None:
        raise NotFoundError(f"{period} is not closed in {community_id!r}")
    return {
        "community": community_id,
        "period": period,
        **closed.figures,
        "signed_off_by": closed.signed_off_by,
        "statement": str(closed.statement) if closed.statement else None,
    }
