"""Personal data that can be erased (crypto-shredding, PIPL 第四十七条).

The personal fields of an aid recipient on a list (name, ID number, phone, the amount
paid to them, a note about them) are never stored in the chain as plaintext. Each
recipient is stored as::

    {"person_id": "<the clerk's ID for the person>", "key_id": "<32 hex>",
     "sealed": base64(nonce(12) || AES-256-GCM(key, nonce, fields, aad))}

where ``fields`` is the canonical JSON (sorted keys, no spaces, UTF-8) of the personal
fields and ``aad`` binds the sealed field to its community, person and key::

    b"gongkai/personal-field/v1\\n" || community || b"\\n" || person_id || b"\\n" || key_id

Each person has one key (32 random bytes), made the first time they are put on a list
and used again on every later list. Keys live in the community's key table
(``<community>_personal_keys``) beside the chain, in the same database but not part of
it and never hashed. Erasing a person destroys their key (the row keeps the person, the
key ID and when it was erased, the key itself becomes NULL): the chain, its Merkle tree,
checkpoints, proofs and bundles hold only the ciphertext, so they all still verify, and
every view shows :data:`ERASED` where the person's fields were.

The person is named by the clerk's own ID for them (e.g. a household number ``3-201-2``),
not by anything derived from their name or ID number: a lookup keyed on the ID number
would have to keep something computed from it, which erasure would then have to find
and destroy too. A person ID is 1-64 characters of ``A-Za-z0-9._-`` and may not hold a
run of 11 digits or more, so that a phone or ID number typed into it by mistake is
refused rather than written into the chain for ever.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.domain import validate
from ledger.errors import InvalidInputError

#: What every view shows in place of an erased person's fields.
ERASED: Final = "[已删除]"
AAD_PREFIX: Final = b"gongkai/personal-field/v1\n"
FINGERPRINT_PREFIX: Final = b"gongkai/personal-fingerprint/v1\n"
KEY_LENGTH: Final = 32
NONCE_LENGTH: Final = 12
PERSON_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
KEY_ID: Final = re.compile(r"[0-9a-f]{32}")
_LONG_DIGITS: Final = re.compile(r"[0-9]{11,}")
#: The personal fields of a recipient, and their longest length.
FIELDS: Final = ("name", "id_number", "phone", "amount_fen", "note")
_ID_NUMBER: Final = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")
_PHONE: Final = re.compile(r"\+?[0-9][0-9-]{5,19}")


@dataclass(frozen=True, slots=True)
class Recipient:
    """A recipient's personal fields, in the clear (only ever in memory)."""

    person_id: str
    name: str
    id_number: str = ""
    phone: str = ""
    amount_fen: int | None = None
    note: str = ""

    def fields(self) -> dict[str, Any]:
        """The personal fields that are sealed; empty optional ones are left out."""
        out: dict[str, Any] = {"name": self.name}
        if self.id_number:
            out["id_number"] = self.id_number
        if self.phone:
            out["phone"] = self.phone
        if self.amount_fen is not None:
            out["amount_fen"] = self.amount_fen
        if self.note:
            out["note"] = self.note
        return out


def new_key() -> tuple[str, bytes]:
    """A fresh key ID (16 random bytes, hex) and key (32 random bytes)."""
    return secrets.token_hex(16), secrets.token_bytes(KEY_LENGTH)


def aad(community_id: str, person_id: str, key_id: str) -> bytes:
    return AAD_PREFIX + "\n".join((community_id, person_id, key_id)).encode()


def canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def seal(
    community_id: str,
    person_id: str,
    key_id: str,
    key: bytes,
    fields: Mapping[str, Any],
    *,
    nonce: bytes | None = None,
) -> str:
    """The ``sealed`` value of one recipient: base64(nonce || ciphertext and tag). The
    nonce is random; ``nonce`` is for the known-answer test only."""
    nonce = secrets.token_bytes(NONCE_LENGTH) if nonce is None else nonce
    ciphertext = AESGCM(key).encrypt(
        nonce, canonical(fields), aad(community_id, person_id, key_id)
    )
    return base64.b64encode(nonce + ciphertext).decode("ascii")


def open_sealed(
    community_id: str, person_id: str, key_id: str, key: bytes, sealed: str
) -> dict[str, Any] | None:
    """The personal fields of one sealed recipient, or None when they do not open (a
    wrong key, or a sealed value moved from another person or community)."""
    try:
        raw = base64.b64decode(sealed, validate=True)
        plain = AESGCM(key).decrypt(
            raw[:NONCE_LENGTH], raw[NONCE_LENGTH:], aad(community_id, person_id, key_id)
        )
        value = json.loads(plain)
    except (binascii.Error, InvalidTag, ValueError):
        return None
    return value if isinstance(value, dict) else None


def fingerprint_mac(key: bytes, fields: Mapping[str, Any]) -> str:
    """What a command's idempotency fingerprint holds of a recipient: an HMAC of the
    fields under the person's own key, so that a retry matches, and nothing of it can
    be checked against a guessed name or ID number once the key is destroyed."""
    return hmac.new(key, FINGERPRINT_PREFIX + canonical(fields), hashlib.sha256).hexdigest()


def person_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not PERSON_ID.fullmatch(value):
        raise InvalidInputError(
            f"{field} must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'", field=field
        )
    if _LONG_DIGITS.search(value):
        raise InvalidInputError(
            f"{field} holds a run of 11 or more digits, like a phone or ID number: use "
            "the clerk's own number for the person, which is kept in the clear",
            field=field,
        )
    return value


def recipient(value: object, field: str) -> Recipient:
    """One recipient as the API or a caller gives it, checked."""
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{field} must be an object", field=field)
    unknown = sorted(set(value) - {"person_id", *FIELDS})
    if unknown:
        raise InvalidInputError(f"{field} has unknown field(s): {', '.join(unknown)}", field=field)
    pid = person_id(value.get("person_id"), f"{field}.person_id")
    name = validate.text(value.get("name"), f"{field}.name", max_length=50)
    id_number = validate.text(
        value.get("id_number", ""), f"{field}.id_number", max_length=18, required=False
    ).upper()
    if id_number and not _ID_NUMBER.fullmatch(id_number):
        raise InvalidInputError(
            f"{field}.id_number must be a 15 or 18 character resident ID number",
            field=f"{field}.id_number",
        )
    phone = validate.text(value.get("phone", ""), f"{field}.phone", max_length=20, required=False)
    if phone and not _PHONE.fullmatch(phone):
        raise InvalidInputError(
            f"{field}.phone must be a phone number of digits", field=f"{field}.phone"
        )
    amount = value.get("amount_fen")
    fen = None if amount is None else validate.amount_fen(amount, f"{field}.amount_fen")
    note = validate.text(value.get("note", ""), f"{field}.note", max_length=500, required=False)
    return Recipient(pid, name, id_number, phone, fen, note)


def recipients(values: object, field: str = "recipients") -> list[Recipient]:
    """A list of recipients, each person once."""
    if values is None:
        return []
    if not isinstance(values, Sequence) or isinstance(values, str | bytes):
        raise InvalidInputError(f"{field} must be a list", field=field)
    if len(values) > 1000:
        raise InvalidInputError(f"{field} lists more than 1000 people", field=field)
    checked = [recipient(v, f"{field}[{i}]") for i, v in enumerate(values)]
    seen: set[str] = set()
    for i, r in enumerate(checked):
        if r.person_id in seen:
            raise InvalidInputError(
                f"{field} lists person {r.person_id!r} twice", field=f"{field}[{i}].person_id"
            )
        seen.add(r.person_id)
    return checked


@dataclass(frozen=True, slots=True)
class ShownRecipient:
    """A recipient as a view shows them: their fields, or :data:`ERASED` for each."""

    person_id: str
    erased: bool
    name: str
    id_number: str = ""
    phone: str = ""
    amount_fen: int | None = None
    note: str = ""


def shown(
    community_id: str, stored: Mapping[str, Any], keys: Mapping[str, bytes | None]
) -> ShownRecipient:
    """One stored recipient opened with ``keys`` (key ID -> key, None once erased); a
    key that is gone or does not open it shows :data:`ERASED`."""
    pid = str(stored.get("person_id", ""))
    key_id = str(stored.get("key_id", ""))
    key = keys.get(key_id)
    fields = (
        open_sealed(community_id, pid, key_id, key, str(stored.get("sealed", "")))
        if key is not None
        else None
    )
    if fields is None:
        return ShownRecipient(pid, True, ERASED)
    amount = fields.get("amount_fen")
    return ShownRecipient(
        pid,
        False,
        str(fields.get("name", "")),
        str(fields.get("id_number", "")),
        str(fields.get("phone", "")),
        amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        str(fields.get("note", "")),
    )


def stored_recipients(value: object) -> list[dict[str, str]]:
    """The stored recipients of an event's state, each with its three strings; anything
    else in the list is left out."""
    if not isinstance(value, list):
        return []
    return [
        {k: str(v[k]) for k in ("person_id", "key_id", "sealed")}
        for v in value
        if isinstance(v, dict)
        and all(isinstance(v.get(k), str) for k in ("person_id", "key_id", "sealed"))
    ]
