"""The add-checkpoint request body (C2SP tlog-witness), for both sides: the log's
client formats it, the witness parses it strictly. It is ``old <size>``, the consistency
proof's hashes one base64 line each, a blank line, and the signed checkpoint."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import FormatError, InvalidInputError

MAX_PROOF_LINES = 63
""""The client MUST NOT send more than 63 consistency proof lines"; more is malformed."""

MAX_REQUEST_BYTES = 256 * 1024
"""Far above any honest request (63 proof lines and a checkpoint with a few dozen
signatures); a longer body is refused as malformed before it is parsed."""

MAX_TREE_SIZE = 2**63 - 1
"""Sizes are stored as SQLite integers; no community log comes near."""

HASH_SIZE = 32
_OLD_LINE = re.compile(rb"old (0|[1-9][0-9]*)")


@dataclass(frozen=True)
class AddCheckpointRequest:
    """A parsed add-checkpoint body: ``old_size``, the consistency ``proof`` and the
    ``signed_checkpoint`` note exactly as sent (not yet verified)."""

    old_size: int
    proof: tuple[bytes, ...]
    signed_checkpoint: str


def format_add_checkpoint_request(
    old_size: int, proof: Sequence[bytes], signed_checkpoint: str
) -> bytes:
    """The body of an add-checkpoint request: ``old <size>``, one base64 line per proof
    hash, an empty line, then the signed checkpoint."""
    if not 0 <= old_size <= MAX_TREE_SIZE:
        raise InvalidInputError(f"old size {old_size} is out of range", field="old_size")
    if len(proof) > MAX_PROOF_LINES:
        raise InvalidInputError(
            f"{len(proof)} proof hashes; the protocol allows at most {MAX_PROOF_LINES}",
            field="proof",
        )
    for i, h in enumerate(proof, 1):
        if len(h) != HASH_SIZE:
            raise InvalidInputError(
                f"proof hash {i} is {len(h)} bytes, not {HASH_SIZE}", field="proof"
            )
    if not signed_checkpoint.endswith("\n"):
        raise InvalidInputError(
            "a signed checkpoint ends with a newline", field="signed_checkpoint"
        )
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in proof), ""]
    return ("\n".join(lines) + "\n" + signed_checkpoint).encode("utf-8")


def parse_add_checkpoint_request(body: bytes) -> AddCheckpointRequest:
    """Split an add-checkpoint body into its parts; :class:`FormatError` if it does not
    follow the format (which the witness answers with 400)."""
    if len(body) > MAX_REQUEST_BYTES:
        raise FormatError(f"the request is longer than {MAX_REQUEST_BYTES} bytes")
    end = body.find(b"\n")
    if end < 0:
        raise FormatError("the request has no old size line ending in a newline")
    # "The old size line MUST consist of the string old, a single space (0x20), and the tree
    # size of the previous checkpoint encoded as an ASCII decimal with no leading zeroes."
    match = _OLD_LINE.fullmatch(body[:end])
    if match is None:
        raise FormatError("the first line must be 'old <size>', a decimal without leading zeroes")
    digits = match.group(1)
    if len(digits) > len(str(MAX_TREE_SIZE)) or int(digits) > MAX_TREE_SIZE:
        raise FormatError("the old size is too large")
    old_size = int(digits)
    pos = end + 1
    proof: list[bytes] = []
    while True:
        # "Each line MUST terminate in a newline character (U+000A)."
        end = body.find(b"\n", pos)
        if end < 0:
            raise FormatError(
                "the request ends before the empty line that precedes the checkpoint"
            )
        line, pos = body[pos:end], end + 1
        if not line:
            break
        # "The client MUST NOT send more than 63 consistency proof lines."
        if len(proof) == MAX_PROOF_LINES:
            raise FormatError(f"more than {MAX_PROOF_LINES} consistency proof lines")
        proof.append(_decode_hash(line, len(proof) + 1))
    try:
        signed_checkpoint = body[pos:].decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("the checkpoint is not valid UTF-8") from None
    if not signed_checkpoint:
        raise FormatError("the request has no checkpoint after the empty line")
    return AddCheckpointRequest(old_size, tuple(proof), signed_checkpoint)


def _decode_hash(line: bytes, number: int) -> bytes:
    # "Each consistency proof line MUST encode a single hash in base64."
    try:
        h = base64.b64decode(line, validate=True)
    except binascii.Error:
        raise FormatError(f"consistency proof line {number} is not base64") from None
    if len(h) != HASH_SIZE or base64.b64encode(h) != line:
        raise FormatError(f"consistency proof line {number} is not one base64 SHA-256 hash")
    return h
