"""The disclosure calendar (公开目录) as it stands: each obligation with its cadence,
due rule, scope and whether it is in force. One row per act, never changed; a read folds
them, so the calendar as it stood after entry ``k`` is the rows with ``seq <= k``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from projections.acts import Act, act_rows, fields_json, fields_of
from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent
from projections.runner import Projection

_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "adopted": ("title", "category", "cadence", "due_days", "scope", "basis"),
    "approved": ("opinion",),
    "retired": ("reason",),
}
#: A disclosure's declaration of the obligation it fulfils, kept under the obligation.
_COVERED: Final = "coverage-declared"
#: The acts that put a disclosure up or take it down, kept for the compliance view.
_POSTING: Final = frozenset({"published", "withdrawn", "archived"})


@dataclass(slots=True)
class ObligationView:
    obligation_id: str
    adopted: Act
    approved: Act | None = None
    retired: Act | None = None
    #: The disclosures declared to fulfil it, each act's fields its disclosure_id and period.
    covered: list[Act] = field(default_factory=list)

    def value(self, name: str) -> Any:
        return self.adopted.fields.get(name)

    @property
    def status(self) -> str:
        """ "adopted" (awaiting the committee), "in_force" or "retired"."""
        if self.retired is not None:
            return "retired"
        return "in_force" if self.approved is not None else "adopted"


class CalendarProjection(Projection):
    name: ClassVar[str] = "calendar"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS calendar_acts (community TEXT NOT NULL, "
            "seq BIGINT NOT NULL, obligation_id TEXT NOT NULL, act TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, actor TEXT NOT NULL, actor_role TEXT NOT NULL, "
            "fields TEXT NOT NULL, PRIMARY KEY (community, seq)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS calendar_postings (community TEXT NOT NULL, "
            "seq BIGINT NOT NULL, disclosure_id TEXT NOT NULL, act TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, period_until TEXT NOT NULL, "
            "PRIMARY KEY (community, seq)) WITHOUT ROWID",
        ]

    def tables(self) -> list[str]:
        return ["calendar_acts", "calendar_postings"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        rows, postings = [], []
        for e in events:
            if e.area == "disclosure" and e.kind in _POSTING:
                postings.append(
                    (community_id, e.seq, e.aggregate_id, e.kind, e.recorded_at,
                     e.text("period_until"))
                )  # fmt: skip
                continue
            if e.area == "obligation" and e.kind in _FIELDS:
                oid, fields = e.aggregate_id, {n: e.state.get(n) for n in _FIELDS[e.kind]}
            elif e.area == "disclosure" and e.kind == _COVERED:
                oid = e.text("obligation_id")
                fields = {"disclosure_id": e.aggregate_id, "period": e.text("period")}
            else:
                continue
            text = fields_json(fields)
            rows.append(
                (community_id, e.seq, oid, e.kind, e.recorded_at, e.actor, e.actor_role, text)
            )
        if rows:
            tx.executemany(
                "INSERT INTO calendar_acts (community, seq, obligation_id, act, recorded_at, "
                "actor, actor_role, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        if postings:
            tx.executemany(
                "INSERT INTO calendar_postings (community, seq, disclosure_id, act, "
                "recorded_at, period_until) VALUES (?, ?, ?, ?, ?, ?)",
                postings,
            )


def calendar(db: ReadDB, community_id: str, as_of: int | None = None) -> list[ObligationView]:
    """The community's obligations up to entry ``as_of``, in the order adopted."""
    rows = act_rows(
        db,
        "calendar_acts",
        "seq, obligation_id, act, recorded_at, actor, actor_role, fields",
        community_id,
        as_of,
    )
    found: dict[str, ObligationView] = {}
    for seq, oid, kind, at, actor, role, fields in rows:
        act = Act(int(seq), at, actor, role, fields_of(fields))
        if kind == "adopted":
            found[oid] = ObligationView(oid, act)
        elif (view := found.get(oid)) is not None:
            if kind == "approved" and view.approved is None:
                view.approved = act
            elif kind == "retired" and view.retired is None:
                view.retired = act
            elif kind == _COVERED:
                view.covered.append(act)
    return list(found.values())


@dataclass(frozen=True, slots=True)
class Posting:
    """A disclosure put up (``published``, with its posting period's last day) or taken
    down (``withdrawn``, ``archived``)."""

    seq: int
    act: str
    recorded_at: str
    period_until: str


def postings(db: ReadDB, community_id: str, as_of: int | None = None) -> dict[str, list[Posting]]:
    """Each disclosure's postings up to entry ``as_of``, in order."""
    columns = "seq, disclosure_id, act, recorded_at, period_until"
    rows = act_rows(db, "calendar_postings", columns, community_id, as_of)
    found: dict[str, list[Posting]] = {}
    for seq, did, act, at, until in rows:
        found.setdefault(did, []).append(Posting(int(seq), act, at, until))
    return found
