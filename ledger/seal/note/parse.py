"""Signed notes, read strictly: the format's constants, key names and key IDs, the
``cosignature/v1`` message, and :func:`parse_note`, which accepts exactly what the spec
allows and serializes back to the same characters. Also the strict base64 and decimal
encodings that checkpoints and proofs share."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from ledger.errors import FormatError, VerificationError

SIG_ED25519: Final = 0x01
SIG_COSIGNATURE_V1: Final = 0x04
MAX_SIGNATURES: Final = 64

KEY_ID_SIZE: Final = 4
ED25519_KEY_SIZE: Final = 32
ED25519_SIGNATURE_SIZE: Final = 64
COSIGNATURE_SIZE: Final = 8 + ED25519_SIGNATURE_SIZE
MAX_TIMESTAMP: Final = 2**63 - 1
COSIGNATURE_HEADER: Final = b"cosignature/v1\n"

SIGNATURE_PREFIX: Final = "— "  # em dash (U+2014), space
_SUPPORTED_TYPES: Final = (SIG_ED25519, SIG_COSIGNATURE_V1)
_HEX_DIGITS: Final = frozenset("0123456789abcdef")
_CONTROL: Final = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteVerificationError(VerificationError):
    """A well-formed note that fails verification: a known key's signature does not
    verify, or no known key signed it.

    ``key_name`` and ``key_id`` name the key at fault when there is one.
    """

    def __init__(
        self, message: str, *, key_name: str | None = None, key_id: bytes | None = None
    ) -> None:
        super().__init__(message)
        self.key_name = key_name
        self.key_id = key_id


# ---------------------------------------------------------------------------------------
# Shared strict encodings (also used by ledger.seal.checkpoint and ledger.seal.tlog_proof)


def _decode_base64(text: str, what: str) -> bytes:
    """Standard base64 (RFC 4648, section 4), padded and canonical: the one encoding
    that :func:`base64.b64encode` gives back. The message never repeats ``text``, which
    may be a secret."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError:  # UnicodeEncodeError and binascii.Error are ValueErrors
        raise FormatError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise FormatError(f"{what} is not canonical base64")
    return raw


def _encode_base64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _parse_decimal(text: str, what: str, maximum: int) -> int:
    """ASCII decimal with no leading zeroes (``0`` itself is fine), at most ``maximum``.
    (``str.isdigit`` would let through other scripts' digits, so the set is spelled out.)"""
    if not text or any(c not in "0123456789" for c in text):
        raise FormatError(f"{what} must be an ASCII decimal number, got {text!r}")
    if len(text) > 1 and text[0] == "0":
        raise FormatError(f"{what} must not have leading zeroes, got {text!r}")
    if len(text) > len(str(maximum)) or int(text) > maximum:
        raise FormatError(f"{what} is larger than {maximum}")
    return int(text)


def _check_utf8(text: str, what: str) -> None:
    """A ``str`` may hold lone surrogates, which have no UTF-8 encoding."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError(f"{what} is not valid UTF-8") from None


def _check_no_controls(text: str, what: str) -> None:
    """No ASCII control character (below U+0020) other than newline."""
    match = _CONTROL.search(text)
    if match:
        lineno = text.count("\n", 0, match.start()) + 1
        raise FormatError(
            f"{what} contains the control character U+{ord(match.group()):04X} on line {lineno}"
        )


def _check_text(text: str, what: str = "note text") -> None:
    """A note text: valid UTF-8, no control characters but newline, ends in a newline."""
    _check_utf8(text, what)
    _check_no_controls(text, what)
    if not text.endswith("\n"):
        raise FormatError(f"{what} must end in a newline")


def _key_ref(name: str, key_id: bytes) -> str:
    """How a key is named in messages: ``name+hex(key ID)``, as in vkeys."""
    return f"{name}+{key_id.hex()}"


# ---------------------------------------------------------------------------------------
# Keys


def check_key_name(name: str) -> str:
    """Return ``name`` if it can be a key name, else raise :class:`FormatError`.

    The spec: non-empty, no Unicode spaces, no ``+``. Also refused here: control
    characters and text that is not valid UTF-8, which no note can carry.
    """
    if not name:
        raise FormatError("key name is empty")
    _check_utf8(name, "key name")
    if "+" in name:
        raise FormatError(f"key name {name!r} contains '+'")
    for c in name:
        if c.isspace() or unicodedata.category(c) in ("Zs", "Zl", "Zp"):
            raise FormatError(f"key name {name!r} contains the space U+{ord(c):04X}")
        if c < " ":
            raise FormatError(f"key name {name!r} contains a control character")
    return name


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: ``SHA-256(name || 0x0A || type || public key)[:4]``."""
    check_key_name(name)
    if not 0 <= sig_type <= 0xFF:
        raise FormatError(f"signature type {sig_type} is not a byte")
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key)
    return digest.digest()[:KEY_ID_SIZE]


def cosignature_message(text: bytes, timestamp: int) -> bytes:
    """The bytes a ``cosignature/v1`` signs (c2sp.org/tlog-cosignature, "Ed25519 signed
    message"): ``"cosignature/v1\\n" || "time " || decimal timestamp || "\\n" || text``,
    where ``text`` is the whole note body including its final newline."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise FormatError(f"cosignature timestamp {timestamp} is outside 0..2^63-1")
    return COSIGNATURE_HEADER + b"time " + str(timestamp).encode("ascii") + b"\n" + text


def cosignature_timestamp(signature: bytes) -> int:
    """The timestamp of a ``timestamped_signature`` (``u64 BE timestamp || 64-byte
    Ed25519 signature``). It is only as trustworthy as the signature around it."""
    if len(signature) != COSIGNATURE_SIZE:
        raise FormatError(f"a cosignature is {COSIGNATURE_SIZE} bytes, not {len(signature)}")
    timestamp = int.from_bytes(signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise FormatError(f"cosignature timestamp {timestamp} exceeds 2^63-1")
    return timestamp


# ---------------------------------------------------------------------------------------
# Notes


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, 4-byte key ID, and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.key_id) != KEY_ID_SIZE:
            raise FormatError(f"a key ID is {KEY_ID_SIZE} bytes, not {len(self.key_id)}")
        if not self.signature:
            raise FormatError("a signature must not be empty")

    def line(self) -> str:
        """``— <name> <base64(key ID || signature)>\\n``."""
        encoded = _encode_base64(self.key_id + self.signature)
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"

    @property
    def key(self) -> str:
        """``name+hex(key ID)``: how messages name the signing key."""
        return _key_ref(self.name, self.key_id)


@dataclass(frozen=True)
class Note:
    """A note text and its signatures (between 1 and :data:`MAX_SIGNATURES`), unverified."""

    text: str
    signatures: tuple[Signature, ...]

    def __post_init__(self) -> None:
        _check_text(self.text)
        object.__setattr__(self, "signatures", tuple(self.signatures))
        if not self.signatures:
            raise FormatError("a note must have at least one signature")
        if len(self.signatures) > MAX_SIGNATURES:
            raise FormatError(
                f"a note may have at most {MAX_SIGNATURES} signatures, not {len(self.signatures)}"
            )

    def __str__(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _parse_signature_line(line: str, lineno: int) -> Signature:
    """``— <key name> base64(key ID || signature)``."""
    # 1. em dash, space
    if not line.startswith(SIGNATURE_PREFIX):
        raise FormatError(f"signature line {lineno} does not start with '— '")
    # 2. key name, space, base64
    name, sep, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not sep:
        raise FormatError(f"signature line {lineno} has no space between key name and signature")
    try:
        check_key_name(name)
    except FormatError as e:
        raise FormatError(f"signature line {lineno}: {e}") from None
    raw = _decode_base64(encoded, f"signature on line {lineno}")
    # 3. four bytes of key ID and a non-empty signature
    if len(raw) <= KEY_ID_SIZE:
        raise FormatError(f"signature on line {lineno} is too short ({len(raw)} bytes)")
    return Signature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


def parse_note(data: str | bytes) -> Note:
    """Parse a signed note without verifying it (see :func:`open_note` for that).

    ``str(parse_note(x)) == x`` for every ``x`` that parses.
    """
    # 1. valid UTF-8
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("note is not valid UTF-8") from None
    else:
        _check_utf8(data, "note")
    # 2. no ASCII control characters other than newline
    _check_no_controls(data, "note")
    # 3. the text is separated from the signatures by the last blank line
    split = data.rfind("\n\n")
    if split < 0:
        raise FormatError("note has no blank line between its text and its signatures")
    # 4. the text includes its final newline, not the blank line
    text, block = data[: split + 1], data[split + 2 :]
    # 5. one or more signature lines, each ending in a newline
    if not block:
        raise FormatError("note has no signature lines")
    if not block.endswith("\n"):
        raise FormatError("note does not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise FormatError(f"note has {len(lines)} signature lines; at most {MAX_SIGNATURES}")
    text_lines = text.count("\n")
    signatures = tuple(
        _parse_signature_line(line, text_lines + 1 + i) for i, line in enumerate(lines, start=1)
    )
    return Note(text, signatures)
