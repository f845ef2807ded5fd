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
        # Rows in the order they are applied (rowid), found through an index on the
        # digest's first 8 bytes as an integer: a voucher's digest is random, and a
        # clustered key or an index on the 64 hex digits puts every insert at a random
        # place in a large B-tree, which was most of a catch-up's time.
        return [
            "CREATE TABLE IF NOT EXISTS attachment_refs (community TEXT NOT NULL, "
            "sha256 TEXT NOT NULL, prefix BIGINT NOT NULL, seq BIGINT NOT NULL, "
            "subject TEXT NOT NULL, subject_id TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS attachment_refs_by_prefix "
            "ON attachment_refs (community, prefix)",
        ]

    def tables(self) -> list[str]:
        return ["attachment_refs"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        rows: list[tuple[str, str, int, int, str, str]] = []
        for event in events:
            named: list[str] = []
            subject = "voucher"
            if event.area == "disclosure" and event.kind in _CONTENT_KINDS:
                # A version naming a file twice is one reference.
                named, subject = list(dict.fromkeys(event.strings("attachments"))), "disclosure"
            elif event.area == "finance" and event.kind == "entry-recorded":
                named = [d] if (d := event.text("voucher_sha256")) else []
            rows.extend(
                (community_id, d, prefix_of(d), event.seq, subject, event.aggregate_id)
                for d in named
            )
        if rows:
            tx.executemany(
                "INSERT INTO attachment_refs (community, sha256, prefix, seq, subject, "
                "subject_id) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )


def prefix_of(sha256: str) -> int:
    """The digest's first 8 bytes as a signed 64-bit integer (what both databases'
    BIGINT hold); 0 for text that is not hex, which the full digest then tells apart."""
    try:
        return int.from_bytes(bytes.fromhex(sha256[:16]), "big", signed=True)
    except ValueError:
        return 0


def refs_to(db: ReadDB, community_id: str, sha256: str) -> list[AttachmentRef]:
    """Every item of the community naming the file, oldest first."""
    with db.reading() as tx:
        rows = tx.query(
            "SELECT DISTINCT subject, subject_id, seq FROM attachment_refs "
            "WHERE community = ? AND prefix = ? AND sha256 = ? ORDER BY seq",
            (community_id, prefix_of(sha256), sha256),
        )
    return [AttachmentRef(subject, subject_id, int(seq)) for subject, subject_id, seq in rows]
