"""Reports (举报) and how each was handled: filed, acknowledged, investigated step by
step, concluded with a finding.

One row per act, keyed by its entry's ``seq`` and never changed, with the act's own
fields as JSON; a read folds them per report. The filing's row keeps the sealed
identity only as the ciphertext it is in the chain, and the receipt code only as its
SHA-256, in a column of its own so that a reporter's lookup finds the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Final

from projections.acts import Act, act_rows, fields_json, fields_of
from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent
from projections.runner import Projection

#: Each act's fields kept, besides who did it and when.
_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "filed": ("subject", "text", "sealed_identity", "key_id", "filed_on"),
    "acknowledged": ("note",),
    "investigation-step-recorded": ("step",),
    "concluded": ("finding", "conclusion"),
}


@dataclass(slots=True)
class ReportView:
    """One report, as its acts up to some entry left it."""

    report_id: str
    filed: Act
    acknowledged: Act | None = None
    steps: list[Act] = field(default_factory=list)
    concluded: Act | None = None
    last_seq: int = 0

    @property
    def status(self) -> str:
        """ "filed", "acknowledged", "investigating" or "concluded"."""
        if self.concluded is not None:
            return "concluded"
        if self.steps:
            return "investigating"
        return "acknowledged" if self.acknowledged is not None else "filed"


class ReportsProjection(Projection):
    name: ClassVar[str] = "reports"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS report_acts (community TEXT NOT NULL, "
            "seq BIGINT NOT NULL, report_id TEXT NOT NULL, act TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, actor TEXT NOT NULL, actor_role TEXT NOT NULL, "
            "receipt_sha256 TEXT NOT NULL, fields TEXT NOT NULL, "
            "PRIMARY KEY (community, seq)) WITHOUT ROWID",
        ]

    def tables(self) -> list[str]:
        return ["report_acts"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        rows = [
            (
                community_id,
                e.seq,
                e.aggregate_id,
                e.kind,
                e.recorded_at,
                e.actor,
                e.actor_role,
                str(e.state.get("receipt_sha256") or ""),
                fields_json({n: e.state.get(n) for n in _FIELDS[e.kind]}),
            )
            for e in events
            if e.area == "report" and e.kind in _FIELDS
        ]
        if rows:
            tx.executemany(
                "INSERT INTO report_acts (community, seq, report_id, act, recorded_at, "
                "actor, actor_role, receipt_sha256, fields) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )


def reports(
    db: ReadDB, community_id: str, as_of: int | None = None, report_id: str | None = None
) -> list[ReportView]:
    """The community's reports up to entry ``as_of`` (or the one ``report_id``), the
    latest filed first."""
    only = {"report_id": report_id} if report_id is not None else {}
    rows = act_rows(
        db,
        "report_acts",
        "seq, report_id, act, recorded_at, actor, actor_role, fields",
        community_id,
        as_of,
        **only,
    )
    found: dict[str, ReportView] = {}
    for seq, rid, kind, at, actor, role, fields in rows:
        act = Act(int(seq), at, actor, role, fields_of(fields))
        if kind == "filed":
            found[rid] = ReportView(rid, act, last_seq=act.seq)
            continue
        view = found.get(rid)
        if view is None:
            continue  # an act on a report never filed here
        view.last_seq = act.seq
        if kind == "investigation-step-recorded":
            view.steps.append(act)
        elif kind == "acknowledged" and view.acknowledged is None:
            view.acknowledged = act
        elif kind == "concluded" and view.concluded is None:
            view.concluded = act
    return sorted(found.values(), key=lambda v: v.filed.seq, reverse=True)


def report(
    db: ReadDB, community_id: str, report_id: str, as_of: int | None = None
) -> ReportView | None:
    found = reports(db, community_id, as_of, report_id)
    return found[0] if found else None


def report_by_receipt(db: ReadDB, community_id: str, receipt_sha256: str) -> ReportView | None:
    """The report whose receipt code has this digest, if any."""
    with db.reading() as tx:
        rows = tx.query(
            "SELECT report_id FROM report_acts WHERE community = ? AND act = 'filed' "
            "AND receipt_sha256 = ?",
            [community_id, receipt_sha256],
        )
    return report(db, community_id, str(rows[0][0])) if rows else None
