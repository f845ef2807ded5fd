"""Which items name each attachment: every disclosure version and every finance entry
that records a file's SHA-256. A file is served to a reader only if one of the items
naming it may be seen by that reader, so the attachment route asks this read model, not
the file store, whether a reader may have the file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, Literal

from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent
from projections.runner import Projection

#: The disclosure events that carry a version's attachments.
_CONTENT_KINDS: Final = frozenset({"drafted", "draft-revised", "corrected"})

Subject = Literal["disclosure", "voucher"]


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """One item naming the file: a disclosure (any of its versions) or a finance entry's
    voucher (凭证)."""

    subject: Subject
    subject_id: str
    seq: int


class AttachmentRefsProjection(Projection):
    name: ClassVar[str] = "attachment_refs"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS attachment_refs (community TEXT NOT NULL, "
            "sha256 TEXT NOT NULL, seq BIGINT NOT NULL, subject TEXT NOT NULL, "
            "subject_id TEXT NOT NULL, PRIMARY KEY (community, sha256, seq)) WITHOUT ROWID",
        ]

    def tables(self) -> list[str]:
        return ["attachment_refs"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        rows: list[tuple[str, str, int, str, str]] = []
        for event in events:
            named: list[str] = []
            subject = "voucher"
            if event.area == "disclosure" and event.kind in _CONTENT_KINDS:
                # A version naming a file twice is one reference.
                named, subject = list(dict.fromkeys(event.strings("attachments"))), "disclosure"
            elif event.area == "finance" and event.kind == "entry-recorded":
                named = [d] if (d := event.text("voucher_sha256")) else []
            rows.extend((community_id, d, event.seq, subject, event.aggregate_id) for d in named)
        if rows:
            tx.executemany(
                "INSERT INTO attachment_refs (community, sha256, seq, subject, subject_id) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                rows,
            )


def refs_to(db: ReadDB, community_id: str, sha256: str) -> list[AttachmentRef]:
    """Every item of the community naming the file, oldest first."""
    with db.reading() as tx:
        rows = tx.query(
            "SELECT subject, subject_id, seq FROM attachment_refs "
            "WHERE community = ? AND sha256 = ? ORDER BY seq",
            (community_id, sha256),
        )
    return [AttachmentRef(subject, subject_id, int(seq)) for subject, subject_id, seq in rows]
