"""C2SP checkpoints (c2sp.org/tlog-checkpoint): a log's signed tree head.

A checkpoint is a signed note whose text is::

    <origin>
    <tree size, decimal>
    <root hash, base64>
    [extension lines]

The community's log signs it with its ``0x01`` key (:class:`~ledger.seal.keys.KeyKind.LOG`);
committee members and witnesses add ``0x04`` cosignatures (c2sp.org/tlog-cosignature),
each a statement that, at its timestamp, this was the largest consistent tree they had
seen for the origin.

Why it is checked as strictly as it is: the checkpoint text is what every signature
covers, so two texts that "mean" the same tree head (``007`` and ``7``, two base64
spellings of one root) would let one signed statement pose as two. Parsing therefore
accepts exactly one spelling of each value and serializes back to the same text.

In this project a log key is a type ``0x01`` key and a cosigner key a type ``0x04`` key;
:func:`open_checkpoint` refuses keys of the other type in either role, so a committee
member's cosignature can never be taken for the log's signature, nor the other way
round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ledger.errors import FormatError
from ledger.seal.note import (
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Note,
    NoteSigner,
    NoteVerificationError,
    NoteVerifier,
    cosignature_timestamp,
    open_note,
    sign_note,
)
from ledger.seal.note.parse import (
    _check_text,
    _check_utf8,
    _decode_base64,
    _encode_base64,
    _key_ref,
    _parse_decimal,
)
from ledger.seal.note.verify import _verify_signatures

ROOT_SIZE: Final = 32
MAX_TREE_SIZE: Final = 2**64 - 1


def _check_line(value: str, what: str) -> None:
    """One line of a checkpoint: non-empty, valid UTF-8, no control characters."""
    if not value:
        raise FormatError(f"checkpoint {what} is empty")
    _check_utf8(value, f"checkpoint {what}")
    if any(c < " " for c in value):
        raise FormatError(f"checkpoint {what} contains a newline or control character")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, RFC 6962 root hash, optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise FormatError(f"tree size must be between 0 and 2^64-1, not {self.size!r}")
        if len(self.root) != ROOT_SIZE:
            raise FormatError(f"root hash must be {ROOT_SIZE} bytes, not {len(self.root)}")
        object.__setattr__(self, "root", bytes(self.root))
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for extension in self.extensions:
            _check_line(extension, "extension line")

    def text(self) -> str:
        """The note text: ``origin\\nsize\\nbase64(root)\\n`` and one line per extension."""
        lines = [self.origin, str(self.size), _encode_base64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint's note text (not the signed note: see :func:`open_checkpoint`).

    ``parse_checkpoint(t).text() == t`` for every ``t`` that parses.
    """
    # 0. a note text: valid UTF-8, no control characters but newline, ends in a newline
    try:
        _check_text(text, "checkpoint")
    except FormatError as e:
        raise FormatError(f"malformed checkpoint: {e}") from None
    # 1. at least three lines
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise FormatError(
            f"a checkpoint has at least 3 lines (origin, size, root), not {len(lines)}"
        )
    origin, size_line, root_line, *extensions = lines
    # 2. the origin: non-empty
    if not origin:
        raise FormatError("checkpoint origin is empty")
    # 3. the tree size: ASCII decimal, no leading zeroes
    size = _parse_decimal(size_line, "checkpoint tree size", MAX_TREE_SIZE)
    # 4. the root hash: base64 of 32 bytes
    root = _decode_base64(root_line, "checkpoint root hash")
    if len(root) != ROOT_SIZE:
        raise FormatError(f"checkpoint root hash is {len(root)} bytes, not {ROOT_SIZE}")
    # 5. extension lines, if any: non-empty
    for i, extension in enumerate(extensions, start=4):
        if not extension:
            raise FormatError(f"checkpoint extension line {i} is empty")
    return Checkpoint(origin, size, root, tuple(extensions))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint that a trusted log key verified.

    ``log_keys``: the log keys whose signatures verified. ``cosignatures``: each given
    cosigner whose cosignature verified, with the time it states (seconds since the
    Epoch), in note order.
    """

    checkpoint: Checkpoint
    note: Note
    log_keys: tuple[NoteVerifier, ...]
    cosignatures: tuple[tuple[NoteVerifier, int], ...]


def sign_checkpoint(checkpoint: Checkpoint, log_signer: NoteSigner) -> Note:
    """The checkpoint as a note signed by the log (the key name should be the origin)."""
    return sign_note(checkpoint.text(), [log_signer])


def _check_key_types(keys: Sequence[NoteVerifier], sig_type: int, role: str) -> None:
    for key in keys:
        if key.sig_type != sig_type:
            raise NoteVerificationError(
                f"{_key_ref(key.name, bytes(key.key_id))} is a type 0x{key.sig_type:02x} key "
                f"and cannot serve as a {role}, which must be type 0x{sig_type:02x}",
                key_name=key.name,
                key_id=bytes(key.key_id),
            )


def open_checkpoint(
    data: str | bytes | Note,
    log_keys: Sequence[NoteVerifier],
    cosigners: Sequence[NoteVerifier] = (),
    *,
    origin: str | None = None,
) -> SignedCheckpoint:
    """Verify a signed checkpoint and the cosignatures on it from ``cosigners``.

    0. ``log_keys`` must be type 0x01 keys and ``cosigners`` type 0x04 keys;
    1. the note is opened with the log keys only: at least one must verify it, and one
       that fails rejects it (:class:`~ledger.seal.note.NoteVerificationError`);
    2. the note text is parsed as a checkpoint (:class:`FormatError` if it is not one),
       and, if ``origin`` is given, its origin must be that;
    3. every signature whose key name and key ID match a given cosigner is verified as a
       ``cosignature/v1``; one that fails rejects the checkpoint. Signatures from other
       keys are ignored.

    How many cosignatures are enough is the caller's policy.
    """
    # 0.
    _check_key_types(log_keys, SIG_ED25519, "log key")
    _check_key_types(cosigners, SIG_COSIGNATURE_V1, "cosigner key")
    # 1.
    opened = open_note(data, log_keys)
    # 2.
    checkpoint = parse_checkpoint(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteVerificationError(
            f"checkpoint is for origin {checkpoint.origin!r}, expected {origin!r}"
        )
    # 3.
    cosigned, _unknown = _verify_signatures(opened.note, cosigners)
    return SignedCheckpoint(
        checkpoint=checkpoint,
        note=opened.note,
        log_keys=tuple(key for key, _sig in opened.verified),
        cosignatures=tuple((key, cosignature_timestamp(sig.signature)) for key, sig in cosigned),
    )
