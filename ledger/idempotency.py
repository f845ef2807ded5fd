"""Idempotency keys: a retried command answers its first result and stores nothing twice.

A command's *fingerprint* is the SHA-256 of its name and canonical JSON arguments. The
key, the fingerprint and the result are stored in the same transaction as the command's
events. A retry with the same key and fingerprint gets the stored result back; the
same key with a different fingerprint is refused, because answering it would silently
drop the second command.
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
