"""A reporter's identity sealed to the street disciplinary committee (街道纪工委).

A report (举报) names who made it and how to reach them, and only the disciplinary
committee may read that: the service seals it with HPKE (RFC 9180) to the committee's
public key before anything is stored, so the chain and every copy of it hold only the
ciphertext, and the service never holds the key that opens it. The auditor opens it
with the private key file they keep (``gongkai reports open``, or in the browser).

The suite is DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM in the base mode
(RFC 9180 §7.1: KEM 0x0020, KDF 0x0001, AEAD 0x0001), single-shot (§6.1): the sealed
identity is ``enc || ciphertext``, 32 bytes of encapsulated key then the AEAD's output.
The ``info`` binds it to one report of one community (RFC 9180 §8.1), so a sealed
identity moved onto another report does not open there.

Key files: the private key is PKCS#8 PEM (what ``openssl pkey`` reads, and what the
browser's WebCrypto imports); the public key is given as one line,
``gongkai-report-key <key ID> <base64 of the 32-byte X25519 public key>``, where the key
ID is the first 8 bytes of the key's SHA-256, in hex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from ledger.errors import FormatError, InvalidInputError, VerificationError

SUITE: Final = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
#: What the public key's line starts with.
PUBLIC_KEY_PREFIX: Final = "gongkai-report-key"
#: The length of the KEM's encapsulated key (RFC 9180 §7.1, Nenc of DHKEM(X25519)).
ENC_LENGTH: Final = 32
#: The AEAD's tag (AES-128-GCM, Nt).
TAG_LENGTH: Final = 16


@dataclass(frozen=True, slots=True)
class ReportKey:
    """The disciplinary committee's public key, as registered."""

    key_id: str
    public_key: bytes  # 32 bytes, X25519

    @property
    def line(self) -> str:
        return f"{PUBLIC_KEY_PREFIX} {self.key_id} {base64.b64encode(self.public_key).decode()}"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who made a report: the account they were signed in with, the name they give,
    and how the committee may reach them."""

    account: str
    name: str
    contact: str

    def to_bytes(self) -> bytes:
        fields = {"account": self.account, "contact": self.contact, "name": self.name}
        return json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Identity:
        try:
            fields = json.loads(data.decode("utf-8"))
            return cls(str(fields["account"]), str(fields["name"]), str(fields["contact"]))
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise FormatError("the opened identity is not a reporter's identity") from exc


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).digest()[:8].hex()


def info_for(community_id: str, report_id: str) -> bytes:
    """The HPKE ``info``: what the sealed identity belongs to (RFC 9180 §8.1)."""
    return f"gongkai/report-identity/v1\n{community_id}\n{report_id}".encode()


def parse_public_key(line: str) -> ReportKey:
    """Read a public key's line; the key ID it states must be the key's own."""
    parts = line.strip().split(" ")
    if len(parts) != 3 or parts[0] != PUBLIC_KEY_PREFIX:
        raise InvalidInputError(
            f"a report key is one line: {PUBLIC_KEY_PREFIX} <key ID> <base64 public key>",
            field="public_key",
        )
    try:
        raw = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError("the report key is not base64", field="public_key") from exc
    if len(raw) != 32:
        raise InvalidInputError("an X25519 public key is 32 bytes", field="public_key")
    if parts[1] != key_id_of(raw):
        raise InvalidInputError(
            "the key ID does not match the public key (a mistyped or altered key?)",
            field="public_key",
        )
    return ReportKey(parts[1], raw)


def generate_key_pair() -> tuple[bytes, ReportKey]:
    """A new key pair: the private key's PEM file, and the public key to register."""
    private = x25519.X25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, public_key_of(private)


def public_key_of(private: x25519.X25519PrivateKey) -> ReportKey:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return ReportKey(key_id_of(raw), raw)


def load_private_key(pem: bytes) -> x25519.X25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise FormatError(f"not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, x25519.X25519PrivateKey):
        raise FormatError("the report key is an X25519 private key; this file holds another")
    return key


def seal(identity: Identity, key: ReportKey, community_id: str, report_id: str) -> str:
    """The identity sealed to ``key`` for one report: base64 of ``enc || ciphertext``."""
    public = x25519.X25519PublicKey.from_public_bytes(key.public_key)
    sealed = SUITE.encrypt(identity.to_bytes(), public, info=info_for(community_id, report_id))
    return base64.b64encode(sealed).decode("ascii")


def open_sealed(
    sealed: str, private: x25519.X25519PrivateKey, community_id: str, report_id: str
) -> Identity:
    """Open a sealed identity. A wrong key, another report's identity, or a changed
    byte all fail the AEAD's tag, and are refused alike."""
    try:
        data = base64.b64decode(sealed, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FormatError("the sealed identity is not base64") from exc
    if len(data) < ENC_LENGTH + TAG_LENGTH:
        raise FormatError("the sealed identity is too short to be one")
    try:
        plain = SUITE.decrypt(data, private, info=info_for(community_id, report_id))
    except (InvalidTag, ValueError) as exc:
        raise VerificationError(
            "the sealed identity does not open with this key (another key, another "
            "report's identity, or altered)"
        ) from exc
    return Identity.from_bytes(plain)
