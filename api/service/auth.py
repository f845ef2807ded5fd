"""Who a request acts for: FastAPI dependencies over :mod:`api.accounts`, and the wiring
that opens the accounts database with the app.

A request is signed in by a bearer token (``Authorization: Bearer gk_...``, for the API
and scripts) or else by the session cookie a browser got at sign-in; with neither it is
the anonymous public, which may still read what is public. A cookie is sent by the
browser on its own, so state-changing requests signed in by one must also carry the
session's CSRF token (:func:`require_csrf`); a bearer token is never sent on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Final

from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.accounts import (
    Accounts,
    AuthenticationError,
    LoginPolicy,
    Principal,
    RateLimitedError,
    check_csrf,
    open_accounts,
)
from api.accounts.sessions import IDLE
from api.service.errors import problem
from api.service.lifespan import open_for_lifespan, opened
from api.service.settings import Settings

#: What a 401 asks for (RFC 9110 section 11.6.1), on the API's answers and the portal's pages.
WWW_AUTHENTICATE = 'Bearer realm="gongkai"'
SESSION_COOKIE: Final = "gongkai_session"
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FIELD: Final = "csrf_token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """How sign-in behaves. ``cookie_secure`` is off only for plain-HTTP development: a
    session cookie sent over HTTP can be read by anyone on the network."""

    cookie_secure: bool = True
    session_idle: int = IDLE
    policy: LoginPolicy = field(default_factory=LoginPolicy)
    #: None: argon2id with the library's parameters; tests pass cheap ones.
    hasher: PasswordHasher | None = None


def install_accounts(app: FastAPI, settings: Settings, config: AuthConfig | None = None) -> None:
    """Open the accounts database beside ``settings.db_url`` for the app's lifetime
    (around whatever lifespan the app already has) and answer sign-in failures as
    problem+json: 401 with ``WWW-Authenticate``, 429 with ``Retry-After``."""
    config = config or AuthConfig()
    app.state.auth_config = config
    app.add_exception_handler(AuthenticationError, _handle_authentication)
    app.add_exception_handler(RateLimitedError, _handle_rate_limited)
    open_for_lifespan(
        app,
        "accounts",
        lambda: open_accounts(
            settings.db_url,
            hasher=config.hasher,
            policy=config.policy,
            session_idle=config.session_idle,
        ),
        Accounts.close,
    )


def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = opened(request, "accounts", "accounts")
    return accounts


def get_auth_config(request: Request) -> AuthConfig:
    config: AuthConfig = request.app.state.auth_config
    return config


def client_address(request: Request) -> str:
    """The address logins are counted against. Behind a reverse proxy, run uvicorn with
    ``--proxy-headers --forwarded-allow-ips`` so that this is the client's, not the
    proxy's."""
    return request.client.host if request.client else "unknown"


async def current_account(request: Request) -> Principal | None:
    """The signed-in principal, or None for the anonymous public. A bearer token that is
    not valid is an error (the client meant to sign in); a stale session cookie is not
    (the browser still shows public pages), but :func:`require_account` says why."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    if "authorization" not in request.headers and SESSION_COOKIE not in request.cookies:
        get_accounts(request)  # 503 until 'gongkai db init', as for everyone
        request.state.principal = None  # the public: nothing to look up
        return None
    # The look-up reads the accounts' database: in the thread pool, off the event loop.
    return await run_in_threadpool(_signed_in, request)


def _signed_in(request: Request) -> Principal | None:
    accounts = get_accounts(request)
    principal = None
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError("send the token as 'Authorization: Bearer <token>'")
        principal = accounts.tokens.principal(secret.strip())
    elif cookie := request.cookies.get(SESSION_COOKIE):
        try:
            session = accounts.sessions.resolve(cookie)
        except AuthenticationError as e:
            request.state.stale_session = e
        else:
            request.state.web_session = session
            principal = session.principal
    request.state.principal = principal
    return principal


CurrentAccount = Annotated[Principal | None, Depends(current_account)]


async def require_account(request: Request, principal: CurrentAccount) -> Principal:
    """The signed-in principal, or 401."""
    if principal is None:
        stale: AuthenticationError | None = getattr(request.state, "stale_session", None)
        raise stale or AuthenticationError("sign in, or send a bearer token")
    return principal


SignedIn = Annotated[Principal, Depends(require_account)]


async def require_csrf(request: Request, principal: CurrentAccount) -> None:
    """Refuse an unsafe request signed in by the session cookie without the session's
    CSRF token, in the ``X-CSRF-Token`` header or a ``csrf_token`` form field."""
    session = getattr(request.state, "web_session", None)
    if request.method in SAFE_METHODS or principal is None or session is None:
        return
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    check_csrf(session, token)


async def _handle_authentication(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthenticationError)
    response = problem(401, "Not signed in", str(exc))
    response.headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response


async def _handle_rate_limited(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitedError)
    response = problem(429, "Too many attempts", str(exc), retry_after=exc.retry_after)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
