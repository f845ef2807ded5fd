"""``personal-keys.json``: the keys that open the sealed recipients of a bundle's entries
(:mod:`ledger.domain.personal_data`), for a bundle made for readers who may see them.
Written by the export, checked by the verifier; an erased person's key is null, so an
old bundle made with keys is the one copy that still opens them: it is handed only to
whoever may keep the data."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from typing import Final

from ledger.bundle.format import PERSONAL_KEYS, PERSONAL_KEYS_FORMAT
from ledger.bundle.verify_parse import fail

#: A key ID as an event's state holds it, found without parsing the event.
_KEY_ID: Final = re.compile(rb'"key_id":"([0-9a-f]{32})"')
_KEY_ID_TEXT: Final = re.compile(r"[0-9a-f]{32}")


def key_ids_in(states: Iterable[bytes]) -> set[str]:
    """Every personal key ID the stored states name."""
    return {m.group(1).decode("ascii") for s in states for m in _KEY_ID.finditer(s)}


def personal_keys_json(community_id: str, keys: Mapping[str, bytes | None]) -> bytes:
    """The file's bytes for ``keys`` (key ID -> key, None once erased)."""
    document = {
        "format": PERSONAL_KEYS_FORMAT,
        "community": community_id,
        "keys": [
            {
                "key_id": key_id,
                "key": None if key is None else base64.b64encode(key).decode("ascii"),
            }
            for key_id, key in sorted(keys.items())
        ],
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def parse_personal_keys(data: bytes, community_id: str) -> dict[str, bytes | None]:
    """The keys of the file, checked; raises :class:`BundleVerificationError`."""
    try:
        document = json.loads(data)
    except ValueError as e:
        fail(f"{PERSONAL_KEYS}: not JSON: {e}")
    if not isinstance(document, dict) or document.get("format") != PERSONAL_KEYS_FORMAT:
        fail(f"{PERSONAL_KEYS}: not a {PERSONAL_KEYS_FORMAT} document")
    if document.get("community") != community_id:
        named = document.get("community")
        fail(f"{PERSONAL_KEYS}: names community {named!r}, not {community_id!r}")
    keys: dict[str, bytes | None] = {}
    entries = document.get("keys")
    if not isinstance(entries, list):
        fail(f"{PERSONAL_KEYS}: keys must be a list")
    for i, entry in enumerate(entries):
        where = f"{PERSONAL_KEYS}: keys[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"key_id", "key"}:
            fail(f"{where}: must have exactly key_id and key")
        key_id, key = entry["key_id"], entry["key"]
        if not isinstance(key_id, str) or not _KEY_ID_TEXT.fullmatch(key_id) or key_id in keys:
            fail(f"{where}: key_id must be 32 hex digits, each key once")
        if key is None:
            keys[key_id] = None
            continue
        try:
            raw = base64.b64decode(key, validate=True) if isinstance(key, str) else b""
        except binascii.Error:
            raw = b""
        if len(raw) != 32:
            fail(f"{where}: key must be 32 bytes in base64, or null for a person erased")
        keys[key_id] = raw
    return keys
