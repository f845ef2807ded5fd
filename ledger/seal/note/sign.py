"""Signing notes: the :class:`NoteSigner` interface, the log's Ed25519 signer and the
timestamped ``cosignature/v1`` signer of committee members and witnesses, and
:func:`sign_note` / :func:`add_signatures`. Each signer hands out its matching verifier."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import FormatError
from ledger.seal.note.parse import (
    ED25519_KEY_SIZE,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Note,
    Signature,
    _check_text,
    _key_ref,
    check_key_name,
    cosignature_message,
    key_id,
)
from ledger.seal.note.verify import CosignatureVerifier, Ed25519Verifier


class NoteSigner(Protocol):
    """A private key that signs note texts; ``sign`` returns the bytes after the key ID."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, text: bytes) -> bytes: ...


def _load_seed(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != ED25519_KEY_SIZE:
        raise FormatError(f"an Ed25519 seed is {ED25519_KEY_SIZE} bytes, not {len(seed)}")
    try:
        return Ed25519PrivateKey.from_private_bytes(seed)
    except ValueError:
        raise FormatError("not a valid Ed25519 seed") from None


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
