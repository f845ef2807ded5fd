"""People's accounts: who signs in, in which role and community, with which password,
token or browser session. Kept in a database of their own beside the ledger (see
:mod:`projections.db`); the ledger records actions, not credentials."""

from api.accounts.directory import AccountDirectory
from api.accounts.errors import AuthenticationError, RateLimitedError
from api.accounts.model import ACCOUNT_ROLES, Account, Principal
from api.accounts.service import Accounts, default_hasher, open_accounts, principal_of
from api.accounts.sessions import OpenedSession, WebSession, WebSessions, check_csrf
from api.accounts.throttle import LoginPolicy, LoginThrottle
from api.accounts.tokens import BearerTokens, IssuedToken, TokenInfo

__all__ = [
    "ACCOUNT_ROLES",
    "Account",
    "AccountDirectory",
    "Accounts",
    "AuthenticationError",
    "BearerTokens",
    "IssuedToken",
    "LoginPolicy",
    "LoginThrottle",
    "OpenedSession",
    "Principal",
    "RateLimitedError",
    "TokenInfo",
    "WebSession",
    "WebSessions",
    "check_csrf",
    "default_hasher",
    "open_accounts",
    "principal_of",
]
