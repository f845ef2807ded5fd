"""C2SP signed notes (c2sp.org/signed-note): text signed by one or more keys.

A community's checkpoints, committee seals and witness cosignatures all travel as signed
notes, so that anyone can check them with the standard tools of the transparency-log
ecosystem (the Go ``note`` package, litewitness, sigsum) and not only with gongkai. A note
is::

    <text, ending in a newline>
    <blank line>
    — <key name> base64(4-byte key ID || signature)
    — ...

Two signature types are supported, and no others (the spec asks implementations to pick
the ones their design needs):

* ``0x01``: Ed25519 over the note text. The log signs its checkpoints with it.
* ``0x04``: timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``):
  Ed25519 over ``"cosignature/v1\\ntime <ts>\\n" || note text``, carried as
  ``u64 timestamp || signature``. Committee seals and witnesses use it.

Parsing is strict and exact: a note that parses serializes back to the same characters
(base64 must be canonical for that), and anything the spec does not allow is a
:class:`~ledger.errors.FormatError`. Verification follows the spec's rules: a signature
is attributed to a known key only when *both* its key name and key ID match, signatures
from unknown keys are ignored, every signature from a known key is verified and one that
fails rejects the whole note, and a note that no known key verified is rejected
(:class:`NoteVerificationError`).

Choices beyond the spec, all on the strict side:

* at most :data:`MAX_SIGNATURES` signature lines (the spec requires accepting 16);
* base64 must be canonical (padded, unused bits zero; RFC 4648 section 3.5 allows a
  decoder to insist), so that each note has exactly one spelling;
* key names may not contain control characters (below U+0020) either: a note cannot
  carry them anyway, and this keeps them out of vkeys and key files too;
* every signature by a known key is verified, including repeats (the Go package skips
  a known key's second signature unverified; the spec says it MUST be verified), and a
  known key that signed a note twice with *different* signatures rejects the note: for
  a cosignature the two would claim different times, and the reader could not tell
  which one was meant. Exact duplicate lines are harmless and counted once.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

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


class NoteVerifier(Protocol):
    """A public key that checks one kind of note signature.

    ``name`` and ``key_id`` are what a signature line must carry to be attributed to
    this key; ``verify`` gets the note text and the signature bytes after the key ID.
    """

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    @property
    def sig_type(self) -> int: ...

    @property
    def public_key(self) -> bytes: ...

    @property
    def vkey(self) -> str:
        """``<name>+<hex key ID>+<base64(type || public key)>``."""
        ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


class NoteSigner(Protocol):
    """A private key that signs note texts; ``sign`` returns the bytes after the key ID."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, text: bytes) -> bytes: ...


def _load_public_key(public_key: bytes) -> Ed25519PublicKey:
    if len(public_key) != ED25519_KEY_SIZE:
        raise FormatError(
            f"an Ed25519 public key is {ED25519_KEY_SIZE} bytes, not {len(public_key)}"
        )
    try:
        return Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise FormatError("not a valid Ed25519 public key") from None


def _load_seed(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != ED25519_KEY_SIZE:
        raise FormatError(f"an Ed25519 seed is {ED25519_KEY_SIZE} bytes, not {len(seed)}")
    try:
        return Ed25519PrivateKey.from_private_bytes(seed)
    except ValueError:
        raise FormatError("not a valid Ed25519 seed") from None


@dataclass(frozen=True)
class _Ed25519VerifierBase:
    """Name and Ed25519 public key; the key ID follows from them and the type."""

    name: str
    public_key: bytes
    key_id: bytes = field(init=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    @property
    def sig_type(self) -> int:
        raise NotImplementedError

    def __post_init__(self) -> None:
        check_key_name(self.name)
        object.__setattr__(self, "public_key", bytes(self.public_key))
        object.__setattr__(self, "_key", _load_public_key(self.public_key))
        object.__setattr__(self, "key_id", key_id(self.name, self.sig_type, self.public_key))

    @property
    def vkey(self) -> str:
        """``<name>+<hex key ID>+<base64(type || public key)>``."""
        encoded = _encode_base64(bytes([self.sig_type]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def _verify_ed25519(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != ED25519_SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Ed25519Verifier(_Ed25519VerifierBase):
    """Verifier for type ``0x01``: a plain Ed25519 signature over the note text."""

    @property
    def sig_type(self) -> int:
        return SIG_ED25519

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (64 bytes) is this key's signature of ``text``."""
        return self._verify_ed25519(text, signature)


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


@dataclass(frozen=True)
class CosignatureVerifier(_Ed25519VerifierBase):
    """Verifier for type ``0x04`` (c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``)."""

    @property
    def sig_type(self) -> int:
        return SIG_COSIGNATURE_V1

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this cosigner's ``timestamped_signature`` of ``text``.

        1. the signature is 8 + 64 bytes;
        2. the timestamp (big-endian u64) does not exceed 2^63 - 1;
        3. the Ed25519 signature verifies over ``cosignature/v1``, the timestamp line and
           the note text.
        """
        # 1.
        if len(signature) != COSIGNATURE_SIZE:
            return False
        # 2.
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        # 3.
        return self._verify_ed25519(cosignature_message(text, timestamp), signature[8:])

    def timestamp_of(self, signature: bytes) -> int:
        """The timestamp in one of this cosigner's signatures (see
        :func:`cosignature_timestamp`); verify the signature first."""
        return cosignature_timestamp(signature)


class _Ed25519SignerBase:
    """Holds the seed; its repr never shows it."""

    sig_type: int = 0

    def __init__(self, seed: bytes, name: str) -> None:
        check_key_name(name)
        self._key = _load_seed(bytes(seed))
        self.name: str = name
        self.public_key: bytes = self._key.public_key().public_bytes_raw()
        self.key_id: bytes = key_id(name, self.sig_type, self.public_key)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_key_ref(self.name, self.key_id)})"


class Ed25519Signer(_Ed25519SignerBase):
    """Signer for type ``0x01``: Ed25519 over the note text."""

    sig_type = SIG_ED25519

    def sign(self, text: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``text``."""
        return self._key.sign(text)

    def verifier(self) -> Ed25519Verifier:
        """The matching public key."""
        return Ed25519Verifier(self.name, self.public_key)


class CosignatureSigner(_Ed25519SignerBase):
    """Signer for type ``0x04``: a ``cosignature/v1`` timestamped with ``clock()``
    (seconds since the Epoch, truncated to an integer)."""

    sig_type = SIG_COSIGNATURE_V1

    def __init__(self, seed: bytes, name: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__(seed, name)
        self._clock = clock

    def sign(self, text: bytes) -> bytes:
        """``u64 BE timestamp || Ed25519 signature`` of :func:`cosignature_message`."""
        now = self._clock()
        try:
            timestamp = int(now)
        except (ValueError, OverflowError):  # NaN, infinity
            raise FormatError(f"the clock gave {now!r}, which is not a time") from None
        message = cosignature_message(text, timestamp)  # checks 0 <= timestamp < 2^63
        return timestamp.to_bytes(8, "big") + self._key.sign(message)

    def verifier(self) -> CosignatureVerifier:
        """The matching public key."""
        return CosignatureVerifier(self.name, self.public_key)


def parse_vkey(vkey: str) -> NoteVerifier:
    """Parse ``<name>+<hex key ID>+<base64(type || public key)>`` (types 0x01 and 0x04).

    The base64 part may itself contain ``+``, so the string is split at its first two.
    """
    # 1. three parts separated by '+'
    name, sep1, rest = vkey.partition("+")
    hex_id, sep2, encoded = rest.partition("+")
    if not (sep1 and sep2):
        raise FormatError(f"verifier key {vkey!r} is not <name>+<key ID>+<key>")
    # 2. a valid key name
    check_key_name(name)
    # 3. the key ID: 8 lowercase hex digits
    if len(hex_id) != 2 * KEY_ID_SIZE or not set(hex_id) <= _HEX_DIGITS:
        raise FormatError(f"key ID {hex_id!r} in verifier key is not 8 lowercase hex digits")
    # 4. base64(type || public key), of a supported type
    raw = _decode_base64(encoded, "public key in verifier key")
    if not raw:
        raise FormatError("verifier key has no public key")
    sig_type, public_key = raw[0], raw[1:]
    verifier: NoteVerifier
    if sig_type == SIG_ED25519:
        verifier = Ed25519Verifier(name, public_key)
    elif sig_type == SIG_COSIGNATURE_V1:
        verifier = CosignatureVerifier(name, public_key)
    else:
        raise FormatError(
            f"verifier key {name} has signature type 0x{sig_type:02x}; "
            "only 0x01 (Ed25519) and 0x04 (cosignature/v1) are supported"
        )
    # 5. the key ID must be the one computed from name, type and key
    if verifier.key_id.hex() != hex_id:
        raise FormatError(
            f"key ID {hex_id} in verifier key does not match its name and key "
            f"(expected {verifier.key_id.hex()})"
        )
    return verifier


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


def sign_note(text: str, signers: Sequence[NoteSigner]) -> Note:
    """Sign ``text`` (valid UTF-8, no control characters but newline, ending in a
    newline) with each of ``signers``, in order."""
    _check_text(text)
    if not signers:
        raise FormatError("a note needs at least one signer")
    keys = [(s.name, bytes(s.key_id)) for s in signers]
    if len(set(keys)) != len(keys):
        raise FormatError("the same key is given twice to sign a note")
    message = text.encode("utf-8")
    return Note(text, tuple(Signature(s.name, bytes(s.key_id), s.sign(message)) for s in signers))


def add_signatures(note: Note, signatures: Sequence[Signature]) -> Note:
    """``note`` with ``signatures`` appended (e.g. cosignatures), skipping exact duplicates.

    A signature by a key that already signed the note with *different* bytes is refused
    (:class:`FormatError`): :func:`open_note` would reject the result for anyone who
    trusts that key. The signatures are not verified here.
    """
    result = list(note.signatures)
    for signature in signatures:
        if signature in result:
            continue
        for existing in result:
            if (existing.name, existing.key_id) == (signature.name, signature.key_id):
                raise FormatError(
                    f"note is already signed by {signature.key} with a different signature"
                )
        result.append(signature)
    return Note(note.text, tuple(result))


@dataclass(frozen=True)
class VerifiedNote:
    """A note that a known key verified.

    ``verified`` pairs each signature that verified with its key, in note order;
    ``unknown`` holds the signatures of keys that were not given (not verified, and not
    to be trusted), without exact duplicates.
    """

    note: Note
    verified: tuple[tuple[NoteVerifier, Signature], ...]
    unknown: tuple[Signature, ...]

    @property
    def text(self) -> str:
        """The note text, which only now may be relied on."""
        return self.note.text


def _verify_signatures(
    note: Note, verifiers: Sequence[NoteVerifier]
) -> tuple[tuple[tuple[NoteVerifier, Signature], ...], tuple[Signature, ...]]:
    """Verify every signature of ``note`` by a key in ``verifiers``; return the verified
    (key, signature) pairs and the signatures of other keys. Does not require any
    signature to verify: that is for the caller to decide."""
    # 1. index the known keys by (name, key ID); equal keys given twice count once
    known: dict[tuple[str, bytes], list[NoteVerifier]] = {}
    for v in verifiers:
        same = known.setdefault((v.name, bytes(v.key_id)), [])
        if not any(
            (o.sig_type, bytes(o.public_key)) == (v.sig_type, bytes(v.public_key)) for o in same
        ):
            same.append(v)
    message = note.text.encode("utf-8")
    verified: list[tuple[NoteVerifier, Signature]] = []
    seen: dict[tuple[str, bytes], Signature] = {}
    unknown: list[Signature] = []
    for sig in note.signatures:
        # 2. a signature is a known key's only if both key name and key ID match;
        #    others are ignored, even if they share a name or an ID with a known key
        candidates = known.get((sig.name, sig.key_id))
        if not candidates:
            if sig not in unknown:
                unknown.append(sig)
            continue
        if len(candidates) > 1:
            raise NoteVerificationError(
                f"two different trusted keys are both named {sig.key}",
                key_name=sig.name,
                key_id=sig.key_id,
            )
        verifier = candidates[0]
        # 3. a known key's signature MUST be verified; one that fails rejects the note
        if not verifier.verify(message, sig.signature):
            raise NoteVerificationError(
                f"the signature by trusted key {sig.key} does not verify: "
                "the note text or the signature was altered",
                key_name=sig.name,
                key_id=sig.key_id,
            )
        # 4. one signature per known key (exact repeats are counted once)
        previous = seen.get((sig.name, sig.key_id))
        if previous is None:
            seen[(sig.name, sig.key_id)] = sig
            verified.append((verifier, sig))
        elif previous != sig:
            raise NoteVerificationError(
                f"the note carries two different signatures by trusted key {sig.key}",
                key_name=sig.name,
                key_id=sig.key_id,
            )
    return tuple(verified), tuple(unknown)


def open_note(data: str | bytes | Note, verifiers: Sequence[NoteVerifier]) -> VerifiedNote:
    """Parse ``data`` (unless it is a :class:`Note` already) and verify it against the
    trusted keys ``verifiers``, following c2sp.org/signed-note:

    1. signatures from unknown keys are ignored (a key is known only if both its name
       and its key ID match);
    2. every signature from a known key is verified, and one that fails rejects the
       note (:class:`NoteVerificationError` naming the key);
    3. a note that no known key verified is rejected (:class:`NoteVerificationError`
       naming the keys that did sign it).

    Malformed input raises :class:`FormatError`.
    """
    note = data if isinstance(data, Note) else parse_note(data)
    # 1. and 2.
    verified, unknown = _verify_signatures(note, verifiers)
    # 3.
    if not verified:
        signed_by = ", ".join(s.key for s in note.signatures)
        trusted = ", ".join(_key_ref(v.name, bytes(v.key_id)) for v in verifiers) or "none"
        raise NoteVerificationError(
            f"no trusted key signed this note: it is signed by {signed_by}, "
            f"none of which is trusted (trusted keys: {trusted})"
        )
    return VerifiedNote(note, verified, unknown)
