"""Secrets handed to a client once, and what is kept of them: a SHA-256 digest, enough to
recognise the secret again and useless to someone who reads the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Final

from api.accounts.model import check_password
from ledger.errors import InvalidInputError

#: Marks gongkai's bearer tokens, so that secret scanners and people can tell them apart.
TOKEN_PREFIX: Final = "gk_"  # noqa: S105 (a prefix, not a secret)


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_password(username: str) -> str:
    """A random password (120 bits) that the account rules accept for ``username``."""
    while True:
        password = secrets.token_urlsafe(15)
        try:
            check_password(password, username)
        except InvalidInputError:
            continue  # it happened to contain the username
        return password


def digest(secret: str) -> str:
    # A fast hash is enough: the secrets are random, not chosen by people.
    return hashlib.sha256(secret.encode()).hexdigest()


def iso(seconds: int) -> str:
    """Whole seconds since the epoch as UTC ISO 8601."""
    return datetime.fromtimestamp(seconds, UTC).isoformat()
