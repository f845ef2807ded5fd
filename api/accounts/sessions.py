"""Browser sessions: a random session id in an HttpOnly cookie (kept here only as a
digest), a sliding idle expiry under an absolute one, and a CSRF secret per session."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from api.accounts.credentials import digest, new_secret
from api.accounts.errors import AuthenticationError
from api.accounts.model import Principal
from ledger.domain.vocabulary import Role
from ledger.errors import PermissionDeniedError
from projections.db import ReadDB

Clock = Callable[[], float]

IDLE: Final = 12 * 3600
# Sliding expiry alone would keep a session on a shared office computer alive forever.
ABSOLUTE: Final = 7 * 24 * 3600
# Extending the expiry on every request would write on every read; a minute is precise enough.
_SLIDE_STEP: Final = 60


@dataclass(frozen=True, slots=True)
class WebSession:
    principal: Principal
    csrf_token: str
    expires_at: int  # seconds since the epoch


@dataclass(frozen=True, slots=True)
class OpenedSession:
    session: WebSession
    #: The cookie's value, given to the browser once; only its digest is stored.
    session_id: str


class WebSessions:
    def __init__(
        self, db: ReadDB, clock: Clock, *, idle: int = IDLE, absolute: int = ABSOLUTE
    ) -> None:
        self._db = db
        self._clock = clock
        self.idle = idle
        self.absolute = absolute

    def open(self, principal: Principal) -> OpenedSession:
        """A new session for a principal who has just signed in. Always a new id, so
        that an id planted in a browser before sign-in is worth nothing after it."""
        now = int(self._clock())
        session_id, csrf_token = new_secret(), new_secret()
        expires_at = now + min(self.idle, self.absolute)
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (now,))
            tx.execute(
                "INSERT INTO web_sessions (session_hash, username, csrf_secret, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?)",
                (digest(session_id), principal.username, csrf_token, now, expires_at),
            )
        session = WebSession(_as_session(principal), csrf_token, expires_at)
        return OpenedSession(session, session_id)

    def resolve(self, session_id: str) -> WebSession:
        """The live session with this id, its expiry slid forward; or
        :class:`AuthenticationError`."""
        now = int(self._clock())
        key = digest(session_id)
        with self._db.transaction() as tx:
            rows = tx.query(
                "SELECT s.csrf_secret, s.created_at, s.expires_at, a.username,"
                " a.display_name, a.role, a.community, a.disabled FROM web_sessions s"
                " JOIN accounts a ON a.username = s.username WHERE s.session_hash = ?",
                (key,),
            )
            if not rows:
                raise AuthenticationError("the session has ended: sign in again")
            csrf, created_at, expires_at, username, display_name, role, community, disabled = rows[
                0
            ]
            if expires_at <= now or disabled:
                tx.execute("DELETE FROM web_sessions WHERE session_hash = ?", (key,))
                # Committed despite the error below: the block ends normally first.
                expired = True
            else:
                expired = False
                slid = min(now + self.idle, created_at + self.absolute)
                if slid - expires_at >= _SLIDE_STEP:
                    tx.execute(
                        "UPDATE web_sessions SET expires_at = ? WHERE session_hash = ?",
                        (slid, key),
                    )
                    expires_at = slid
        if expired:
            raise AuthenticationError("the session has ended: sign in again")
        principal = Principal(username, display_name, Role(role), community, via="session")
        return WebSession(principal, csrf, expires_at)

    def close(self, session_id: str) -> None:
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM web_sessions WHERE session_hash = ?", (digest(session_id),))


def check_csrf(session: WebSession, token: str | None) -> None:
    """Refuse a state-changing request made with a session cookie unless it carries the
    session's CSRF token, which another site's page cannot read. Compared in constant
    time, so that the token cannot be learned a character at a time."""
    if not token or not hmac.compare_digest(token.encode(), session.csrf_token.encode()):
        raise PermissionDeniedError(
            "missing or wrong CSRF token: send the X-CSRF-Token header or a csrf_token field"
        )


def _as_session(principal: Principal) -> Principal:
    return Principal(
        principal.username,
        principal.display_name,
        principal.role,
        principal.community,
        via="session",
    )
