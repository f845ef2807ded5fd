"""The review seal (监审印章): a supervision committee member's Ed25519 signature over a
canonical statement of one review of one version of a disclosure, made in the member's
browser with a key the server never sees, and checked by the ledger against the key the
committee's chair registered for that member before the review is recorded.

The statement, ``gongkai review seal v1``, is these lines, each ending in ``\\n``::

    gongkai review seal v1
    community <community ID>
    disclosure <disclosure UUID, lowercase, hyphenated>
    version <content version, decimal>
    stage <review stage: committee, party_branch, first, second, final>
    outcome <approved or rejected>
    content <SHA-256 of the content encoding below, lowercase hex>

The content encoding is, for each of the version's category, scope, title, body, and
then each attachment's SHA-256 (lowercase hex) in the version's order, the field's
label (``category``, ``scope``, ``title``, ``body``, ``attachment``), a space, the byte
length of its UTF-8 in decimal, ``\\n``, those bytes, and ``\\n``. The lengths make it
unambiguous: no two contents encode alike, whatever their text holds.

The signature is plain Ed25519 (RFC 8032) over the statement's bytes, by a key of
signature type ``0x04`` (the cosigner keys of :mod:`ledger.seal.keys`, so that a member
seals reviews and checkpoints with one key). It cannot be taken for a checkpoint
cosignature: a ``cosignature/v1`` message starts with ``cosignature/v1\\n``, a statement
with ``gongkai review seal v1\\n``. The known-answer vector is
``tests/vectors/review-seal-v1.json``; the console's script makes the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import FormatError, VerificationError
from ledger.seal.keys import KeyKind, PrivateKey
from ledger.seal.note import parse_vkey
from ledger.seal.note.parse import SIG_COSIGNATURE_V1
from ledger.seal.note.verify import NoteVerifier

HEADER: Final = "gongkai review seal v1"
SIGNATURE_SIZE: Final = 64


class ReviewSealError(VerificationError):
    """A seal that is not the registered key's signature of the review's statement."""


@dataclass(frozen=True, slots=True)
class SealedReview:
    """What a seal vouches for: one review of one version's exact content."""

    community_id: str
    disclosure_id: UUID
    version: int
    stage: str
    outcome: str
    category: str
    scope: str
    title: str
    body: str
    attachments: Sequence[str]

    def content_encoding(self) -> bytes:
        fields = [
            ("category", self.category),
            ("scope", self.scope),
            ("title", self.title),
            ("body", self.body),
            *(("attachment", digest) for digest in self.attachments),
        ]
        out = bytearray()
        for label, value in fields:
            data = value.encode("utf-8")
            out += f"{label} {len(data)}\n".encode("ascii") + data + b"\n"
        return bytes(out)

    def statement(self) -> bytes:
        content = hashlib.sha256(self.content_encoding()).hexdigest()
        lines = [
            HEADER,
            f"community {self.community_id}",
            f"disclosure {self.disclosure_id}",
            f"version {self.version}",
            f"stage {self.stage}",
            f"outcome {self.outcome}",
            f"content {content}",
        ]
        return "".join(f"{line}\n" for line in lines).encode("utf-8")


def seal_key_verifier(vkey: str) -> NoteVerifier:
    """A member's registered key: a verifier key of signature type 0x04."""
    verifier = parse_vkey(vkey)
    if verifier.sig_type != SIG_COSIGNATURE_V1:
        raise FormatError(
            f"a seal key is a cosigner key (type 0x04), not type 0x{verifier.sig_type:02x}: "
            "make one with 'gongkai keys generate --kind cosigner' or in the console"
        )
    return verifier


def key_ref(verifier: NoteVerifier) -> str:
    """How a seal names its key: ``<name>+<hex key ID>``."""
    return f"{verifier.name}+{verifier.key_id.hex()}"


def verify_seal(
    review: SealedReview, registered: NoteVerifier, seal_key: str, seal_signature: str
) -> None:
    """Check a seal, step by step; :class:`ReviewSealError` saying which step failed.

    1. The seal names the key registered for the member (``<name>+<key ID>``).
    2. The signature is base64 of 64 bytes.
    3. It is the registered key's Ed25519 signature of the review's statement.
    """
    # 1.
    if seal_key != key_ref(registered):
        raise ReviewSealError(
            f"the seal is made with key {seal_key!r}, not the key registered for this "
            f"member ({key_ref(registered)})"
        )
    # 2.
    try:
        signature = base64.b64decode(seal_signature, validate=True)
    except (binascii.Error, ValueError):
        raise ReviewSealError("the seal's signature is not base64") from None
    if len(signature) != SIGNATURE_SIZE:
        raise ReviewSealError(f"the seal's signature is {len(signature)} bytes, not 64")
    # 3.
    try:
        Ed25519PublicKey.from_public_bytes(registered.public_key).verify(
            signature, review.statement()
        )
    except InvalidSignature:
        raise ReviewSealError(
            "the seal is not the member's signature of this review of this version: "
            "the content, its attachments, the stage or the outcome differ from what was "
            "sealed"
        ) from None


def sign_review(key: PrivateKey, review: SealedReview) -> tuple[str, str]:
    """A seal made with ``key`` outside a browser (the demo, the tests, a member's own
    script): the key's reference and the signature in base64."""
    if key.kind is not KeyKind.COSIGNER:
        raise FormatError("a review is sealed with a cosigner key")
    signature = Ed25519PrivateKey.from_private_bytes(key.seed).sign(review.statement())
    return key_ref(seal_key_verifier(key.vkey)), base64.b64encode(signature).decode("ascii")
