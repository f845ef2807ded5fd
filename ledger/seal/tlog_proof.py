"""C2SP tlog proofs (c2sp.org/tlog-proof): an entry's offline-verifiable proof of inclusion.

A proof bundles, as text, everything needed to check that an entry is in a log without
asking the log: the entry's index, its RFC 6962 inclusion proof, and the signed (and
possibly cosigned) checkpoint the proof leads to::

    c2sp.org/tlog-proof@v1
    [extra <base64 opaque data>]
    index <decimal>
    <base64 hash>          zero or more, leaf's sibling first
    <blank line>
    <signed checkpoint note, verbatim>

This module only reads and writes the format. Verifying a proof (the leaf hash, the
checkpoint's signatures against trusted keys, the cosigner policy, the inclusion proof)
is the caller's job; see the four steps in the spec. The ``extra`` data is not
authenticated and must not be trusted.

Parsing is strict: one spelling per value (canonical base64, decimals without leading
zeroes), and the checkpoint must at least be a well-formed signed note with a
checkpoint body. It is kept verbatim, because its signatures cover its exact text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ledger.errors import FormatError
from ledger.seal.checkpoint import parse_checkpoint
from ledger.seal.note import parse_note
from ledger.seal.note.parse import _decode_base64, _encode_base64, _parse_decimal

HEADER: Final = "c2sp.org/tlog-proof@v1"
HASH_SIZE: Final = 32
MAX_INDEX: Final = 2**64 - 1
# A tree of fewer than 2^64 leaves has inclusion proofs of at most 64 hashes.
MAX_PROOF_HASHES: Final = 64

_EXTRA: Final = "extra "
_INDEX: Final = "index "


def _check_checkpoint(checkpoint: str) -> None:
    """The checkpoint must be a well-formed signed note whose text is a checkpoint."""
    try:
        note = parse_note(checkpoint)
        parse_checkpoint(note.text)
    except FormatError as e:
        raise FormatError(f"tlog proof checkpoint: {e}") from None


@dataclass(frozen=True)
class TlogProof:
    """An entry's index, its inclusion proof (leaf's sibling first), the signed checkpoint
    note (verbatim) and optional opaque, unauthenticated extra data."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if isinstance(self.index, bool) or not 0 <= self.index <= MAX_INDEX:
            raise FormatError(f"tlog proof index must be between 0 and 2^64-1, not {self.index!r}")
        object.__setattr__(self, "hashes", tuple(self.hashes))
        if len(self.hashes) > MAX_PROOF_HASHES:
            raise FormatError(
                f"tlog proof has {len(self.hashes)} hashes; at most {MAX_PROOF_HASHES}"
            )
        for i, digest in enumerate(self.hashes):
            if len(digest) != HASH_SIZE:
                raise FormatError(f"tlog proof hash {i} is {len(digest)} bytes, not {HASH_SIZE}")
        _check_checkpoint(self.checkpoint)


def format_tlog_proof(proof: TlogProof) -> str:
    """The proof as text (to be stored with the extension ``.tlog-proof``)."""
    lines = [HEADER]
    if proof.extra is not None:
        lines.append(_EXTRA + _encode_base64(proof.extra))
    lines.append(f"{_INDEX}{proof.index}")
    lines.extend(_encode_base64(digest) for digest in proof.hashes)
    return "\n".join(lines) + "\n\n" + proof.checkpoint


def parse_tlog_proof(text: str) -> TlogProof:
    """Parse a proof; ``format_tlog_proof(parse_tlog_proof(t)) == t`` when it parses."""
    # The lines before the checkpoint are never empty, so the first blank line is the one
    # between the inclusion proof and the checkpoint.
    head, blank, checkpoint = text.partition("\n\n")
    if not blank:
        raise FormatError("tlog proof has no blank line before its checkpoint")
    lines = head.split("\n")
    # 1. the first line is the header
    if lines[0] != HEADER:
        raise FormatError(f"tlog proof must start with {HEADER!r}, not {lines[0][:40]!r}")
    i = 1
    # 2. optionally, "extra " and base64 data
    extra = None
    if i < len(lines) and lines[i].startswith(_EXTRA):
        extra = _decode_base64(lines[i][len(_EXTRA) :], "tlog proof extra data")
        i += 1
    # 3. "index " and a decimal without leading zeroes
    if i >= len(lines) or not lines[i].startswith(_INDEX):
        raise FormatError(f"tlog proof line {i + 1} must be 'index <N>'")
    index = _parse_decimal(lines[i][len(_INDEX) :], "tlog proof index", MAX_INDEX)
    i += 1
    # 4. zero or more base64 hashes, one per line
    hash_lines = lines[i:]
    if len(hash_lines) > MAX_PROOF_HASHES:
        raise FormatError(f"tlog proof has {len(hash_lines)} hashes; at most {MAX_PROOF_HASHES}")
    hashes = []
    for n, line in enumerate(hash_lines, start=i + 1):
        digest = _decode_base64(line, f"tlog proof hash on line {n}")
        if len(digest) != HASH_SIZE:
            raise FormatError(f"tlog proof hash on line {n} is {len(digest)} bytes, not 32")
        hashes.append(digest)
    # 5. after the blank line, the checkpoint verbatim (checked in TlogProof)
    return TlogProof(index, tuple(hashes), checkpoint, extra)
