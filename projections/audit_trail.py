"""The audit trail: every review and approval act, one row each, by whom and in what role.

The street disciplinary committee (街道纪工委) audits history and the supervision
committee verifies the record [004 篇六]: they ask "what was done to this disclosure
(objection, finance entry), by whom, when, and with what opinion?" and "what did this
person, or everyone in this role, do?". The confidentiality review must keep each
stage's opinion and date [004 篇七]. Each act is one row keyed by its entry's ``seq``;
rows are never changed, so the trail as it stood after entry ``k`` is the rows with
``seq <= k``.

Drafting and revising are the clerk's preparation, not an act of review or approval,
and are left to the history read model (:mod:`projections.history`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final
from uuid import UUID

from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent, id_text
from projections.runner import Projection

#: (area, kind) of each act -> (what its subject is, the field holding its opinion or
#: reason, the field naming a related subject).
_ACTS: Final[dict[tuple[str, str], tuple[str, str, str]]] = {
    ("disclosure", "submitted-for-review"): ("disclosure", "", ""),
    ("disclosure", "reviewed"): ("disclosure", "opinion", ""),
    ("disclosure", "published"): ("disclosure", "", ""),
    ("disclosure", "withdrawn"): ("disclosure", "reason", ""),
    ("disclosure", "archived"): ("disclosure", "", ""),
    ("disclosure", "corrected"): ("disclosure", "", "correction_id"),
    ("disclosure", "opinion-left"): ("disclosure", "text", ""),
    ("disclosure", "opinion-answered"): ("disclosure", "answer", ""),
    ("correction", "objection-raised"): ("objection", "content", "disclosure_id"),
    ("correction", "objection-verified"): ("objection", "finding", ""),
    ("correction", "objection-dismissed"): ("objection", "reason", ""),
    ("correction", "correction-drafted"): ("objection", "explanation", ""),
    ("correction", "correction-reviewed"): ("objection", "opinion", ""),
    ("correction", "correction-published"): ("objection", "explanation", "disclosure_id"),
    ("inquiry", "filed"): ("inquiry", "question", "disclosure_id"),
    ("inquiry", "answered"): ("inquiry", "answer", ""),
    ("inquiry", "marked-unsatisfactory"): ("inquiry", "reason", ""),
    ("inquiry", "escalated"): ("inquiry", "reason", ""),
    ("inquiry", "meeting-recorded"): ("inquiry", "conclusion", ""),
    ("finance", "entry-recorded"): ("finance_entry", "memo", "reverses"),
    ("finance", "entry-reversed"): ("finance_entry", "reason", "reversal_id"),
    ("meeting", "called"): ("meeting", "place", ""),
    ("meeting", "notice-posted"): ("meeting", "", "disclosure_id"),
    ("meeting", "attendance-recorded"): ("meeting", "", ""),
    ("meeting", "resolution-voted"): ("meeting", "title", "comment_disclosure_id"),
    ("meeting", "resolution-posted"): ("meeting", "", "disclosure_id"),
    ("committee", "post-registered"): ("committee", "post", ""),
    ("committee", "post-left"): ("committee", "body", ""),
    ("committee", "relationship-declared"): ("committee", "relation", ""),
    ("committee", "committee-elected"): ("committee", "chair", "meeting_id"),
    ("committee", "member-resigned"): ("committee", "reason", ""),
    ("committee", "member-recalled"): ("committee", "reason", "meeting_id"),
    # A democratic evaluation's round, as the street holds it. Its ballots are not acts
    # of anyone: each is stored under its code's hash alone, and stays off this trail.
    ("evaluation", "opened"): ("evaluation", "", ""),
    ("evaluation", "report-recorded"): ("evaluation", "person", ""),
    ("evaluation", "codes-committed"): ("evaluation", "", ""),
    ("evaluation", "voting-opened"): ("evaluation", "", ""),
    ("evaluation", "voting-closed"): ("evaluation", "", ""),
    ("evaluation", "tally-published"): ("evaluation", "", ""),
    ("evaluation", "consequences-recorded"): ("evaluation", "note", ""),
    # The erasure of a person's personal data, with its reason (PIPL 第四十七条).
    ("person", "erased"): ("person", "reason", ""),
}

_COLUMNS: Final = (
    "seq, recorded_at, subject_kind, subject_id, act, actor, actor_role, stage, outcome, "
    "opinion, related_id, seal_key, seal_signature"
)


@dataclass(frozen=True, slots=True)
class AuditAct:
    """One act on the record."""

    seq: int
    recorded_at: str  # ISO 8601, UTC
    community_id: str
    subject_kind: str  # "disclosure", "objection", "finance_entry", "meeting", ...
    subject_id: UUID
    act: str  # the event's kind: "reviewed", "objection-verified", "entry-reversed", ...
    actor: str
    actor_role: str
    stage: str  # for a review: "committee", "party_branch", "first", "second", "final"
    outcome: str  # for a review: "approved" or "rejected"
    opinion: str  # the opinion, reason, finding or explanation given ("" if none)
    # The other subject the act concerns: the disclosure an objection is about, the
    # objection a correction answers, the entry a reversal reverses or is reversed by.
    related_id: UUID | None
    # A sealed review's seal (监审印章): the key as <name>+<hex key ID> and the signature
    # in base64 (ledger.seal.review_seal); "" for every other act.
    seal_key: str = ""
    seal_signature: str = ""


class AuditTrailProjection(Projection):
    name: ClassVar[str] = "audit_trail"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS audit_acts (community TEXT NOT NULL, "
            "seq BIGINT NOT NULL, recorded_at TEXT NOT NULL, subject_kind TEXT NOT NULL, "
            "subject_id TEXT NOT NULL, act TEXT NOT NULL, actor TEXT NOT NULL, "
            "actor_role TEXT NOT NULL, stage TEXT NOT NULL, outcome TEXT NOT NULL, "
            "opinion TEXT NOT NULL, related_id TEXT, seal_key TEXT NOT NULL, "
            "seal_signature TEXT NOT NULL, PRIMARY KEY (community, seq)) WITHOUT ROWID",
            "CREATE INDEX IF NOT EXISTS audit_acts_by_subject "
            "ON audit_acts (community, subject_id, seq)",
            # Most acts (a finance entry recorded) relate to nothing: they are not indexed.
            "CREATE INDEX IF NOT EXISTS audit_acts_by_related "
            "ON audit_acts (community, related_id, seq) WHERE related_id IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS audit_acts_by_actor ON audit_acts (community, actor, seq)",
            "CREATE INDEX IF NOT EXISTS audit_acts_by_role "
            "ON audit_acts (community, actor_role, seq)",
        ]

    def tables(self) -> list[str]:
        return ["audit_acts"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        # One INSERT for the batch's acts; written before a lookup of earlier acts.
        pending: list[tuple[Any, ...]] = []
        for event in events:
            act = _ACTS.get((event.area, event.kind))
            if act is None:
                continue
            subject_kind, opinion_field, related_field = act
            related = event.uuid(related_field) if related_field else None
            if related is None and subject_kind == "objection":
                _insert(tx, pending)
                related = _objected_disclosure(tx, community_id, event)
            text = event.text  # a catch-up makes this row for most entries
            pending.append(
                (
                    community_id,
                    event.seq,
                    event.recorded_at,
                    subject_kind,
                    event.aggregate_id,
                    event.kind,
                    text("actor"),
                    text("actor_role"),
                    text("stage"),
                    text("outcome"),
                    text(opinion_field) if opinion_field else "",
                    related,
                    text("seal_key"),
                    text("seal_signature"),
                )
            )
        _insert(tx, pending)


def _insert(tx: Tx, pending: list[tuple[Any, ...]]) -> None:
    if pending:
        tx.executemany(
            f"INSERT INTO audit_acts (community, {_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            pending,
        )
        pending.clear()


def _objected_disclosure(tx: Tx, community_id: str, event: LedgerEvent) -> str | None:
    """Verification and dismissal name only the objection: link them to the disclosure
    named when it was raised, so that a disclosure's trail shows how it was handled."""
    raised = tx.query(
        "SELECT related_id FROM audit_acts WHERE community = ? AND subject_id = ? "
        "AND act = ? ORDER BY seq LIMIT 1",
        (community_id, event.aggregate_id, "objection-raised"),
    )
    return raised[0][0] if raised else None


def acts_for(
    db: ReadDB,
    community_id: str,
    subject_id: UUID | str,
    as_of: int | None = None,
    *,
    with_related: bool = False,
) -> list[AuditAct]:
    """The acts on one disclosure, objection or finance entry up to entry ``as_of``
    (every one, when None), in order. With ``with_related``, also the acts that concern
    it from elsewhere: the objections about a disclosure, a reversal of an entry."""
    key = id_text(subject_id, "subject_id")
    if with_related:
        return _acts(db, community_id, "(subject_id = ? OR related_id = ?)", [key, key], as_of)
    return _acts(db, community_id, "subject_id = ?", [key], as_of)


def acts_by(
    db: ReadDB,
    community_id: str,
    actor: str | None = None,
    *,
    role: str | None = None,
    as_of: int | None = None,
) -> list[AuditAct]:
    """The acts of ``actor``, of everyone acting in ``role``, or of ``actor`` in
    ``role``, up to entry ``as_of`` (every one, when None), in order. With neither
    actor nor role, the whole trail."""
    conditions, params = [], []
    if actor is not None:
        conditions.append("actor = ?")
        params.append(actor)
    if role is not None:
        conditions.append("actor_role = ?")
        params.append(role)
    return _acts(db, community_id, " AND ".join(conditions) or "1 = 1", params, as_of)


def subjects_with(db: ReadDB, community_id: str, subject_kind: str, act: str) -> list[str]:
    """The subjects of ``subject_kind`` that had ``act`` (each meeting "called"), the
    latest first."""
    with db.reading() as tx:
        rows = tx.query(
            "SELECT subject_id FROM audit_acts WHERE community = ? AND subject_kind = ? "
            "AND act = ? ORDER BY seq DESC",
            (community_id, subject_kind, act),
        )
    return [str(row[0]) for row in rows]


def _acts(
    db: ReadDB, community_id: str, condition: str, params: list[Any], as_of: int | None
) -> list[AuditAct]:
    where = f"community = ? AND {condition}"
    values: list[Any] = [community_id, *params]
    if as_of is not None:
        where += " AND seq <= ?"
        values.append(as_of)
    with db.reading() as tx:
        rows = tx.query(f"SELECT {_COLUMNS} FROM audit_acts WHERE {where} ORDER BY seq", values)
    return [_act(community_id, row) for row in rows]


def _act(community_id: str, row: tuple[Any, ...]) -> AuditAct:
    seq, recorded_at, subject_kind, subject_id, act, actor, role, stage, outcome = row[:9]
    opinion, related_id, seal_key, seal_signature = row[9:]
    return AuditAct(
        seq=int(seq),
        recorded_at=recorded_at,
        community_id=community_id,
        subject_kind=subject_kind,
        subject_id=UUID(subject_id),
        act=act,
        actor=actor,
        actor_role=role,
        stage=stage,
        outcome=outcome,
        opinion=opinion,
        related_id=UUID(related_id) if related_id else None,
        seal_key=seal_key,
        seal_signature=seal_signature,
    )
