"""The accounts database and the one operation that crosses its parts: signing in."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Final

from argon2 import PasswordHasher

from api.accounts.directory import AccountDirectory
from api.accounts.errors import AuthenticationError
from api.accounts.model import MAX_PASSWORD, Account, Principal
from api.accounts.schema import ensure_schema
from api.accounts.sessions import IDLE, WebSessions
from api.accounts.throttle import LoginPolicy, LoginThrottle
from api.accounts.tokens import BearerTokens
from projections.db import ReadDB, open_read_db

ACCOUNTS_DB: Final = "accounts"
# One message for an unknown username and a wrong password: which one it was would tell
# a guesser which usernames exist.
WRONG_CREDENTIALS: Final = "wrong username or password"


def default_hasher() -> PasswordHasher:
    """argon2id with the library's parameters (RFC 9106's low-memory profile)."""
    return PasswordHasher()


class Accounts:
    """Accounts, their tokens and sessions, and the login throttle, in one database."""

    def __init__(
        self,
        db: ReadDB,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
        policy: LoginPolicy | None = None,
        session_idle: int = IDLE,
        create: bool = True,
    ) -> None:
        if create:
            ensure_schema(db)
        self.db = db
        self.directory = AccountDirectory(db, hasher or default_hasher(), clock)
        self.tokens = BearerTokens(db, clock)
        self.sessions = WebSessions(db, clock, idle=session_idle)
        self.throttle = LoginThrottle(db, clock, policy or LoginPolicy())

    def login(self, username: str, password: str, client: str) -> Account:
        """The account whose password this is, or :class:`AuthenticationError`
        (:class:`RateLimitedError` after too many failures from the username or the
        client address). Usernames are matched without regard to case or spaces."""
        name = username.strip().lower()[:64] if isinstance(username, str) else ""
        self.throttle.attempt(name, client)
        account = None
        if isinstance(password, str) and len(password) <= MAX_PASSWORD:
            account = self.directory.check_password(name, password)
        if account is None:
            raise AuthenticationError(WRONG_CREDENTIALS)
        self.throttle.succeeded(name, client)
        if account.disabled:
            # Said only to someone who knows the password.
            raise AuthenticationError("this account is disabled: ask the administrator")
        return account

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def principal_of(account: Account, via: str) -> Principal:
    return Principal(account.username, account.display_name, account.role, account.community, via)


def open_accounts(
    store_url: str,
    *,
    hasher: PasswordHasher | None = None,
    clock: Callable[[], float] = time.time,
    policy: LoginPolicy | None = None,
    session_idle: int = IDLE,
    create: bool = False,
) -> Accounts:
    """Open the accounts database beside the ledger at ``store_url``; with ``create``,
    make it and its tables if need be (``gongkai db init``). Without, a missing
    database is a StoreError that says to run ``gongkai db init``."""
    return Accounts(
        open_read_db(store_url, ACCOUNTS_DB, create=create),
        hasher=hasher,
        clock=clock,
        policy=policy,
        session_idle=session_idle,
        create=create,
    )
