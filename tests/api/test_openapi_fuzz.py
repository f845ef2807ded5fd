"""The service fuzzed from its own OpenAPI schema: whatever a client sends, no answer is a
5xx, and every 4xx is a problem+json document (RFC 9457). Anonymously, with every path
parameter fuzzed; and as a clerk of ``tianhai`` with the community held fixed, so that
requests get past the community check into the signed-in code paths. Then one focused
test per bug the fuzzing found."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.params import MAX_SEQ
from api.service.settings import Settings
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store

PROBLEM = "application/problem+json"
CLERK = "clerk.tianhai"


def schema_of_the_app(**config: Any) -> schemathesis.BaseSchema:
    """The service's OpenAPI document, which does not depend on the settings: no database
    is opened to produce it. Loaded when the module is collected, because schemathesis
    makes its tests, one per operation, then (its loader from a fixture fails on pytest 9,
    which dropped the ``Node._nodeid`` it sets); the requests go to the fixture's app."""
    app = create_app(Settings(db_url="sqlite:///openapi-only.sqlite3", checkpoint_interval=0))
    return schemathesis.openapi.from_dict(
        app.openapi(), config=schemathesis.Config.from_dict({"seed": 2026, **config})
    )


ANONYMOUS = schema_of_the_app()
AS_CLERK = schema_of_the_app(parameters={"path.community_id": "tianhai"})

# Few examples per operation (two runs over ~35 operations, with schemathesis's own
# boundary cases on top), derandomized so that CI sees the same requests every time.
FUZZ = settings(
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Service:
    settings: Settings
    clerk_token: str

    @property
    def clerk(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.clerk_token}"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Service:
    """The demo community, projected, and a clerk of it with a bearer token."""
    directory = tmp_path_factory.mktemp("fuzz")
    url = demo_store(directory, second_community=False)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        accounts.directory.add(CLERK, "clerk", community="tianhai", password=GOOD_PASSWORD)
        token = accounts.tokens.issue(CLERK).secret
    settings = Settings(db_url=url, checkpoint_interval=0, keys_dir=directory / "keys")
    return Service(settings, token)


@pytest.fixture(scope="module")
def fuzzed_app(service: Service) -> FastAPI:
    # schemathesis runs the app's lifespan around each test itself.
    return create_app(service.settings)


def assert_problem_or_success(status: int, content_type: str | None, content: bytes) -> None:
    """No 5xx; a 4xx is a problem document whose status is the response's."""
    assert status < 500, content[:500]
    if 400 <= status < 500:
        assert content_type == PROBLEM, (status, content_type, content[:500])
        problem = json.loads(content)
        assert {"type", "title", "status"} <= problem.keys(), problem
        assert problem["status"] == status, problem


def call(case: Case[Any], app: FastAPI, headers: dict[str, str] | None = None) -> None:
    response = case.call(app=app, headers=headers)
    content_type = response.headers.get("content-type", [None])[0]
    try:
        assert_problem_or_success(response.status_code, content_type, response.content)
    except AssertionError as e:
        raise AssertionError(f"{case.as_curl_command()}\n{e}") from None


@ANONYMOUS.parametrize()
@FUZZ
def test_anonymous_requests_get_no_5xx_and_problem_4xx(
    case: Case[Any], fuzzed_app: FastAPI
) -> None:
    call(case, fuzzed_app)


@AS_CLERK.parametrize()
@FUZZ
def test_a_clerks_requests_get_no_5xx_and_problem_4xx(
    case: Case[Any], fuzzed_app: FastAPI, service: Service
) -> None:
    call(case, fuzzed_app, service.clerk)


# --- regressions: what the fuzzing found ---------------------------------------------------


@pytest.fixture(scope="module")
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service.settings), headers=service.clerk) as c:
        yield c


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert_problem_or_success(status, response.headers.get("content-type"), response.content)
    problem: dict[str, Any] = response.json()
    return problem


T = "/v1/communities/tianhai"
PAST = MAX_SEQ + 1


@pytest.mark.parametrize(
    "path",
    [
        f"{T}/disclosures/3f0c2a52-1d3c-4a4e-9a55-0c1e2b7f4d10/history?as_of={PAST}",
        f"{T}/finance/entries?as_of={PAST}",
        f"{T}/finance/totals?as_of={PAST}",
        f"{T}/audit-trail?as_of={PAST}",
        f"{T}/events?after={PAST}",
        f"{T}/checkpoints?below={PAST}",
        f"{T}/checkpoints/{PAST}",
        f"{T}/checkpoints/{-PAST - 1}",
        f"{T}/proof/inclusion?seq={PAST}",
        f"{T}/proof/inclusion?seq=1&tree_size={PAST}",
        f"{T}/proof/consistency?from=0&to={PAST}",
        f"{T}/proof/consistency?from={PAST}&to=1",
    ],
)
def test_an_entry_number_past_the_stores_integers_is_invalid(
    client: TestClient, path: str
) -> None:
    """Entry numbers and tree sizes are signed 64-bit integers in both stores; a larger
    one used to reach SQLite, whose driver raised OverflowError (a 500)."""
    assert_problem(client.get(path), 422)


def test_the_largest_entry_number_is_still_a_valid_request(client: TestClient) -> None:
    events = client.get(f"{T}/events", params={"after": MAX_SEQ})
    assert events.status_code == 200, events.text
    assert events.json()["events"] == []
    assert_problem(client.get(f"{T}/checkpoints/{MAX_SEQ}"), 404)


def test_a_cosignature_for_a_size_past_the_stores_integers_is_invalid(
    client: TestClient,
) -> None:
    response = client.post(f"{T}/checkpoints/{PAST}/cosignatures", content=b"- x\n")
    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("tile", "status"),
    [
        # Well formed, but the first leaf would be entry 2**63: no store holds that.
        ("0/x036/x028/x797/x018/x963/968", 404),
        ("entries/x999/x999/x999/x999/x999/x999/999", 404),
        # More elements than a uint64 index has (the digits once overflowed int()).
        ("0/" + "x999/" * 7 + "000", 422),
        ("0/" + "x999/" * 2000 + "000", 422),
    ],
)
def test_a_tile_index_past_any_tree_is_a_problem(
    client: TestClient, tile: str, status: int
) -> None:
    assert_problem(client.get(f"{T}/tile/{tile}"), status)


@pytest.mark.parametrize("period", ["0000-00", "2026-13", "2026-00"])
def test_a_month_that_is_not_one_is_invalid(client: TestClient, period: str) -> None:
    """The route's pattern once let months the finance read model refuses (with a bare
    ValueError, a 500) through."""
    for bound in ("from", "to"):
        problem = assert_problem(client.get(f"{T}/finance/entries", params={bound: period}), 422)
        assert bound in problem["detail"]


def test_a_sign_in_nested_too_deep_is_invalid(client: TestClient) -> None:
    """json.loads raises RecursionError, not ValueError, past its nesting limit."""
    response = client.post(
        "/v1/login", content=b"[" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert "username" in assert_problem(response, 422)["detail"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("PUT", f"{T}/board", "GET"), ("DELETE", "/v1/login", "POST"), ("PATCH", "/healthz", "GET")],
)
def test_a_method_not_allowed_is_a_problem_that_says_which_are(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    """RFC 9110: a 405 carries Allow. The problem+json handler used to drop the framework's
    headers."""
    response = client.request(method, path)
    assert_problem(response, 405)
    assert response.headers["allow"] == allowed


@pytest.mark.parametrize(
    ("months", "status"),
    [
        ({"to": "2100-12"}, 200),
        ({"to": "9999-12"}, 422),
        ({"from": "0000-01", "to": "0000-01"}, 422),
    ],
    ids=str,
)
def test_a_finance_package_at_the_calendars_ends_is_not_a_server_error(
    client: TestClient, months: dict[str, str], status: int
) -> None:
    """A finance period's year is 2000 to 2100: the last month of that range has an end,
    and a month past it (or year 0000) is refused, never a server error."""
    response = client.get(f"{T}/finance/package", params=months)
    assert response.status_code == status, response.text
    assert_problem_or_success(
        response.status_code, response.headers.get("content-type"), response.content
    )


def test_the_board_refuses_an_entry_number_past_the_stores_integers(
    client: TestClient,
) -> None:
    assert_problem(client.get(f"{T}/board", params={"as_of": PAST}), 422)
