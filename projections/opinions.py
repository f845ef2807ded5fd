"""Residents' opinions (意见) on posted disclosures and the clerk's answers (答复).

One row per act, keyed by its entry's ``seq`` and never changed, so the opinions as
they stood after entry ``k`` are the rows with ``seq <= k`` (``as_of``). An answer
names only its opinion and its disclosure; a read joins the two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent
from projections.runner import Projection

_KINDS: Final = frozenset({"opinion-left", "opinion-answered"})
_COLUMNS: Final = (
    "seq, opinion_id, disclosure_id, act, recorded_at, actor, actor_role, resident, "
    "version, text, text_public"
)


@dataclass(frozen=True, slots=True)
class Answer:
    seq: int
    recorded_at: str  # ISO 8601, UTC
    actor: str
    text: str


@dataclass(frozen=True, slots=True)
class Opinion:
    """An opinion and, once given, its answer."""

    opinion_id: str
    disclosure_id: str
    version: int  # the content version it was left on
    seq: int
    recorded_at: str  # ISO 8601, UTC
    actor: str  # the account that left it
    actor_role: str  # "resident" or "resident_representative"
    resident: str  # the name it is signed with
    text: str
    text_public: bool  # whether the resident chose to have the text shown to the public
    answer: Answer | None


class OpinionsProjection(Projection):
    name: ClassVar[str] = "opinions"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS opinion_acts (community TEXT NOT NULL, "
            "seq BIGINT NOT NULL, opinion_id TEXT NOT NULL, disclosure_id TEXT NOT NULL, "
            "act TEXT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL, "
            "actor_role TEXT NOT NULL, resident TEXT NOT NULL, version BIGINT NOT NULL, "
            "text TEXT NOT NULL, text_public INTEGER NOT NULL, "
            "PRIMARY KEY (community, seq)) WITHOUT ROWID",
            "CREATE INDEX IF NOT EXISTS opinion_acts_by_disclosure "
            "ON opinion_acts (community, disclosure_id, seq)",
        ]

    def tables(self) -> list[str]:
        return ["opinion_acts"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        rows = [
            _row(community_id, event)
            for event in events
            if event.area == "disclosure" and event.kind in _KINDS
        ]
        if rows:
            tx.executemany(
                f"INSERT INTO opinion_acts (community, {_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )


def _row(community_id: str, event: LedgerEvent) -> tuple[Any, ...]:
    left = event.kind == "opinion-left"
    return (
        community_id,
        event.seq,
        event.uuid("opinion_id") or "",
        event.aggregate_id,
        event.kind,
        event.recorded_at,
        event.actor,
        event.actor_role,
        event.text("resident") if left else "",
        (event.number("disclosure_version") or 0) if left else 0,
        event.text("text") if left else event.text("answer"),
        1 if left and event.state.get("text_public") is True else 0,
    )


def opinions(
    db: ReadDB, community_id: str, disclosure_id: str | None = None, as_of: int | None = None
) -> list[Opinion]:
    """The opinions of the community (or of one disclosure) up to entry ``as_of``,
    oldest first, each with its answer if one was given by then."""
    params: list[Any]
    where, params = "community = ?", [community_id]
    if disclosure_id is not None:
        where, params = f"{where} AND disclosure_id = ?", [*params, str(disclosure_id)]
    if as_of is not None:
        where, params = f"{where} AND seq <= ?", [*params, as_of]
    with db.reading() as tx:
        rows = tx.query(f"SELECT {_COLUMNS} FROM opinion_acts WHERE {where} ORDER BY seq", params)
    left: dict[str, Opinion] = {}
    answers: dict[str, Answer] = {}
    for seq, oid, did, act, at, actor, role, resident, version, text, public in rows:
        if act == "opinion-left":
            left[oid] = Opinion(
                oid,
                did,
                int(version),
                int(seq),
                at,
                actor,
                role,
                resident,
                text,
                bool(public),
                None,
            )
        elif oid not in answers:  # the ledger answers each once; the first one stands
            answers[oid] = Answer(int(seq), at, actor, text)
    return [dataclasses.replace(o, answer=answers.get(o.opinion_id)) for o in left.values()]


def counts(db: ReadDB, community_id: str, as_of: int | None = None) -> dict[str, tuple[int, int]]:
    """For each disclosure with opinions: (opinions left, of them answered). The board
    asks on every render it does not keep, so this is one aggregate query; the ledger
    answers each opinion once, so the answers count the answered opinions."""
    params: list[Any] = [community_id]
    bound = ""
    if as_of is not None:
        bound, params = " AND seq <= ?", [*params, as_of]
    with db.reading() as tx:
        rows = tx.query(
            "SELECT disclosure_id, SUM(CASE WHEN act = 'opinion-left' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN act = 'opinion-answered' THEN 1 ELSE 0 END) FROM opinion_acts "
            f"WHERE community = ?{bound} GROUP BY disclosure_id",
            params,
        )
    return {did: (int(left), int(answered)) for did, left, answered in rows if int(left)}
