"""Login rate limiting shared by every process: failed attempts are rows in the accounts
database, counted per username and per client address over a sliding window."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from api.accounts.errors import RateLimitedError
from projections.db import ReadDB, Tx

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How many failures are allowed within ``window`` seconds before sign-ins are
    refused. The per-address limit is higher than the per-username one because one
    residents' committee office often reaches the service from a single address."""

    window: int = 15 * 60
    per_username: int = 5
    per_client: int = 20


class LoginThrottle:
    """Each attempt is counted as a failure *before* the password is checked, and
    forgiven if it succeeds: so that parallel guesses cannot all slip past the count
    while the (slow) password hash is computed."""

    def __init__(self, db: ReadDB, clock: Clock, policy: LoginPolicy) -> None:
        self._db = db
        self._clock = clock
        self.policy = policy

    def attempt(self, username: str, client: str) -> None:
        """Count an attempt, or raise :class:`RateLimitedError` if too many failed."""
        now = int(self._clock())
        since = now - self.policy.window
        with self._db.transaction() as tx:
            self._serialize(tx)
            tx.execute("DELETE FROM login_failures WHERE failed_at <= ?", (since,))
            waits = [
                self._wait(tx, "username", username, self.policy.per_username, since),
                self._wait(tx, "client", client, self.policy.per_client, since),
            ]
            wait = max(waits)
            if wait > 0:
                # Raising rolls the transaction back: a refused attempt is not counted,
                # so that the lock lifts on time however often a client retries.
                minutes = math.ceil(wait / 60)
                raise RateLimitedError(
                    f"too many failed sign-ins: try again in {minutes} minute"
                    + ("s" if minutes > 1 else ""),
                    retry_after=wait,
                )
            tx.execute(
                "INSERT INTO login_failures (username, client, failed_at) VALUES (?, ?, ?)",
                (username, client, now),
            )

    def succeeded(self, username: str, client: str) -> None:
        """Forgive this username's failures from this address, and no others: a
        successful sign-in must not reset the count of guesses at other usernames."""
        with self._db.transaction() as tx:
            tx.execute(
                "DELETE FROM login_failures WHERE username = ? AND client = ?",
                (username, client),
            )

    def _serialize(self, tx: Tx) -> None:
        # SQLite's BEGIN IMMEDIATE already lets one writer in at a time; PostgreSQL's
        # READ COMMITTED would let two attempts both count four failures and both pass.
        if self._db.dialect == "postgres":
            tx.execute("LOCK TABLE login_failures IN SHARE ROW EXCLUSIVE MODE")

    def _wait(self, tx: Tx, column: str, value: str, limit: int, since: int) -> int:
        """Seconds until fewer than ``limit`` failures remain in the window (0: none)."""
        rows = tx.query(
            f"SELECT failed_at FROM login_failures WHERE {column} = ? AND failed_at > ?"
            " ORDER BY failed_at DESC",
            (value, since),
        )
        if len(rows) < limit:
            return 0
        # The limit-th newest failure is the one whose ageing out lets the next one in.
        oldest_that_counts: int = rows[limit - 1][0]
        return max(1, oldest_that_counts + self.policy.window - int(self._clock()))
