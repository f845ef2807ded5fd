"""Signing in over HTTP: sessions with their cookie and CSRF token, bearer tokens, the
throttle's 429, and every refusal as problem+json."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from api.accounts import open_accounts
from api.accounts.service import WRONG_CREDENTIALS
from api.routes.auth import router
from api.service import errors
from api.service.auth import AuthConfig, SignedIn, install_accounts, require_csrf
from api.service.settings import Settings
from tests.accounts_support import GOOD_PASSWORD, START, FakeClock, cheap_hasher

PROBLEM = "application/problem+json"


def build_app(store_url: str, *, cookie_secure: bool = True) -> FastAPI:
    """The routes under test, and one state-changing route that takes a session or a
    token, as the ledger's routes will."""
    app = FastAPI()
    errors.install_all(app)
    settings = Settings(db_url=store_url, checkpoint_interval=0)
    install_accounts(app, settings, AuthConfig(cookie_secure, hasher=cheap_hasher()))
    app.include_router(router)

    @app.post("/v1/probe", dependencies=[Depends(require_csrf)])
    def probe(who: SignedIn) -> dict[str, str]:
        return {"actor": who.username, "via": who.via}

    return app


@pytest.fixture
def store_url(isolated_store_url: str) -> str:
    with open_accounts(isolated_store_url, hasher=cheap_hasher(), create=True) as accounts:
        add = accounts.directory.add
        add("wang.li", "clerk", community="tianhai", display_name="王丽", password=GOOD_PASSWORD)
        add("zhao", "resident", community="tianhai", password=GOOD_PASSWORD)
        add("jiwei", "disciplinary_auditor", password=GOOD_PASSWORD)
    return isolated_store_url


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    # https, so that the client sends back the Secure cookie.
    with TestClient(build_app(store_url), base_url="https://testserver") as c:
        yield c


def login(client: TestClient, username: str = "wang.li", password: str = GOOD_PASSWORD) -> str:
    r = client.post("/v1/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    token: str = r.json()["csrf_token"]
    return token


def assert_problem(r: Response, status: int, detail: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert detail in body["detail"]
    return body


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# --- sessions ------------------------------------------------------------------------------


def test_login_sets_a_safe_cookie_and_returns_the_csrf_token(client: TestClient) -> None:
    r = client.post("/v1/login", json={"username": "wang.li", "password": GOOD_PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["account"] == {
        "username": "wang.li",
        "display_name": "王丽",
        "role": "clerk",
        "role_name": "社区工作者",
        "community": "tianhai",
    }
    assert len(body["csrf_token"]) >= 40
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("gongkai_session=")
    for attribute in ("HttpOnly", "SameSite=lax", "Secure", "Path=/"):
        assert attribute in cookie
    assert body["csrf_token"] not in cookie

    me = client.get("/v1/me").json()
    assert me["account"]["username"] == "wang.li"
    assert me["via"] == "session"
    assert me["csrf_token"] == body["csrf_token"]


def test_the_secure_flag_can_be_turned_off_for_plain_http(store_url: str) -> None:
    with TestClient(build_app(store_url, cookie_secure=False)) as c:
        r = c.post("/v1/login", json={"username": "wang.li", "password": GOOD_PASSWORD})
        assert "Secure" not in r.headers["set-cookie"]
        assert c.get("/v1/me").status_code == 200


def test_a_form_login_redirects_to_a_local_page(client: TestClient) -> None:
    form = {"username": "wang.li", "password": GOOD_PASSWORD, "next": "/communities/tianhai"}
    r = client.post("/v1/login", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/communities/tianhai"
    assert "HttpOnly" in r.headers["set-cookie"]
    assert client.get("/v1/me").json()["via"] == "session"
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = client.post("/v1/login", data={**form, "next": elsewhere}, follow_redirects=False)
        assert r.headers["location"] == "/"


def test_wrong_password_and_unknown_user_answer_alike(client: TestClient) -> None:
    wrong = client.post("/v1/login", json={"username": "wang.li", "password": "not it at all"})
    unknown = client.post("/v1/login", json={"username": "nobody", "password": GOOD_PASSWORD})
    for r in (wrong, unknown):
        assert_problem(r, 401, WRONG_CREDENTIALS)
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "set-cookie" not in r.headers
    assert wrong.json() == unknown.json()


def test_a_disabled_account_cannot_sign_in(client: TestClient, store_url: str) -> None:
    csrf = login(client)
    with open_accounts(store_url, hasher=cheap_hasher(), create=True) as accounts:
        accounts.directory.disable("wang.li")
    # The open session ends at once.
    assert_problem(client.get("/v1/me"), 401, "session has ended")
    assert_problem(
        client.post("/v1/probe", headers={"X-CSRF-Token": csrf}), 401, "session has ended"
    )
    r = client.post("/v1/login", json={"username": "wang.li", "password": GOOD_PASSWORD})
    assert_problem(r, 401, "disabled")


@pytest.mark.parametrize(
    "body",
    [{"username": "wang.li"}, {"password": "x"}, [], "text", {"username": 1, "password": 2}],
)
def test_malformed_logins_are_invalid(client: TestClient, body: object) -> None:
    assert_problem(client.post("/v1/login", json=body), 422, "username")


def test_a_broken_json_body_is_invalid(client: TestClient) -> None:
    r = client.post("/v1/login", content=b"{", headers={"content-type": "application/json"})
    assert_problem(r, 422, "username")


def test_the_sixth_attempt_is_refused_with_retry_after(client: TestClient) -> None:
    for _ in range(5):
        r = client.post("/v1/login", json={"username": "wang.li", "password": "a wrong guess"})
        assert_problem(r, 401, WRONG_CREDENTIALS)
    r = client.post("/v1/login", json={"username": "wang.li", "password": GOOD_PASSWORD})
    body = assert_problem(r, 429, "too many failed sign-ins")
    assert 890 <= int(r.headers["retry-after"]) <= 900
    assert body["retry_after"] == int(r.headers["retry-after"])
    assert "set-cookie" not in r.headers
    # Other accounts are not locked.
    login(client, "zhao")


def test_logout_ends_the_session(client: TestClient) -> None:
    csrf = login(client)
    cookie = client.cookies["gongkai_session"]
    assert_problem(client.post("/v1/logout"), 403, "CSRF")
    r = client.post("/v1/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert 'gongkai_session=""' in r.headers["set-cookie"]
    assert_problem(client.get("/v1/me"), 401, "sign in")
    # The old cookie, kept by an attacker, is worth nothing.
    client.cookies.set("gongkai_session", cookie)
    assert_problem(client.get("/v1/me"), 401, "session has ended")


def test_signing_in_again_ends_the_previous_session(client: TestClient) -> None:
    login(client)
    first = client.cookies["gongkai_session"]
    login(client, "zhao")
    assert client.get("/v1/me").json()["account"]["username"] == "zhao"
    client.cookies.set("gongkai_session", first)
    assert_problem(client.get("/v1/me"), 401, "session has ended")


# --- CSRF ----------------------------------------------------------------------------------


def test_a_cookie_post_needs_the_csrf_token(client: TestClient) -> None:
    csrf = login(client)
    assert_problem(client.post("/v1/probe"), 403, "CSRF token")
    assert_problem(client.post("/v1/probe", headers={"X-CSRF-Token": "forged"}), 403, "CSRF")
    assert_problem(client.post("/v1/probe", headers={"X-CSRF-Token": ""}), 403, "CSRF")
    assert_problem(client.post("/v1/probe", data={"csrf_token": "forged"}), 403, "CSRF")
    ok = client.post("/v1/probe", headers={"X-CSRF-Token": csrf})
    assert ok.json() == {"actor": "wang.li", "via": "session"}
    assert client.post("/v1/probe", data={"csrf_token": csrf}).status_code == 200


def test_another_session_s_csrf_token_is_refused(client: TestClient, store_url: str) -> None:
    with TestClient(build_app(store_url), base_url="https://testserver") as other:
        other_csrf = login(other, "zhao")
    login(client)
    assert_problem(client.post("/v1/probe", headers={"X-CSRF-Token": other_csrf}), 403, "CSRF")


def test_anonymous_and_unknown_callers_are_asked_to_sign_in(client: TestClient) -> None:
    for r in (client.get("/v1/me"), client.post("/v1/probe"), client.get("/v1/tokens")):
        assert_problem(r, 401, "sign in")
        assert r.headers["www-authenticate"] == 'Bearer realm="gongkai"'
    client.cookies.set("gongkai_session", "made-up")
    assert_problem(client.get("/v1/me"), 401, "session has ended")


# --- bearer tokens -------------------------------------------------------------------------


def issue(client: TestClient, csrf: str, **body: Any) -> dict[str, Any]:
    r = client.post("/v1/tokens", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    issued: dict[str, Any] = r.json()
    return issued


def test_a_session_issues_lists_and_revokes_its_tokens(client: TestClient) -> None:
    csrf = login(client)
    issued = issue(client, csrf, days=7, label="backup")
    secret = issued["token"]
    assert secret.startswith("gk_")
    assert issued["label"] == "backup"
    listed = client.get("/v1/tokens").json()["tokens"]
    assert [t["id"] for t in listed] == [issued["id"]]
    assert secret not in client.get("/v1/tokens").text

    client.cookies.clear()
    me = client.get("/v1/me", headers=bearer(secret)).json()
    assert me == {"account": me["account"], "via": "token"}
    # A bearer token is never sent by a browser on its own: no CSRF token needed.
    assert client.post("/v1/probe", headers=bearer(secret)).json()["via"] == "token"

    r = client.delete(f"/v1/tokens/{issued['id']}", headers=bearer(secret))
    assert r.status_code == 204
    assert_problem(client.get("/v1/me", headers=bearer(secret)), 401, "revoked")


def test_tokens_cannot_issue_tokens(client: TestClient) -> None:
    secret = issue(client, login(client))["token"]
    client.cookies.clear()
    r = client.post("/v1/tokens", json={}, headers=bearer(secret))
    assert_problem(r, 403, "signed-in browser session")


def test_issuing_and_revoking_by_cookie_need_the_csrf_token(client: TestClient) -> None:
    csrf = login(client)
    assert_problem(client.post("/v1/tokens", json={}), 403, "CSRF")
    token_id = issue(client, csrf)["id"]
    assert_problem(client.delete(f"/v1/tokens/{token_id}"), 403, "CSRF")
    r = client.delete(f"/v1/tokens/{token_id}", headers={"X-CSRF-Token": "x" * 43})
    assert_problem(r, 403, "CSRF")
    assert not client.get("/v1/tokens").json()["tokens"][0]["revoked"]


@pytest.mark.parametrize("body", [{"days": 0}, {"days": 366}, {"label": "x" * 65}])
def test_token_requests_out_of_bounds_are_invalid(client: TestClient, body: object) -> None:
    r = client.post("/v1/tokens", json=body, headers={"X-CSRF-Token": login(client)})
    assert_problem(r, 422, "body")


def test_another_account_s_token_is_not_found(client: TestClient) -> None:
    token_id = issue(client, login(client))["id"]
    csrf = login(client, "zhao")
    r = client.delete(f"/v1/tokens/{token_id}", headers={"X-CSRF-Token": csrf})
    assert_problem(r, 404, "no token")


def test_an_expired_token_is_refused(client: TestClient, store_url: str) -> None:
    month_ago = FakeClock(START - 31 * 24 * 3600)
    with open_accounts(store_url, hasher=cheap_hasher(), clock=month_ago, create=True) as accounts:
        old = accounts.tokens.issue("jiwei", days=30).secret
    assert_problem(client.get("/v1/me", headers=bearer(old)), 401, "expired")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer gk_" + "A" * 43, "Bearer forged", "Bearer ", "Basic d2FuZzpwdw==", "gk_abc"],
)
def test_forged_or_malformed_credentials_are_refused(
    client: TestClient, authorization: str
) -> None:
    r = client.get("/v1/me", headers={"Authorization": authorization})
    assert_problem(r, 401, "")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_street_auditor_signs_in_without_a_community(client: TestClient) -> None:
    login(client, "jiwei")
    account = client.get("/v1/me").json()["account"]
    assert (account["role"], account["community"]) == ("disciplinary_auditor", None)
