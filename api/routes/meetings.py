"""Residents' meetings and representatives' meetings over HTTP (居民会议 / 居民代表会议):
the residents' committee's clerk calls one, posts its notice, records who attended and
each resolution's vote, and posts each passed resolution. A meeting's time, place,
agenda and resolutions are public, as the seeds have them posted before and after; the
names of those present and of a proposal's signers are the community's members' and
the auditors'."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from api.routes.command_bodies import Body
from api.routes.commands import IdempotencyKey, run_command
from api.service.auth import SignedIn, require_csrf
from api.service.deps import LedgerDep
from api.service.params import SingleLine
from api.service.read_models import ReaderDep
from ledger.domain.meeting_rules import quorate
from ledger.domain.residents_meeting import ResidentsMeeting
from ledger.domain.vocabulary import Scope
from projections.visibility import can_see

commands = APIRouter(
    prefix="/v1/communities/{community_id}",
    tags=["commands"],
    dependencies=[Depends(require_csrf)],
)
reads = APIRouter(prefix="/v1/communities/{community_id}", tags=["reads"])


class Call(Body):
    kind: Literal["residents", "representatives"]
    members: int = Field(ge=1, le=100_000, description="应到: the meeting's members")
    agenda: list[SingleLine] = Field(min_length=1, max_length=30)
    place: SingleLine = Field(min_length=1, max_length=200)
    starts_at: dt.datetime = Field(description="with its zone, e.g. 2026-12-17T14:30:00+08:00")
    proposers: list[SingleLine] | None = Field(
        default=None, max_length=2_000, description="the representatives who proposed it"
    )
    representatives: int = Field(default=0, ge=0, le=100_000)


class Notice(Body):
    disclosure_id: str = Field(default="", max_length=40, description="the notice as posted")


class Attendance(Body):
    present: list[SingleLine] = Field(min_length=1, max_length=2_000)


class Vote(Body):
    title: SingleLine = Field(min_length=1, max_length=200)
    votes_for: int = Field(ge=0)
    votes_against: int = Field(ge=0)
    abstaining: int = Field(ge=0)
    affects_residents: bool = False
    comment_disclosure_id: str = Field(default="", max_length=40)


class Posting(Body):
    number: int = Field(ge=1)
    disclosure_id: str = Field(min_length=1, max_length=40)


@commands.post("/meetings", status_code=201)
def call_meeting(
    community_id: str,
    body: Call,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """Call a meeting: by the residents' committee, or on the proposal of one fifth or
    more of the representatives (their names in ``proposers``)."""
    return run_command(
        "call_meeting",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.call_meeting(who.actor(), key, **body.model_dump()),
    )


@commands.post("/meetings/{meeting_id}/notice", status_code=201)
def post_meeting_notice(
    community_id: str,
    meeting_id: UUID,
    body: Notice,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """The notice with the agenda posted now: at least three days before the meeting."""
    return run_command(
        "post_meeting_notice",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.post_meeting_notice(who.actor(), key, meeting_id, **body.model_dump()),
    )


@commands.post("/meetings/{meeting_id}/attendance", status_code=201)
def record_attendance(
    community_id: str,
    meeting_id: UUID,
    body: Attendance,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """Who is present, once the meeting has begun: held only with more than half."""
    return run_command(
        "record_attendance",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.record_attendance(who.actor(), key, meeting_id, present=body.present),
    )


@commands.post("/meetings/{meeting_id}/resolutions", status_code=201)
def vote_resolution(
    community_id: str,
    meeting_id: UUID,
    body: Vote,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """A resolution's vote: passed with two thirds or more of those present."""
    return run_command(
        "vote_resolution",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.vote_resolution(who.actor(), key, meeting_id, **body.model_dump()),
    )


@commands.post("/meetings/{meeting_id}/resolutions/posted", status_code=201)
def post_resolution(
    community_id: str,
    meeting_id: UUID,
    body: Posting,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """A passed resolution posted after the meeting, as the disclosure named."""
    return run_command(
        "post_resolution",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.post_resolution(who.actor(), key, meeting_id, **body.model_dump()),
    )


@reads.get("/meetings/{meeting_id}")
def meeting(
    community_id: str, meeting_id: UUID, ledger: LedgerDep, reader: ReaderDep
) -> dict[str, Any]:
    """A meeting as recorded: its call, notice, attendance (names for the members and
    the auditors, the count for everyone) and resolutions with their votes."""
    ledger.store.community(community_id)
    found = ledger.community(community_id).get(ResidentsMeeting, meeting_id, "meeting")
    members = can_see(reader, community_id, Scope.INTERNAL)
    notice = found.notice
    return {
        "community": community_id,
        "id": str(found.id),
        "kind": found.kind.value,
        "called_by": found.called_by.value,
        "members": found.members,
        "agenda": found.agenda,
        "place": found.place,
        "starts_at": found.starts_at.isoformat(),
        "status": found.status.value,
        "notice": {"posted_at": notice[0], "disclosure_id": notice[1] or None} if notice else None,
        "present": found.present,
        "quorate": quorate(found.present, found.members) if found.present else None,
        "present_names": found.present_names if members else None,
        "proposers": (found.proposers if members else len(found.proposers)) or None,
        "resolutions": [
            {**vote, "posted_as": found.posted.get(vote["number"])} for vote in found.votes
        ],
    }
