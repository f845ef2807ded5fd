"""Signing in and out, who am I, and bearer tokens.

``POST /v1/login`` takes JSON (``{"username", "password"}``, answered with the account and
the session's CSRF token) or an HTML form (answered with a redirect to ``next``); either
way the session id goes to the browser in an HttpOnly, SameSite=Lax cookie. The token
routes act on the signed-in account's own tokens only.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError

from api.accounts import Account, Principal, TokenInfo, principal_of
from api.accounts.errors import AuthenticationError, RateLimitedError
from api.accounts.sessions import WebSession
from api.accounts.tokens import DEFAULT_DAYS, MAX_DAYS
from api.service.auth import (
    FORM_TYPES,
    SESSION_COOKIE,
    CurrentAccount,
    SignedIn,
    client_address,
    get_accounts,
    get_auth_config,
    require_csrf,
)
from ledger.domain.vocabulary import ROLE_NAMES
from ledger.errors import InvalidInputError, PermissionDeniedError

router = APIRouter(prefix="/v1", tags=["auth"])
CsrfChecked = [Depends(require_csrf)]


class Credentials(BaseModel):
    username: str = Field(max_length=256)
    password: str = Field(max_length=4096)
    #: Where a form sign-in goes next; only a path on this site.
    next: str = "/"


class TokenRequest(BaseModel):
    days: int = Field(DEFAULT_DAYS, ge=1, le=MAX_DAYS)
    label: str = Field("", max_length=64)


def account_json(who: Account | Principal) -> dict[str, Any]:
    return {
        "username": who.username,
        "display_name": who.display_name,
        "role": who.role.value,
        "role_name": ROLE_NAMES[who.role],
        "community": who.community,
    }


def token_json(info: TokenInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "label": info.label,
        "created_at": info.created_at,
        "expires_at": info.expires_at,
        "revoked": info.revoked,
    }


async def read_credentials(request: Request) -> tuple[Credentials, bool]:
    """The sign-in's credentials, and whether they came from an HTML form."""
    is_form = request.headers.get("content-type", "").startswith(FORM_TYPES)
    try:
        if is_form:
            form = await request.form()
            raw: Any = {k: v for k, v in form.items() if isinstance(v, str)}
        else:
            raw = json.loads(await request.body() or b"null")
        return Credentials.model_validate(raw), is_form
    except (ValueError, RecursionError, ValidationError):
        # RecursionError: JSON nested deeper than the parser goes.
        raise InvalidInputError(
            "send a JSON object or a form with 'username' and 'password'"
        ) from None


@router.post("/login")
def login(
    request: Request, read: Annotated[tuple[Credentials, bool], Depends(read_credentials)]
) -> Response:
    credentials, is_form = read
    accounts = get_accounts(request)
    try:
        account = accounts.login(
            credentials.username, credentials.password, client_address(request)
        )
    except AuthenticationError as refused:
        if not is_form:
            raise
        # A browser's form goes back to the page it was on, which says why, rather than to
        # a problem+json document the reader would see as raw text (post, redirect, get).
        outcome = "throttled" if isinstance(refused, RateLimitedError) else "failed"
        back = _with_query(_local_path(credentials.next), sign_in=outcome)
        return RedirectResponse(back, status_code=303)
    # A session the browser already had is ended: one sign-in, one session.
    if old := request.cookies.get(SESSION_COOKIE):
        accounts.sessions.close(old)
    opened = accounts.sessions.open(principal_of(account, "session"))
    response: Response
    if is_form:
        response = RedirectResponse(_local_path(credentials.next), status_code=303)
    else:
        response = JSONResponse(_session_json(opened.session))
    response.set_cookie(
        SESSION_COOKIE,
        opened.session_id,
        httponly=True,
        samesite="lax",
        secure=get_auth_config(request).cookie_secure,
        path="/",
    )
    return response


@router.post("/logout", status_code=204, dependencies=CsrfChecked)
def logout(request: Request, _: CurrentAccount) -> Response:
    if cookie := request.cookies.get(SESSION_COOKIE):
        get_accounts(request).sessions.close(cookie)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_auth_config(request).cookie_secure,
    )
    return response


@router.get("/me")
def me(request: Request, principal: SignedIn) -> dict[str, Any]:
    body = {"account": account_json(principal), "via": principal.via}
    session: WebSession | None = getattr(request.state, "web_session", None)
    if session is not None:
        # Readable only by pages of this origin, so a page reloaded in the browser can
        # pick its CSRF token up again.
        body["csrf_token"] = session.csrf_token
    return body


@router.get("/tokens")
def list_tokens(request: Request, principal: SignedIn) -> dict[str, Any]:
    tokens = get_accounts(request).tokens.of(principal.username)
    return {"tokens": [token_json(t) for t in tokens]}


@router.post("/tokens", status_code=201, dependencies=CsrfChecked)
def issue_token(request: Request, principal: SignedIn, body: TokenRequest) -> dict[str, Any]:
    if principal.via != "session":
        # Otherwise a token could renew itself forever and its expiry would mean nothing.
        raise PermissionDeniedError(
            "a token is issued from a signed-in browser session or with 'gongkai users token'"
        )
    issued = get_accounts(request).tokens.issue(
        principal.username, days=body.days, label=body.label
    )
    return {
        **token_json(issued.info),
        "token": issued.secret,
        "note": "shown this once: keep it like a password",
    }


@router.delete("/tokens/{token_id}", status_code=204, dependencies=CsrfChecked)
def revoke_token(request: Request, principal: SignedIn, token_id: str) -> Response:
    get_accounts(request).tokens.revoke(principal.username, token_id)
    return Response(status_code=204)


def _session_json(session: WebSession) -> dict[str, Any]:
    return {"account": account_json(session.principal), "csrf_token": session.csrf_token}


def _with_query(path: str, **params: str) -> str:
    """``path`` with ``params`` set in its query (replacing any of the same name)."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


def _local_path(target: str) -> str:
    # Only a path on this site: "//host" and "/\\host" would send the browser elsewhere.
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
