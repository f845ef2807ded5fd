"""What the bundle writer is given and what it answers: :class:`BundleContents`
(plain data gathered from the store elsewhere), the :class:`ProofWriter` that may
compute the proofs in a process of its own, and the :class:`BundleSummary` of a written
bundle."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from ledger.store.base import RawRow


@runtime_checkable
class ProofWriter(Protocol):
    """Writes proofs.jsonl elsewhere (see :mod:`ledger.bundle.proof_writer`): given each
    entry's hash once the entry passed its checks, it works out the entry's proof,
    checks it against the checkpoint and writes its line to the file at ``path``."""

    path: Path

    def add(self, seq: int, entry_hash: bytes) -> None: ...

    def finish(self) -> tuple[str, int]:
        """The SHA-256 of the file and the number of proofs; raises
        BundleVerificationError if a proof did not check."""
        ...


@dataclass(frozen=True, slots=True)
class BundleContents:
    """Everything :func:`write_bundle` needs, as plain data.

    ``rows`` are the raw chain rows ``first_seq..last_seq`` in order and ``proofs`` the
    inclusion proof of each (aligned with ``rows``) in the tree of ``signed_checkpoint``,
    whose size is ``tree_size``. Both may be iterators, consumed once, so that a long
    range is streamed; or ``proofs`` is a :class:`ProofWriter` that works out, checks and
    writes them elsewhere as it is given the entries. ``attachments`` maps SHA-256 hex to
    the bytes, or to the file holding them (copied in as it is read).
    """

    community_id: str
    community_name: str
    origin: str
    first_seq: int
    last_seq: int
    rows: Iterable[RawRow]
    proofs: Iterable[Sequence[bytes]] | ProofWriter
    signed_checkpoint: str
    tree_size: int
    board_html: str
    period: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    attachments: Mapping[str, bytes | Path] = field(default_factory=dict)
    # Ascending, without repeats: streamed into attachments-missing.txt.
    attachments_missing: Iterable[str] = ()
    created_at: datetime | None = None
    #: personal-keys.json (:func:`ledger.bundle.personal_keys.personal_keys_json`), only
    #: in a bundle for readers who may see the personal data; None leaves it out.
    personal_keys: bytes | None = None


@dataclass(frozen=True, slots=True)
class BundleSummary:
    """What :func:`write_bundle` wrote."""

    path: Path
    sha256: str
    size: int
    manifest_sha256: str
    entries: int
    attachments: int
    files: Mapping[str, str]
