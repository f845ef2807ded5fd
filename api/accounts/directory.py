"""The accounts themselves: created by an administrator, signed in to with a password,
disabled when someone leaves. Passwords are hashed with argon2id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.accounts.credentials import iso, new_secret
from api.accounts.model import (
    Account,
    check_community,
    check_password,
    check_role,
    check_username,
)
from ledger.domain.vocabulary import Role
from ledger.errors import ConflictError, InvalidInputError, NotFoundError
from projections.db import ReadDB, Tx

Clock = Callable[[], float]

ACCOUNT_COLUMNS: Final = "username, display_name, role, community, disabled, created_at"


def account_from_row(row: tuple[Any, ...]) -> Account:
    username, display_name, role, community, disabled, created_at = row
    return Account(username, display_name, Role(role), community, bool(disabled), created_at)


class AccountDirectory:
    """Accounts in the accounts database. ``hasher`` is injectable so that tests can use
    cheap argon2 parameters; stored hashes carry their own parameters, and a hash made
    with other parameters than ``hasher``'s is replaced at the next sign-in."""

    def __init__(self, db: ReadDB, hasher: PasswordHasher, clock: Clock) -> None:
        self._db = db
        self._hasher = hasher
        self._clock = clock
        self._decoy: str | None = None

    def add(
        self,
        username: str,
        role: str,
        *,
        community: str | None = None,
        display_name: str = "",
        password: str,
    ) -> Account:
        check_username(username)
        parsed = check_role(role)
        community = check_community(parsed, community)
        check_password(password, username)
        display_name = display_name.strip() or username
        if len(display_name) > 64:
            raise InvalidInputError("the display name is at most 64 characters", field="name")
        password_hash = self._hasher.hash(password)
        created_at = iso(int(self._clock()))
        with self._db.transaction() as tx:
            # ON CONFLICT rather than a look first: two administrators adding the same
            # name at once must not both pass the look. The salted hash tells whose row won.
            tx.execute(
                "INSERT INTO accounts (username, display_name, role, community,"
                " password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)"
                " ON CONFLICT (username) DO NOTHING",
                (username, display_name, parsed.value, community, password_hash, created_at),
            )
            stored = tx.query("SELECT password_hash FROM accounts WHERE username = ?", (username,))
            if stored[0][0] != password_hash:
                raise ConflictError(f"the username {username!r} is taken")
        return Account(username, display_name, parsed, community, False, created_at)

    def get(self, username: str) -> Account:
        with self._db.transaction() as tx:
            return self._get(tx, username)

    def all(self) -> list[Account]:
        with self._db.transaction() as tx:
            rows = tx.query(f"SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY username")
        return [account_from_row(r) for r in rows]

    def disable(self, username: str) -> Account:
        """Disable the account and end its sessions and tokens at once: someone who left
        must not keep a browser signed in."""
        now = int(self._clock())
        with self._db.transaction() as tx:
            account = self._get(tx, username)
            tx.execute("UPDATE accounts SET disabled = 1 WHERE username = ?", (username,))
            tx.execute("DELETE FROM web_sessions WHERE username = ?", (username,))
            tx.execute(
                "UPDATE bearer_tokens SET revoked_at = ?"
                " WHERE username = ? AND revoked_at IS NULL",
                (now, username),
            )
        return Account(
            account.username,
            account.display_name,
            account.role,
            account.community,
            True,
            account.created_at,
        )

    def set_password(self, username: str, password: str) -> None:
        check_password(password, username)
        password_hash = self._hasher.hash(password)
        with self._db.transaction() as tx:
            self._get(tx, username)
            tx.execute(
                "UPDATE accounts SET password_hash = ? WHERE username = ?",
                (password_hash, username),
            )

    def check_password(self, username: str, password: str) -> Account | None:
        """The account if ``password`` is its password, else None. An unknown username
        costs the same hashing time as a known one, so that timing tells nothing."""
        with self._db.transaction() as tx:
            rows = tx.query(
                f"SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE username = ?",
                (username,),
            )
        if not rows:
            self._verify(self._decoy_hash(), password)
            return None
        *columns, password_hash = rows[0]
        if not self._verify(password_hash, password):
            return None
        if self._hasher.check_needs_rehash(password_hash):
            with self._db.transaction() as tx:
                tx.execute(
                    "UPDATE accounts SET password_hash = ? WHERE username = ?",
                    (self._hasher.hash(password), username),
                )
        return account_from_row(tuple(columns))

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _decoy_hash(self) -> str:
        if self._decoy is None:
            self._decoy = self._hasher.hash(new_secret())
        return self._decoy

    @staticmethod
    def _get(tx: Tx, username: str) -> Account:
        rows = tx.query(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = ?", (username,))
        if not rows:
            raise NotFoundError(f"no account {username!r}")
        return account_from_row(rows[0])
