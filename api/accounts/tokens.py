"""Bearer tokens for the API and scripts: issued to an account, shown once, stored as a
SHA-256 digest, expiring, revocable, and listed without their secret."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from api.accounts.credentials import TOKEN_PREFIX, digest, iso, new_secret
from api.accounts.errors import AuthenticationError
from api.accounts.model import Principal
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidInputError, NotFoundError
from projections.db import ReadDB

Clock = Callable[[], float]

DEFAULT_DAYS: Final = 30
MAX_DAYS: Final = 365
DAY: Final = 24 * 3600


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What may be shown of a token after it was issued: everything but the secret."""

    id: str
    label: str
    created_at: str
    expires_at: str
    revoked: bool


@dataclass(frozen=True, slots=True)
class IssuedToken:
    info: TokenInfo
    #: The bearer secret, shown to its owner this once and never again.
    secret: str


class BearerTokens:
    def __init__(self, db: ReadDB, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def issue(self, username: str, *, days: int = DEFAULT_DAYS, label: str = "") -> IssuedToken:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise InvalidInputError(
                f"a token lasts 1 to {MAX_DAYS} days, not {days!r}", field="days"
            )
        label = label.strip()
        if len(label) > 64:
            raise InvalidInputError("a token's label is at most 64 characters", field="label")
        now = int(self._clock())
        token_id = secrets.token_hex(8)
        secret = TOKEN_PREFIX + new_secret()
        with self._db.transaction() as tx:
            rows = tx.query("SELECT disabled FROM accounts WHERE username = ?", (username,))
            if not rows:
                raise NotFoundError(f"no account {username!r}")
            if rows[0][0]:
                raise InvalidInputError(f"the account {username!r} is disabled")
            tx.execute(
                "INSERT INTO bearer_tokens (id, token_hash, username, label, created_at,"
                " expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (token_id, digest(secret), username, label, now, now + days * DAY),
            )
        info = TokenInfo(token_id, label, iso(now), iso(now + days * DAY), revoked=False)
        return IssuedToken(info, secret)

    def of(self, username: str) -> list[TokenInfo]:
        """The account's tokens, newest first, revoked and expired ones included."""
        with self._db.transaction() as tx:
            rows = tx.query(
                "SELECT id, label, created_at, expires_at, revoked_at FROM bearer_tokens"
                " WHERE username = ? ORDER BY created_at DESC, id",
                (username,),
            )
        return [TokenInfo(i, lb, iso(c), iso(e), r is not None) for i, lb, c, e, r in rows]

    def revoke(self, username: str, token_id: str) -> None:
        """Revoke one of ``username``'s tokens. Another account's token is reported as
        not found, so that token ids cannot be probed."""
        with self._db.transaction() as tx:
            rows = tx.query(
                "SELECT revoked_at FROM bearer_tokens WHERE id = ? AND username = ?",
                (token_id, username),
            )
            if not rows:
                raise NotFoundError(f"no token {token_id!r}")
            if rows[0][0] is None:
                tx.execute(
                    "UPDATE bearer_tokens SET revoked_at = ? WHERE id = ?",
                    (int(self._clock()), token_id),
                )

    def principal(self, secret: str) -> Principal:
        """Who presents this bearer token, or :class:`AuthenticationError`."""
        if not secret.startswith(TOKEN_PREFIX):
            raise AuthenticationError("the bearer token is not valid")
        # A read: it must not queue behind writers (SQLite's write lock) on every request.
        with self._db.reading() as tx:
            rows = tx.query(
                "SELECT t.expires_at, t.revoked_at, a.username, a.display_name, a.role,"
                " a.community, a.disabled FROM bearer_tokens t"
                " JOIN accounts a ON a.username = t.username WHERE t.token_hash = ?",
                (digest(secret),),
            )
        if not rows:
            raise AuthenticationError("the bearer token is not valid")
        expires_at, revoked_at, username, display_name, role, community, disabled = rows[0]
        if revoked_at is not None:
            raise AuthenticationError("the bearer token was revoked")
        if expires_at <= self._clock():
            raise AuthenticationError("the bearer token has expired: issue a new one")
        if disabled:
            raise AuthenticationError("the account is disabled")
        return Principal(username, display_name, Role(role), community, via="token")
