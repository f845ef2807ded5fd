"""Idempotency keys: a retried command answers its first result and stores nothing twice.

A command's *fingerprint* is the SHA-256 of its name and canonical JSON arguments. The
key, the fingerprint and the result are stored in the same transaction as the command's
events. A retry with the same key and fingerprint gets the stored result back; the
same key with a different fingerprint is refused, because answering it would silently
drop the second command.

Keys are per account: clients choose them, so two accounts can choose the same one (a
counter, a date, a form's name), and neither may be answered the other's result or be
refused because of the other's command. The key is stored within its account's space
(:func:`scoped_key`); a key stored before that, bare, still answers its own account's
retry (see ``CommunityLedger._prior_command``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final
from uuid import UUID

from ledger.errors import InvalidInputError

KEY_PATTERN: Final = re.compile(r"[\x21-\x7e]{1,200}")


def check_key(key: object) -> str:
    """Idempotency keys are 1-200 printable ASCII characters (a UUID is typical)."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise InvalidInputError(
            "an idempotency key of 1-200 printable ASCII characters is required",
            field="idempotency_key",
        )
    return key


def scoped_key(account: str, key: str) -> str:
    """The key as stored: the SHA-256 of the account's name, a space, the client's key.

    The digest gives every account a fixed-width ASCII prefix whatever its name (the
    ledger's actors are usernames, the demo's are Chinese names), so the commands
    table's key column keeps its form; the space, which no client key may contain
    (:data:`KEY_PATTERN`), means a scoped key never equals a bare one stored before."""
    digest = hashlib.sha256(account.encode("utf-8")).hexdigest()
    return f"{digest} {check_key(key)}"


def _default(value: object) -> object:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def canonical_json(value: object) -> str:
    return json.dumps(
        value, default=_default, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def fingerprint(command: str, arguments: dict[str, Any]) -> bytes:
    return hashlib.sha256(
        canonical_json({"command": command, "arguments": arguments}).encode()
    ).digest()


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a command answers: its result, the chain entries it wrote, and whether this
    answer is a replay of an earlier attempt with the same idempotency key."""

    result: dict[str, Any]
    first_seq: int
    last_seq: int
    replayed: bool = field(default=False)
