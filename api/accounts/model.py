"""Accounts and the rules they follow: who may hold an account, in which role, for which
community, and with what kind of password. Pure functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ledger.domain.base import Actor
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidInputError

USERNAME: Final = re.compile(r"[a-z0-9_.-]{3,32}")
MIN_PASSWORD: Final = 10
# argon2 hashes whatever it is given; a cap keeps a megabyte "password" from being work.
MAX_PASSWORD: Final = 256
# Passwords people pick first; the length rule lets them through.
_COMMON: Final = frozenset(
    {"1234567890", "12345678910", "0123456789", "password123", "qwertyuiop", "1qaz2wsx3edc"}
)

#: gongkai itself acts as SYSTEM; no person signs in as it.
ACCOUNT_ROLES: Final = tuple(r for r in Role if r is not Role.SYSTEM)
#: The street disciplinary committee (街道纪工委) supervises every community of the
#: street, so its accounts belong to none; every other role works in one community.
STREET_ROLES: Final = frozenset({Role.DISCIPLINARY_AUDITOR})


@dataclass(frozen=True, slots=True)
class Account:
    """A person who signs in. The password hash stays in the store."""

    username: str
    display_name: str
    role: Role
    community: str | None
    disabled: bool
    created_at: str  # UTC, ISO 8601


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for, once signed in: enough to build the ledger's Actor and to
    decide which communities they may read."""

    username: str
    display_name: str
    role: Role
    community: str | None
    #: "token" (an API or CLI bearer token) or "session" (a browser's cookie)
    via: str

    def actor(self) -> Actor:
        return Actor(self.username, self.role)

    def may_read(self, community_id: str) -> bool:
        return self.community is None or self.community == community_id


def check_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise InvalidInputError(
            "a username is 3-32 characters of a-z, 0-9, '_', '.' and '-'", field="username"
        )
    return username


def check_role(role: str) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        parsed = Role.SYSTEM
    if parsed is Role.SYSTEM:
        names = ", ".join(r.value for r in ACCOUNT_ROLES)
        raise InvalidInputError(f"unknown role {role!r}: one of {names}", field="role")
    return parsed


def check_community(role: Role, community: str | None) -> str | None:
    """The community an account of ``role`` belongs to: required for every role but the
    street's, refused for the street's (which would otherwise read as a restriction)."""
    if role in STREET_ROLES:
        if community:
            raise InvalidInputError(
                f"a {role.value} reads every community of the street; give no community",
                field="community",
            )
        return None
    if not community:
        raise InvalidInputError(
            f"a {role.value} works in one community: give its ID", field="community"
        )
    return community


def check_password(password: str, username: str) -> None:
    """Length is what makes a password hard to guess; no rules about character kinds."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInputError(
            f"the password must be at least {MIN_PASSWORD} characters", field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInputError(
            f"the password must be at most {MAX_PASSWORD} characters", field="password"
        )
    lowered = password.lower()
    if username in lowered or len(set(password)) < 4 or lowered in _COMMON:
        raise InvalidInputError(
            "the password is too easy to guess: avoid the username, repeats and sequences",
            field="password",
        )
