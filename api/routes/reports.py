"""Reports (举报) over HTTP. The street disciplinary committee registers the key a
community's reports are sealed to; a signed-in resident files a report, whose identity
the service seals before it stores anything, and is given a receipt code once; with
it, anyone holding it looks up how the report is being handled. The reports' subject
and text are for the community's leadership and the auditors (班子内部); the sealed
identity, which only the committee's private key opens, for the auditors alone."""

from __future__ import annotations

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
from ledger.application import CommunityLedger
from ledger.application.reports import receipt_sha256
from ledger.chain.idempotency import CommandResult
from ledger.domain.vocabulary import Scope
from ledger.errors import NotFoundError, PermissionDeniedError
from projections.reports import ReportView, report, report_by_receipt, reports
from projections.visibility import Reader, can_see

commands = APIRouter(
    prefix="/v1/communities/{community_id}",
    tags=["commands"],
    dependencies=[Depends(require_csrf)],
)
reads = APIRouter(prefix="/v1/communities/{community_id}", tags=["reads"])


class KeyRegistration(Body):
    public_key: SingleLine = Field(
        min_length=1, max_length=200, description="gongkai-report-key <key ID> <base64>"
    )


class ReportFiling(Body):
    subject: SingleLine = Field(min_length=1, max_length=200)
    text: MultiLine = Field(min_length=1, max_length=10_000)
    name: SingleLine = Field(default="", max_length=100, description="sealed")
    contact: SingleLine = Field(default="", max_length=200, description="sealed")


class Acknowledgement(Body):
    note: MultiLine = Field(default="", max_length=2_000)


class InvestigationStep(Body):
    step: MultiLine = Field(min_length=1, max_length=5_000)


class ReportFinding(Body):
    finding: Literal["substantiated", "partly_substantiated", "unsubstantiated"]
    conclusion: MultiLine = Field(min_length=1, max_length=5_000)


class ReceiptLookup(Body):
    receipt: SingleLine = Field(min_length=1, max_length=40)


@commands.post("/report-key", status_code=201)
def register_report_key(
    community_id: str,
    body: KeyRegistration,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """The disciplinary committee's public key, which the community's reports are sealed
    to from now on (its private key stays with the committee)."""
    return run_command(
        "register_report_key",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.register_report_key(who.actor(), key, public_key=body.public_key),
    )


@reads.get("/report-key")
def report_key(community_id: str, ledger: LedgerDep) -> dict[str, Any]:
    """The key in force, public: a reporter's software may check what it seals to."""
    ledger.store.community(community_id)
    found = ledger.community(community_id).report_key()
    if found is None:
        raise NotFoundError(f"no report key is registered for {community_id!r}")
    return {"community": community_id, "key_id": found.key_id, "public_key": found.line}


@commands.post("/reports", status_code=201)
def file_report(
    community_id: str,
    body: ReportFiling,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """A report to the street disciplinary committee. The answer's ``receipt`` is the
    only copy of the receipt code: a replay answers ``null`` in its place."""
    receipts: list[str | None] = []

    def filed(c: CommunityLedger) -> CommandResult:
        done = c.file_report(who.actor(), key, **body.model_dump())
        receipts.append(done.receipt)
        return done.result

    answer = run_command("file_report", who, ledger, community_id, response, filed)
    answer["receipt"] = receipts[0]
    response.headers["Cache-Control"] = "no-store"
    return answer


@commands.post("/reports/{report_id}/acknowledgement", status_code=201)
def acknowledge_report(
    community_id: str,
    report_id: UUID,
    body: Acknowledgement,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "acknowledge_report",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.acknowledge_report(who.actor(), key, report_id, note=body.note),
    )


@commands.post("/reports/{report_id}/steps", status_code=201)
def record_investigation_step(
    community_id: str,
    report_id: UUID,
    body: InvestigationStep,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "record_investigation_step",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.record_investigation_step(who.actor(), key, report_id, step=body.step),
    )


@commands.post("/reports/{report_id}/finding", status_code=201)
def conclude_report(
    community_id: str,
    report_id: UUID,
    body: ReportFinding,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "conclude_report",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.conclude_report(who.actor(), key, report_id, **body.model_dump()),
    )


def may_read_reports(reader: Reader, community_id: str) -> None:
    """For the community's leadership and the auditors: 401 anonymous, 403 others."""
    if reader.role is None:
        raise AuthenticationError("reports are shown to the leadership and the auditors: sign in")
    if not can_see(reader, community_id, Scope.LEADERSHIP):
        raise PermissionDeniedError(
            f"the reports of {community_id!r} are shown to its leadership and the auditors"
        )


def report_json(view: ReportView, reader: Reader) -> dict[str, Any]:
    filed = view.filed
    data: dict[str, Any] = {
        "report_id": view.report_id,
        "status": view.status,
        "filed_at": filed.recorded_at,
        "filed_on": filed.text("filed_on"),
        "subject": filed.text("subject"),
        "text": filed.text("text"),
        "key_id": filed.text("key_id"),
        "acknowledged": view.acknowledged.as_json() if view.acknowledged else None,
        "steps": [s.as_json() for s in view.steps],
        "concluded": view.concluded.as_json() if view.concluded else None,
    }
    if reader.auditor:
        data["sealed_identity"] = filed.text("sealed_identity")
    return data


@reads.get("/reports")
def list_reports(
    community_id: str, ledger: LedgerDep, db: ReadDBDep, reader: ReaderDep, as_of: AsOfDep
) -> dict[str, Any]:
    ledger.store.community(community_id)
    may_read_reports(reader, community_id)
    return {
        "community": community_id,
        "as_of": as_of,
        "reports": [report_json(v, reader) for v in reports(db, community_id, as_of)],
    }


@reads.get("/reports/{report_id}")
def one_report(
    community_id: str,
    report_id: UUID,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
) -> dict[str, Any]:
    ledger.store.community(community_id)
    may_read_reports(reader, community_id)
    found = report(db, community_id, str(report_id), as_of)
    if found is None:
        raise NotFoundError(f"no report {report_id} in {community_id!r}")
    return report_json(found, reader)


def status_for_reporter(view: ReportView) -> dict[str, Any]:
    """What the receipt code shows: how far the handling has come, and the finding;
    not the steps' text, nor who took them."""
    concluded = view.concluded
    return {
        "status": view.status,
        "filed_on": view.filed.text("filed_on"),
        "subject": view.filed.text("subject"),
        "acknowledged_at": view.acknowledged.recorded_at if view.acknowledged else None,
        "steps": [s.recorded_at for s in view.steps],
        "concluded": None
        if concluded is None
        else {
            "recorded_at": concluded.recorded_at,
            "finding": concluded.text("finding"),
            "conclusion": concluded.text("conclusion"),
        },
    }


@reads.post("/reports/status")
def report_status(
    community_id: str, body: ReceiptLookup, ledger: LedgerDep, db: ReadDBDep
) -> dict[str, Any]:
    """The status of the report a receipt code was given for. In the body, not the
    address, so that no log keeps the code; no account needed: the code is the proof."""
    ledger.store.community(community_id)
    found = report_by_receipt(db, community_id, receipt_sha256(body.receipt))
    if found is None:
        raise NotFoundError("no report of this community has this receipt code")
    return status_for_reporter(found)
