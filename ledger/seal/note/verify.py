"""Checking signed notes: the :class:`NoteVerifier` interface and its two Ed25519 key
types, vkeys (:func:`parse_vkey`), and :func:`open_note`, which follows the spec's rules:
a signature counts for a key only when both its name and key ID match, unknown keys are
ignored, a bad signature by a known key rejects the note, and a note no known key
verified is rejected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import FormatError
from ledger.seal.note.parse import (
    _HEX_DIGITS,
    COSIGNATURE_SIZE,
    ED25519_KEY_SIZE,
    ED25519_SIGNATURE_SIZE,
    KEY_ID_SIZE,
    MAX_TIMESTAMP,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Note,
    NoteVerificationError,
    Signature,
    _decode_base64,
    _encode_base64,
    _key_ref,
    check_key_name,
    cosignature_message,
    cosignature_timestamp,
    key_id,
    parse_note,
)


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


def _load_public_key(public_key: bytes) -> Ed25519PublicKey:
    if len(public_key) != ED25519_KEY_SIZE:
        raise FormatError(
            f"an Ed25519 public key is {ED25519_KEY_SIZE} bytes, not {len(public_key)}"
        )
    try:
        return Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise FormatError("not a valid Ed25519 public key") from None


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
