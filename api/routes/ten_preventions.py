"""The 十个防止 report over HTTP, for a community (its members and the auditors) and for
the whole street (the auditors), as JSON and as CSV for the street's meeting. Each of the
ten says whether the record can show it; a finding is listed only to those who may see
the item behind it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.accounts.errors import AuthenticationError
from api.routes.inquiries import may_read_inquiries
from api.service.as_of import AsOfDep
from api.service.deps import LedgerDep
from api.service.read_models import KeptReportsDep, ReadDBDep, ReaderDep
from ledger.domain.working_days import china_date
from ledger.errors import PermissionDeniedError
from projections.clock import seq_at
from projections.db import ReadDB
from projections.kept_reports import KeptReports
from projections.ten_preventions import Prevention
from projections.visibility import Reader, can_see

router = APIRouter(prefix="/v1", tags=["reads"])

AtQuery = Annotated[
    dt.datetime | None,
    Query(description="the record as it stood then, judged on that China date (default now)"),
]
CSV_COLUMNS = (
    "community",
    "prevention",
    "name",
    "computable",
    "basis",
    "disclosure_id",
    "obligation_id",
    "period",
    "title",
    "detail",
)


def report(
    kept: KeptReports,
    db: ReadDB,
    reader: Reader,
    community_id: str,
    today: dt.date,
    as_of: int | None,
) -> list[Prevention]:
    """The ten for the community with only the findings ``reader`` may see: filtered
    here, from the whole report kept for every reader."""
    return [
        Prevention(
            p.key,
            p.name,
            p.computable,
            p.basis,
            tuple(f for f in p.findings if can_see(reader, community_id, f.scope)),
        )
        for p in kept.ten_preventions(db, community_id, today, as_of)
    ]


def prevention_json(p: Prevention) -> dict[str, Any]:
    return {
        "key": p.key,
        "name": p.name,
        "computable": p.computable,
        "basis": p.basis,
        "count": len(p.findings) if p.computable else None,
        "findings": [
            {
                "disclosure_id": f.disclosure_id or None,
                "obligation_id": f.obligation_id or None,
                "period": f.period,
                "title": f.title,
                "detail": f.detail,
            }
            for f in p.findings
        ],
    }


def csv_rows(community_id: str, preventions: list[Prevention]) -> list[tuple[str, ...]]:
    """One row per finding, and one for each of the ten with none, so that the sheet
    says of every one whether it was found, not found, or cannot be computed."""
    rows: list[tuple[str, ...]] = []
    for p in preventions:
        head = (community_id, p.key, p.name, "yes" if p.computable else "no", p.basis)
        if not p.findings:
            rows.append((*head, "", "", "", "", "" if p.computable else p.basis))
        for f in p.findings:
            rows.append((*head, f.disclosure_id, f.obligation_id, f.period, f.title, f.detail))
    return rows


def csv_response(filename: str, rows: list[tuple[str, ...]]) -> Response:
    out = io.StringIO()
    # A byte-order mark, so that the spreadsheet the street's meeting opens it in reads
    # the Chinese as UTF-8.
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _community_report(
    community_id: str,
    ledger: LedgerDep,
    kept: KeptReports,
    db: ReadDB,
    reader: Reader,
    as_of: int | None,
    at: dt.datetime | None,
) -> tuple[dt.date, list[Prevention]]:
    ledger.store.community(community_id)
    may_read_inquiries(reader, community_id)
    today = china_date(at)
    return today, report(kept, db, reader, community_id, today, as_of)


@router.get("/communities/{community_id}/ten-preventions")
def community_ten_preventions(
    community_id: str,
    ledger: LedgerDep,
    kept: KeptReportsDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
    at: AtQuery = None,
) -> dict[str, Any]:
    """The ten failures of disclosure (十个防止) in the community's record, each with the
    items behind it, or said not to be computable from the record."""
    today, preventions = _community_report(community_id, ledger, kept, db, reader, as_of, at)
    return {
        "community": community_id,
        "as_of": as_of,
        "today": today.isoformat(),
        "preventions": [prevention_json(p) for p in preventions],
    }


@router.get("/communities/{community_id}/ten-preventions.csv")
def community_ten_preventions_csv(
    community_id: str,
    ledger: LedgerDep,
    kept: KeptReportsDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
    at: AtQuery = None,
) -> Response:
    """The same, one row per finding."""
    today, preventions = _community_report(community_id, ledger, kept, db, reader, as_of, at)
    name = f"ten-preventions-{community_id}-{today.isoformat()}.csv"
    return csv_response(name, csv_rows(community_id, preventions))


def may_read_street(reader: Reader) -> None:
    if reader.role is None:
        raise AuthenticationError("the street's report is the auditors': sign in")
    if not reader.auditor:
        raise PermissionDeniedError("the street's report is for the street's auditors")


def street_report(
    ledger: LedgerDep, kept: KeptReports, db: ReadDB, reader: Reader, at: dt.datetime | None
) -> tuple[dt.date, list[tuple[str, str, int | None, list[Prevention]]]]:
    """Every community's report, each as its record stood at ``at`` (now if None): only
    those whose read models moved since they were kept are computed again."""
    may_read_street(reader)
    today = china_date(at)
    found = []
    for community in ledger.store.communities():
        as_of = seq_at(db, community.id, at) if at is not None else None
        found.append(
            (
                community.id,
                community.name,
                as_of,
                report(kept, db, reader, community.id, today, as_of),
            )
        )
    return today, found


@router.get("/street/ten-preventions")
def street_ten_preventions(
    ledger: LedgerDep,
    kept: KeptReportsDep,
    db: ReadDBDep,
    reader: ReaderDep,
    at: AtQuery = None,
) -> dict[str, Any]:
    """The 十个防止 report of every community of the street, for the street's meeting."""
    today, found = street_report(ledger, kept, db, reader, at)
    return {
        "today": today.isoformat(),
        "communities": [
            {
                "community": cid,
                "name": name,
                "as_of": as_of,
                "preventions": [prevention_json(p) for p in preventions],
            }
            for cid, name, as_of, preventions in found
        ],
    }


@router.get("/street/ten-preventions.csv")
def street_ten_preventions_csv(
    ledger: LedgerDep,
    kept: KeptReportsDep,
    db: ReadDBDep,
    reader: ReaderDep,
    at: AtQuery = None,
) -> Response:
    today, found = street_report(ledger, kept, db, reader, at)
    rows = [row for cid, _, _, preventions in found for row in csv_rows(cid, preventions)]
    return csv_response(f"ten-preventions-street-{today.isoformat()}.csv", rows)
