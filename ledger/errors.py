"""One error family for the ledger.

Callers catch :class:`GongkaiError` or one of its branches; driver errors are
converted at the edge with ``raise ... from e`` so that nobody above the store
sees sqlite3 or psycopg types.
"""

from __future__ import annotations


class GongkaiError(Exception):
    """Base of every error gongkai raises on purpose."""


class InvalidInputError(GongkaiError):
    """A command's input breaks a rule of the domain; nothing was stored.

    ``field`` names the offending input where there is one, so that an API can
    point at it.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidTransitionError(GongkaiError):
    """A command does not fit the current state of its subject (e.g. a review of
    a disclosure that was never submitted); nothing was stored."""


class NotFoundError(GongkaiError):
    """The community, disclosure, entry or objection named does not exist."""


class UnknownCommunityError(NotFoundError):
    """No community with that ID is registered in the store."""


class IdempotencyKeyReusedError(GongkaiError):
    """An idempotency key was sent again with a different command or payload."""


class StoreError(GongkaiError):
    """The store could not be opened or used (bad URL, missing tables, I/O)."""


class AppendOnlyViolationError(StoreError):
    """The database refused an UPDATE or DELETE on an append-only table."""


class VerificationError(GongkaiError):
    """A verifier found that the record is not what it claims to be."""


class PermissionDeniedError(GongkaiError):
    """The actor's role may not perform this command."""


class ConflictError(GongkaiError):
    """Concurrent commands kept changing the same subject; the command was not applied."""


class FormatError(GongkaiError):
    """Text or bytes that do not follow the format they claim to be in (a signed note, a
    checkpoint, a key, a proof, a bundle): the input is malformed, which is told apart
    from input that is well formed but fails to verify."""
