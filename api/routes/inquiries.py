"""Inquiries (质询) over HTTP: a residents' representative files one, the clerk answers,
the representative may mark the answer unsatisfactory, and the supervision committee
records the accountability meeting; the service escalates what is due by itself. The
list, with each inquiry's deadline and status, is for the community's members and the
street's auditors, as its finances are."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from api.accounts.errors import AuthenticationError
from api.routes.command_bodies import Body
from api.routes.commands import IdempotencyKey, run_command
from api.service.as_of import AsOfDep
from api.service.auth import SignedIn, require_csrf
from api.service.deps import LedgerDep
from api.service.params import MultiLine, SingleLine
from api.service.read_models import ReadDBDep, ReaderDep
from ledger.domain.vocabulary import Scope
from ledger.domain.working_days import china_date
from ledger.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from projections.db import ReadDB
from projections.history import history
from projections.inquiries import InquiryView, inquiries, inquiry
from projections.visibility import Reader, can_see

commands = APIRouter(
    prefix="/v1/communities/{community_id}",
    tags=["commands"],
    dependencies=[Depends(require_csrf)],
)
reads = APIRouter(prefix="/v1/communities/{community_id}", tags=["reads"])


class Filing(Body):
    question: MultiLine = Field(min_length=1, max_length=5_000)
    on_behalf_of: SingleLine = Field(default="", max_length=200)
    disclosure_id: str = Field(default="", max_length=40, description="the item it is about")


class InquiryAnswer(Body):
    answer: MultiLine = Field(min_length=1, max_length=5_000)


class Dissatisfaction(Body):
    reason: MultiLine = Field(min_length=1, max_length=2_000)


class MeetingRecord(Body):
    meeting: Literal["supervision", "two_committees"]
    held_on: str
    present: list[SingleLine] = Field(min_length=1, max_length=200)
    conclusion: MultiLine = Field(min_length=1, max_length=5_000)


@commands.post("/inquiries", status_code=201)
def file_inquiry(
    community_id: str,
    body: Filing,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """A representative's inquiry to the residents' committee, due in three working days."""
    return run_command(
        "file_inquiry",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.file_inquiry(
            who.actor(), key, representative=who.display_name, **body.model_dump()
        ),
    )


@commands.post("/inquiries/{inquiry_id}/answer", status_code=201)
def answer_inquiry(
    community_id: str,
    inquiry_id: UUID,
    body: InquiryAnswer,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "answer_inquiry",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.answer_inquiry(who.actor(), key, inquiry_id, answer=body.answer),
    )


@commands.post("/inquiries/{inquiry_id}/unsatisfactory", status_code=201)
def mark_unsatisfactory(
    community_id: str,
    inquiry_id: UUID,
    body: Dissatisfaction,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """The representative who asked finds the answer unsatisfactory: the service
    escalates the inquiry."""
    return run_command(
        "mark_unsatisfactory",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.mark_unsatisfactory(who.actor(), key, inquiry_id, reason=body.reason),
    )


@commands.post("/inquiries/{inquiry_id}/meeting", status_code=201)
def record_meeting(
    community_id: str,
    inquiry_id: UUID,
    body: MeetingRecord,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """The record of the accountability meeting, which closes an escalated inquiry."""
    return run_command(
        "record_meeting",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.record_meeting(who.actor(), key, inquiry_id, **body.model_dump()),
    )


def may_read_inquiries(reader: Reader, community_id: str) -> None:
    """For the community's members and the auditors (所属内部人员, as the finances):
    401 anonymous, 403 others."""
    if reader.role is None:
        raise AuthenticationError("the inquiries are shown to the community's members: sign in")
    if not can_see(reader, community_id, Scope.INTERNAL):
        raise PermissionDeniedError(
            f"the inquiries of {community_id!r} are shown to its members and the auditors"
        )


def inquiry_json(
    view: InquiryView, reader: Reader, community_id: str, db: ReadDB, today: dt.date
) -> dict[str, Any]:
    about = view.text("disclosure_id")
    if about and not _may_see_item(db, reader, community_id, about):
        about = ""  # an item the reader may not see is not named to them
    filed = view.filed
    data: dict[str, Any] = {
        "inquiry_id": view.inquiry_id,
        "status": view.status(today),
        "filed_at": filed.recorded_at,
        "filed_by": filed.actor,
        "representative": view.text("representative") or filed.actor,
        "question": view.text("question"),
        "on_behalf_of": view.text("on_behalf_of"),
        "disclosure_id": about or None,
        "filed_on": view.text("filed_on"),
        "due_on": view.text("due_on"),
        "working_days": filed.fields.get("working_days"),
        "calendar": view.text("calendar"),
        "time_zone": "Asia/Shanghai",
    }
    for name in ("answered", "unsatisfactory", "escalated", "meeting"):
        act = getattr(view, name)
        data[name] = None if act is None else act.as_json()
    return data


def _may_see_item(db: ReadDB, reader: Reader, community_id: str, disclosure_id: str) -> bool:
    try:
        versions = history(db, community_id, disclosure_id)
    except InvalidInputError:  # not an item's ID: it names nothing the reader may see
        return False
    return bool(versions) and can_see(reader, community_id, versions[-1].scope)


@reads.get("/inquiries")
def list_inquiries(
    community_id: str, ledger: LedgerDep, db: ReadDBDep, reader: ReaderDep, as_of: AsOfDep
) -> dict[str, Any]:
    """Every inquiry of the community, the latest first, with its deadline (a China
    date: the answer is due by its end) and its status today."""
    ledger.store.community(community_id)
    may_read_inquiries(reader, community_id)
    today = china_date()
    return {
        "community": community_id,
        "as_of": as_of,
        "today": today.isoformat(),
        "inquiries": [
            inquiry_json(v, reader, community_id, db, today)
            for v in inquiries(db, community_id, as_of)
        ],
    }


@reads.get("/inquiries/{inquiry_id}")
def one_inquiry(
    community_id: str,
    inquiry_id: UUID,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
) -> dict[str, Any]:
    ledger.store.community(community_id)
    may_read_inquiries(reader, community_id)
    found = inquiry(db, community_id, str(inquiry_id), as_of)
    if found is None:
        raise NotFoundError(f"no inquiry {inquiry_id} in {community_id!r}")
    return inquiry_json(found, reader, community_id, db, china_date())
