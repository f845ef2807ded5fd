"""Inquiries (质询) and what became of each: filed, answered, marked unsatisfactory,
escalated, closed by the accountability meeting's record.

One row per act, keyed by its entry's ``seq`` and never changed, with the act's own
fields as JSON; a read folds them per inquiry, so the inquiries as they stood after
entry ``k`` are the rows with ``seq <= k`` (``as_of``). What an inquiry's status is
depends on the day too (an open inquiry is overdue once its deadline has passed), so
:meth:`InquiryView.status` takes the China date it is asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Final

from ledger.domain.inquiry import escalation_reason
from projections.acts import Act, act_rows, fields_json, fields_of
from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent
from projections.runner import Projection

#: Each act's fields kept, besides who did it and when.
_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "filed": (
        "question",
        "representative",
        "on_behalf_of",
        "disclosure_id",
        "filed_on",
        "due_on",
        "working_days",
        "calendar",
    ),
    "answered": ("answer", "answered_on"),
    "marked-unsatisfactory": ("reason",),
    "escalated": ("reason", "found_on"),
    "meeting-recorded": ("meeting", "held_on", "present", "conclusion"),
}


@dataclass(slots=True)
class InquiryView:
    """One inquiry, as its acts up to some entry left it."""

    inquiry_id: str
    filed: Act
    answered: Act | None = None
    unsatisfactory: Act | None = None
    escalated: Act | None = None
    meeting: Act | None = None
    #: The last entry applied to it.
    last_seq: int = 0
    acts: list[Act] = field(default_factory=list)

    def text(self, name: str) -> str:
        value = self.filed.fields.get(name)
        return value if isinstance(value, str) else ""

    @property
    def due_on(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.text("due_on"))
        except ValueError:
            return None

    def status(self, today: dt.date) -> str:
        """ "open", "answered", "overdue", "escalated" or "closed" on ``today`` (China)."""
        if self.meeting is not None:
            return "closed"
        if self.escalated is not None:
            return "escalated"
        if self.answered is not None:
            return "answered"
        due = self.due_on
        return "overdue" if due is not None and today > due else "open"

    def due_for_escalation(self, today: dt.date) -> bool:
        """Whether the service is to escalate it on ``today``, as far as this read model
        knows (the ledger checks again on the inquiry itself)."""
        due = self.due_on
        if self.escalated is not None or self.meeting is not None or due is None:
            return False
        answered_on = None
        if self.answered is not None:
            try:
                answered_on = dt.date.fromisoformat(str(self.answered.fields.get("answered_on")))
            except ValueError:
                answered_on = due  # unreadable: judged by the unsatisfactory mark alone
        unsatisfactory = self.unsatisfactory is not None
        return escalation_reason(due, answered_on, unsatisfactory, today) is not None


class InquiriesProjection(Projection):
    name: ClassVar[str] = "inquiries"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS inquiry_acts (community TEXT NOT NULL, "
            "seq BIGINT NOT NULL, inquiry_id TEXT NOT NULL, act TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, actor TEXT NOT NULL, actor_role TEXT NOT NULL, "
            "fields TEXT NOT NULL, PRIMARY KEY (community, seq)) WITHOUT ROWID",
        ]

    def tables(self) -> list[str]:
        return ["inquiry_acts"]

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
                fields_json({n: e.state.get(n) for n in _FIELDS[e.kind]}),
            )
            for e in events
            if e.area == "inquiry" and e.kind in _FIELDS
        ]
        if rows:
            tx.executemany(
                "INSERT INTO inquiry_acts (community, seq, inquiry_id, act, recorded_at, "
                "actor, actor_role, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )


def inquiries(db: ReadDB, community_id: str, as_of: int | None = None) -> list[InquiryView]:
    """The community's inquiries up to entry ``as_of``, the latest filed first."""
    rows = act_rows(
        db,
        "inquiry_acts",
        "seq, inquiry_id, act, recorded_at, actor, actor_role, fields",
        community_id,
        as_of,
    )
    found: dict[str, InquiryView] = {}
    for seq, inquiry_id, kind, at, actor, role, fields in rows:
        act = Act(int(seq), at, actor, role, fields_of(fields))
        if kind == "filed":
            found[inquiry_id] = InquiryView(inquiry_id, act, last_seq=act.seq, acts=[act])
            continue
        view = found.get(inquiry_id)
        if view is None:
            continue  # an act on an inquiry never filed here
        view.acts.append(act)
        view.last_seq = act.seq
        slot = {
            "answered": "answered",
            "marked-unsatisfactory": "unsatisfactory",
            "escalated": "escalated",
            "meeting-recorded": "meeting",
        }[kind]
        if getattr(view, slot) is None:  # the ledger records each once; the first stands
            setattr(view, slot, act)
    return sorted(found.values(), key=lambda v: v.filed.seq, reverse=True)


def inquiry(
    db: ReadDB, community_id: str, inquiry_id: str, as_of: int | None = None
) -> InquiryView | None:
    return next(
        (v for v in inquiries(db, community_id, as_of) if v.inquiry_id == inquiry_id), None
    )
