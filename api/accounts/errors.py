"""The two ways a sign-in fails that the ledger's error family has no branch for."""

from __future__ import annotations

from ledger.errors import GongkaiError


class AuthenticationError(GongkaiError):
    """The credentials (password, bearer token, session) were missing or not accepted.

    The message never says whether a username exists: a wrong password and an unknown
    user read the same.
    """


class RateLimitedError(AuthenticationError):
    """Too many failed sign-ins; ``retry_after`` is how many seconds to wait."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
