"""Every version of each disclosure's content, and the objections that led to corrections.

The original stays on the record: a correction is a new version that points at the one
it corrects [004 篇六]. This read model keeps each version whole — the draft is version
1, each revision before review and each correction after publication the next — so that
an auditor can read what was posted at any moment and what changed between versions
(:func:`changes`), and beside them the objections (异议) raised against the disclosure
and how each was handled.

Versions and objection acts are never changed once recorded, so the state after entry
``k`` is simply the rows with ``seq <= k``: no ``valid_to`` column is needed.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final
from uuid import UUID

from ledger.domain.personal_data import stored_recipients
from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent, id_text
from projections.runner import Projection

#: The events that make a new version of a disclosure's content.
_CONTENT_KINDS: Final = frozenset({"drafted", "draft-revised", "corrected"})
#: The events of an objection's life, each linked to the disclosure it concerns.
_OBJECTION_KINDS: Final = frozenset(
    {
        "objection-raised",
        "objection-verified",
        "objection-dismissed",
        "correction-drafted",
        "correction-reviewed",
        "correction-published",
    }
)
#: The objection acts whose event names the disclosure itself.
_NAMES_DISCLOSURE: Final = frozenset({"objection-raised", "correction-published"})
#: What each objection act says, in its own words.
_OBJECTION_TEXT: Final = {
    "objection-raised": "content",
    "objection-verified": "finding",
    "objection-dismissed": "reason",
    "correction-drafted": "explanation",
    "correction-reviewed": "opinion",
    "correction-published": "explanation",
}
#: The fields compared by :func:`changes`, in the order they are reported.
COMPARED_FIELDS: Final = ("category", "scope", "title", "body", "attachments")

_VERSION_COLUMNS: Final = (
    "disclosure_id, version, kind, seq, recorded_at, actor, actor_role, category, scope, "
    "title, body, attachments, correction_id, corrects_version, recipients"
)
_OBJECTION_COLUMNS: Final = (
    "seq, objection_id, disclosure_id, act, recorded_at, actor, actor_role, objector, "
    "form, text, disclosure_version, new_version, corrects_seq, stage, outcome"
)


@dataclass(frozen=True, slots=True)
class ContentVersion:
    """One version of a disclosure's content, as recorded at entry ``seq``."""

    disclosure_id: UUID
    version: int
    kind: str  # "drafted", "draft-revised" or "corrected"
    seq: int
    recorded_at: str  # ISO 8601, UTC
    actor: str
    actor_role: str
    category: str
    scope: str
    title: str
    body: str
    attachments: tuple[str, ...]  # SHA-256 of each file, hex
    correction_id: UUID | None = None  # for a correction: the objection it answers
    corrects_version: int | None = None  # for a correction: the version it replaces
    #: An aid list's people as stored, each {"person_id", "key_id", "sealed"}: sealed
    #: under each person's key (ledger.domain.personal_data), opened only when shown. A
    #: correction keeps the list of the version it corrects.
    recipients: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectionAct:
    """One step of an objection about a disclosure: raised, verified, dismissed, or
    answered by a correction."""

    seq: int
    objection_id: UUID
    disclosure_id: UUID
    act: str  # "objection-raised", "objection-verified", ...
    recorded_at: str
    actor: str
    actor_role: str
    objector: str  # only when raised: who objected (the actor may record it for them)
    form: str  # only when raised: "oral" or "written"
    text: str  # the objection, the finding, the reason for dismissal or the explanation
    disclosure_version: int | None  # the version objected to (or corrected)
    new_version: int | None  # only for a correction: the version it made
    corrects_seq: int | None  # only for a correction: the entry of the corrected version
    # Only for a review of a drafted correction: its stage and "approved" or "rejected".
    stage: str = ""
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class VersionChanges:
    """What differs between two versions: the names of the fields, and for the title and
    the body a line-level unified diff (empty when that field is unchanged)."""

    fields: tuple[str, ...]
    title_diff: tuple[str, ...]
    body_diff: tuple[str, ...]
    attachments_added: tuple[str, ...]
    attachments_removed: tuple[str, ...]


class HistoryProjection(Projection):
    name: ClassVar[str] = "history"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS history_versions (community TEXT NOT NULL, "
            "disclosure_id TEXT NOT NULL, version BIGINT NOT NULL, kind TEXT NOT NULL, "
            "seq BIGINT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL, "
            "actor_role TEXT NOT NULL, category TEXT NOT NULL, scope TEXT NOT NULL, "
            "title TEXT NOT NULL, body TEXT NOT NULL, attachments TEXT NOT NULL, "
            "correction_id TEXT, corrects_version BIGINT, recipients TEXT NOT NULL, "
            "PRIMARY KEY (community, disclosure_id, version))",
            "CREATE TABLE IF NOT EXISTS history_objections (community TEXT NOT NULL, "
            "seq BIGINT NOT NULL, objection_id TEXT NOT NULL, disclosure_id TEXT NOT NULL, "
            "act TEXT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL, "
            "actor_role TEXT NOT NULL, objector TEXT NOT NULL, form TEXT NOT NULL, "
            "text TEXT NOT NULL, disclosure_version BIGINT, new_version BIGINT, "
            "corrects_seq BIGINT, stage TEXT NOT NULL, outcome TEXT NOT NULL, "
            "PRIMARY KEY (community, seq)) WITHOUT ROWID",
            "CREATE INDEX IF NOT EXISTS history_objections_by_disclosure "
            "ON history_objections (community, disclosure_id, seq)",
            "CREATE INDEX IF NOT EXISTS history_objections_by_objection "
            "ON history_objections (community, objection_id, seq)",
        ]

    def tables(self) -> list[str]:
        return ["history_versions", "history_objections"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        # Versions, the common case, are inserted with one statement at the end; each
        # disclosure's latest version is read from the database at most once a batch.
        # Objection acts are few and look up earlier ones, so they are written at once.
        versions = _Versions(tx, community_id)
        for event in events:
            if event.area == "disclosure" and event.kind in _CONTENT_KINDS:
                versions.record(event)
            elif event.area == "correction" and event.kind in _OBJECTION_KINDS:
                _record_objection_act(tx, community_id, event)
        versions.write()


#: A disclosure's latest version: its number, category, scope and recipients (JSON).
_Latest = tuple[int, str, str, str]


class _Versions:
    """The versions a batch records, and each disclosure's latest version so far."""

    def __init__(self, tx: Tx, community_id: str) -> None:
        self._tx = tx
        self._community = community_id
        self._latest: dict[str, _Latest] = {}
        self._pending: list[tuple[Any, ...]] = []

    def latest(self, event: LedgerEvent) -> _Latest | None:
        key = event.aggregate_id
        if key in self._latest:
            return self._latest[key]
        if event.version == 1:
            return None  # the disclosure's first event: the store keeps versions unique
        rows = self._tx.query(
            "SELECT version, category, scope, recipients FROM history_versions "
            "WHERE community = ? AND disclosure_id = ? ORDER BY version DESC LIMIT 1",
            (self._community, key),
        )
        return (int(rows[0][0]), rows[0][1], rows[0][2], rows[0][3]) if rows else None

    def record(self, event: LedgerEvent) -> None:
        latest = self.latest(event)
        listed = stored_recipients(event.state.get("recipients"))
        people = json.dumps(listed, ensure_ascii=False) if listed else "[]"
        if event.kind == "drafted":
            if latest:
                return  # an aggregate is created once; a second draft of it is not a version
            version, category, scope = 1, event.text("category"), event.text("scope")
        elif not latest:
            return  # a revision or correction of a disclosure never drafted here
        elif event.kind == "draft-revised":
            version, category, scope = latest[0] + 1, event.text("category"), event.text("scope")
        else:
            # A correction replaces the title, body and attachments; the rest carries over.
            version, category, scope, people = latest[0] + 1, latest[1], latest[2], latest[3]
        corrected = event.kind == "corrected"
        self._latest[event.aggregate_id] = (version, category, scope, people)
        self._pending.append(
            (
                self._community,
                event.aggregate_id,
                version,
                event.kind,
                event.seq,
                event.recorded_at,
                event.actor,
                event.actor_role,
                category,
                scope,
                event.text("title"),
                event.text("body"),
                json.dumps(attachments) if (attachments := event.strings("attachments")) else "[]",
                event.uuid("correction_id") if corrected else None,
                event.number("corrects_version") if corrected else None,
                people,
            )
        )

    def write(self) -> None:
        if self._pending:
            self._tx.executemany(
                f"INSERT INTO history_versions (community, {_VERSION_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self._pending,
            )


def _record_objection_act(tx: Tx, community_id: str, event: LedgerEvent) -> None:
    disclosure_id = event.uuid("disclosure_id") if event.kind in _NAMES_DISCLOSURE else None
    if disclosure_id is None:
        # Verification and dismissal name only the objection: its disclosure is the one
        # named when it was raised.
        earlier = tx.query(
            "SELECT disclosure_id FROM history_objections "
            "WHERE community = ? AND objection_id = ? ORDER BY seq LIMIT 1",
            (community_id, event.aggregate_id),
        )
        if not earlier:
            return  # an act on an objection never raised here
        disclosure_id = earlier[0][0]
    # Each field is read only from the act that states it (the docstring of ObjectionAct).
    raised = event.kind == "objection-raised"
    corrected = event.kind == "correction-published"
    reviewed = event.kind == "correction-reviewed"
    version_field = "disclosure_version" if raised else "corrects_version"
    tx.execute(
        f"INSERT INTO history_objections (community, {_OBJECTION_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            community_id,
            event.seq,
            event.aggregate_id,
            disclosure_id,
            event.kind,
            event.recorded_at,
            event.actor,
            event.actor_role,
            event.text("objector") if raised else "",
            event.text("form") if raised else "",
            event.text(_OBJECTION_TEXT[event.kind]),
            event.number(version_field) if raised or corrected else None,
            event.number("new_version") if corrected else None,
            event.number("corrects_seq") if corrected else None,
            event.text("stage") if reviewed else "",
            event.text("outcome") if reviewed else "",
        ),
    )


def history(
    db: ReadDB, community_id: str, disclosure_id: UUID | str, as_of: int | None = None
) -> list[ContentVersion]:
    """Every version of the disclosure's content recorded up to entry ``as_of`` (every
    one, when None), oldest first; [] for a disclosure not drafted by then."""
    where, params = _up_to(as_of, [community_id, id_text(disclosure_id, "disclosure_id")])
    with db.reading() as tx:
        rows = tx.query(
            f"SELECT {_VERSION_COLUMNS} FROM history_versions "
            f"WHERE community = ? AND disclosure_id = ?{where} ORDER BY version",
            params,
        )
    return [_version(row) for row in rows]


def objections(
    db: ReadDB, community_id: str, disclosure_id: UUID | str, as_of: int | None = None
) -> list[ObjectionAct]:
    """Every act on the objections about the disclosure up to entry ``as_of`` (every one,
    when None), in the order they were recorded."""
    key = id_text(disclosure_id, "disclosure_id")
    return _objection_acts(db, "community = ? AND disclosure_id = ?", [community_id, key], as_of)


def changes(old: ContentVersion, new: ContentVersion) -> VersionChanges:
    """What changed from ``old`` to ``new`` (usually consecutive versions)."""
    changed = tuple(name for name in COMPARED_FIELDS if getattr(old, name) != getattr(new, name))
    return VersionChanges(
        fields=changed,
        title_diff=_line_diff(old, new, old.title, new.title),
        body_diff=_line_diff(old, new, old.body, new.body),
        attachments_added=tuple(a for a in new.attachments if a not in old.attachments),
        attachments_removed=tuple(a for a in old.attachments if a not in new.attachments),
    )


def _line_diff(
    old: ContentVersion, new: ContentVersion, before: str, after: str
) -> tuple[str, ...]:
    if before == after:
        return ()
    return tuple(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            fromfile=f"v{old.version}",
            tofile=f"v{new.version}",
            lineterm="",
        )
    )


def _up_to(as_of: int | None, params: list[Any]) -> tuple[str, list[Any]]:
    if as_of is None:
        return "", params
    return " AND seq <= ?", [*params, as_of]


def _version(row: tuple[Any, ...]) -> ContentVersion:
    (oid, version, kind, seq, recorded_at, actor, role, category, scope, title, body) = row[:11]
    attachments, correction_id, corrects_version, recipients = row[11:]
    return ContentVersion(
        disclosure_id=UUID(oid),
        version=int(version),
        kind=kind,
        seq=int(seq),
        recorded_at=recorded_at,
        actor=actor,
        actor_role=role,
        category=category,
        scope=scope,
        title=title,
        body=body,
        attachments=tuple(json.loads(attachments)),
        correction_id=UUID(correction_id) if correction_id else None,
        corrects_version=None if corrects_version is None else int(corrects_version),
        recipients=tuple(stored_recipients(json.loads(recipients))),
    )


def _objection_act(row: tuple[Any, ...]) -> ObjectionAct:
    (seq, objection_id, disclosure_id, act, recorded_at, actor, role, objector, form) = row[:9]
    text, disclosure_version, new_version, corrects_seq, stage, outcome = row[9:]
    return ObjectionAct(
        seq=int(seq),
        objection_id=UUID(objection_id),
        disclosure_id=UUID(disclosure_id),
        act=act,
        recorded_at=recorded_at,
        actor=actor,
        actor_role=role,
        objector=objector,
        form=form,
        text=text,
        disclosure_version=_maybe_int(disclosure_version),
        new_version=_maybe_int(new_version),
        corrects_seq=_maybe_int(corrects_seq),
        stage=stage,
        outcome=outcome,
    )


def _maybe_int(value: Any) -> int | None:
    return None if value is None else int(value)


def community_objections(
    db: ReadDB, community_id: str, as_of: int | None = None
) -> list[ObjectionAct]:
    """Every act on every objection of the community up to entry ``as_of`` (every one,
    when None), in the order they were recorded."""
    return _objection_acts(db, "community = ?", [community_id], as_of)


def _objection_acts(
    db: ReadDB, condition: str, params: list[Any], as_of: int | None
) -> list[ObjectionAct]:
    where, values = _up_to(as_of, params)
    with db.reading() as tx:
        rows = tx.query(
            f"SELECT {_OBJECTION_COLUMNS} FROM history_objections "
            f"WHERE {condition}{where} ORDER BY seq",
            values,
        )
    return [_objection_act(row) for row in rows]
