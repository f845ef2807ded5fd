"""Accounts, passwords, bearer tokens, web sessions and the login throttle, on SQLite and
PostgreSQL: the happy paths, and above all every way a sign-in must fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from api.accounts import (
    Accounts,
    AuthenticationError,
    LoginPolicy,
    RateLimitedError,
    check_csrf,
    open_accounts,
    principal_of,
)
from api.accounts.model import (
    ACCOUNT_ROLES,
    check_community,
    check_password,
    check_role,
    check_username,
)
from api.accounts.service import WRONG_CREDENTIALS
from ledger.domain.vocabulary import Role
from ledger.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from tests.accounts_support import GOOD_PASSWORD, FakeClock, cheap_hasher

HERE = "10.0.0.1"
THERE = "10.0.0.2"
DAY = 24 * 3600


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def accounts(isolated_store_url: str, clock: FakeClock) -> Iterator[Accounts]:
    with open_accounts(isolated_store_url, hasher=cheap_hasher(), clock=clock, create=True) as a:
        yield a


@pytest.fixture
def wang(accounts: Accounts) -> str:
    accounts.directory.add(
        "wang.li", "clerk", community="tianhai", display_name="王丽", password=GOOD_PASSWORD
    )
    return "wang.li"


def stored(accounts: Accounts, statement: str) -> list[tuple[object, ...]]:
    with accounts.db.transaction() as tx:
        return tx.query(statement)


# --- the rules, without a database ------------------------------------------------------


@pytest.mark.parametrize("name", ["ab", "a" * 33, "Wang", "wang li", "王丽", "wang@x", ""])
def test_usernames_outside_the_pattern_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError, match="3-32 characters") as e:
        check_username(name)
    assert e.value.field == "username"


@pytest.mark.parametrize("name", ["abc", "wang.li", "li_2-x", "a" * 32])
def test_usernames_in_the_pattern_pass(name: str) -> None:
    assert check_username(name) == name


@pytest.mark.parametrize("role", ["system", "admin", "Clerk", ""])
def test_only_people_s_roles_hold_accounts(role: str) -> None:
    with pytest.raises(InvalidInputError, match="unknown role"):
        check_role(role)


def test_every_role_but_system_holds_accounts() -> None:
    assert set(ACCOUNT_ROLES) == set(Role) - {Role.SYSTEM}
    assert check_role("committee_chair") is Role.COMMITTEE_CHAIR


@pytest.mark.parametrize("role", [r for r in ACCOUNT_ROLES if r is not Role.DISCIPLINARY_AUDITOR])
def test_community_roles_need_a_community(role: Role) -> None:
    with pytest.raises(InvalidInputError, match="works in one community"):
        check_community(role, None)
    assert check_community(role, "tianhai") == "tianhai"


def test_the_street_auditor_belongs_to_no_community() -> None:
    assert check_community(Role.DISCIPLINARY_AUDITOR, None) is None
    with pytest.raises(InvalidInputError, match="every community of the street"):
        check_community(Role.DISCIPLINARY_AUDITOR, "tianhai")


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short1!", "at least 10"),
        ("", "at least 10"),
        ("x" * 257, "at most 256"),
        ("aaaaaaaaaaaa", "too easy"),
        ("abababababab", "too easy"),
        ("1234567890", "too easy"),
        ("PASSWORD123", "too easy"),
        ("my-wang.li-password", "too easy"),
    ],
)
def test_weak_passwords_are_refused(password: str, why: str) -> None:
    with pytest.raises(InvalidInputError, match=why):
        check_password(password, "wang.li")


def test_principal_reads_its_own_community_and_the_auditor_reads_all() -> None:
    clerk = principal_of(_account(Role.CLERK, "tianhai"), "token")
    auditor = principal_of(_account(Role.DISCIPLINARY_AUDITOR, None), "token")
    assert clerk.may_read("tianhai")
    assert not clerk.may_read("donghai")
    assert auditor.may_read("tianhai")
    assert auditor.may_read("donghai")
    assert clerk.actor().event_fields() == {"actor": "u1", "actor_role": "clerk"}


def _account(role: Role, community: str | None) -> object:
    from api.accounts import Account

    return Account("u1", "某某", role, community, False, "2025-01-01T00:00:00+00:00")


# --- accounts ------------------------------------------------------------------------------


def test_add_and_read_back(accounts: Accounts, wang: str) -> None:
    account = accounts.directory.get(wang)
    assert (account.username, account.display_name, account.role, account.community) == (
        "wang.li",
        "王丽",
        Role.CLERK,
        "tianhai",
    )
    assert not account.disabled
    assert account.created_at == "2025-06-15T15:06:40+00:00"
    auditor = accounts.directory.add("jiwei", "disciplinary_auditor", password=GOOD_PASSWORD)
    assert auditor.community is None
    assert auditor.display_name == "jiwei"
    assert [a.username for a in accounts.directory.all()] == ["jiwei", "wang.li"]


def test_passwords_are_stored_as_argon2id_only(accounts: Accounts, wang: str) -> None:
    [(password_hash,)] = stored(accounts, "SELECT password_hash FROM accounts")
    assert str(password_hash).startswith("$argon2id$")
    assert GOOD_PASSWORD not in str(password_hash)


def test_duplicate_usernames_are_refused(accounts: Accounts, wang: str) -> None:
    with pytest.raises(ConflictError, match=r"'wang\.li' is taken"):
        accounts.directory.add(wang, "resident", community="donghai", password="another one 123")
    assert accounts.directory.get(wang).role is Role.CLERK


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "WL", "role": "clerk", "community": "t"}, "3-32 characters"),
        ({"username": "wl1", "role": "system", "community": "t"}, "unknown role"),
        ({"username": "wl1", "role": "clerk"}, "works in one community"),
        ({"username": "wl1", "role": "resident", "community": ""}, "works in one community"),
        ({"username": "wl1", "role": "disciplinary_auditor", "community": "t"}, "the street"),
        ({"username": "wl1", "role": "clerk", "community": "t", "password": "short"}, "at least"),
        ({"username": "wl1", "role": "clerk", "community": "t", "display_name": "名" * 65}, "64"),
    ],
)
def test_bad_accounts_are_refused_and_nothing_is_stored(
    accounts: Accounts, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        accounts.directory.add(**{"password": GOOD_PASSWORD, **kwargs})  # type: ignore[arg-type]
    assert accounts.directory.all() == []


def test_unknown_accounts_are_not_found(accounts: Accounts) -> None:
    with pytest.raises(NotFoundError, match="no account 'nobody'"):
        accounts.directory.get("nobody")
    with pytest.raises(NotFoundError):
        accounts.directory.disable("nobody")
    with pytest.raises(NotFoundError):
        accounts.directory.set_password("nobody", GOOD_PASSWORD)


# --- signing in ----------------------------------------------------------------------------


def test_login_with_the_password(accounts: Accounts, wang: str) -> None:
    assert accounts.login("wang.li", GOOD_PASSWORD, HERE).username == "wang.li"
    assert accounts.login("  Wang.Li ", GOOD_PASSWORD, HERE).username == "wang.li"


def test_wrong_password_and_unknown_user_read_the_same(accounts: Accounts, wang: str) -> None:
    with pytest.raises(AuthenticationError) as wrong:
        accounts.login(wang, "not the password", HERE)
    with pytest.raises(AuthenticationError) as unknown:
        accounts.login("nobody", GOOD_PASSWORD, HERE)
    assert str(wrong.value) == str(unknown.value) == WRONG_CREDENTIALS
    with pytest.raises(AuthenticationError, match=WRONG_CREDENTIALS):
        accounts.login(wang, "x" * 10_000, HERE)
    with pytest.raises(AuthenticationError, match=WRONG_CREDENTIALS):
        accounts.login(wang, "", HERE)


def test_a_disabled_account_cannot_sign_in(accounts: Accounts, wang: str) -> None:
    assert accounts.directory.disable(wang).disabled
    with pytest.raises(AuthenticationError, match="disabled"):
        accounts.login(wang, GOOD_PASSWORD, HERE)
    # Without the password, a disabled account reads like any other failure.
    with pytest.raises(AuthenticationError, match=WRONG_CREDENTIALS):
        accounts.login(wang, "not the password", HERE)


def test_a_changed_password_replaces_the_old(accounts: Accounts, wang: str) -> None:
    accounts.directory.set_password(wang, "a brand new passphrase")
    with pytest.raises(AuthenticationError):
        accounts.login(wang, GOOD_PASSWORD, HERE)
    assert accounts.login(wang, "a brand new passphrase", HERE)
    with pytest.raises(InvalidInputError):
        accounts.directory.set_password(wang, "short")


def test_hashes_are_upgraded_when_the_parameters_change(
    isolated_store_url: str, accounts: Accounts, wang: str
) -> None:
    [(before,)] = stored(accounts, "SELECT password_hash FROM accounts")
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    with open_accounts(isolated_store_url, hasher=stronger, create=True) as upgraded:
        upgraded.login(wang, GOOD_PASSWORD, HERE)
        [(after,)] = stored(upgraded, "SELECT password_hash FROM accounts")
        assert after != before
        assert "m=16,t=2,p=1" in str(after)
        assert not stronger.check_needs_rehash(str(after))
        assert upgraded.login(wang, GOOD_PASSWORD, HERE)


# --- the login throttle --------------------------------------------------------------------


def fail(accounts: Accounts, username: str, client: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationError, match=WRONG_CREDENTIALS):
            accounts.login(username, "not the password", client)


def test_the_sixth_attempt_after_five_failures_is_refused(
    accounts: Accounts, wang: str, clock: FakeClock
) -> None:
    fail(accounts, wang, HERE, 5)
    clock.advance(60)
    # Even with the right password, and from another address: the username is locked.
    for client in (HERE, THERE):
        with pytest.raises(RateLimitedError, match="try again in 14 minutes") as e:
            accounts.login(wang, GOOD_PASSWORD, client)
        assert e.value.retry_after == 15 * 60 - 60
    clock.advance(15 * 60 - 60)
    assert accounts.login(wang, GOOD_PASSWORD, HERE)


def test_refused_attempts_do_not_extend_the_lock(
    accounts: Accounts, wang: str, clock: FakeClock
) -> None:
    fail(accounts, wang, HERE, 5)
    for _ in range(10):
        clock.advance(60)
        with pytest.raises(RateLimitedError):
            accounts.login(wang, GOOD_PASSWORD, HERE)
    clock.advance(5 * 60 + 1)
    assert accounts.login(wang, GOOD_PASSWORD, HERE)


def test_unknown_usernames_are_throttled_too(accounts: Accounts) -> None:
    fail(accounts, "nobody", HERE, 5)
    with pytest.raises(RateLimitedError):
        accounts.login("nobody", GOOD_PASSWORD, HERE)


def test_the_window_slides(accounts: Accounts, wang: str, clock: FakeClock) -> None:
    fail(accounts, wang, HERE, 4)
    clock.advance(15 * 60)
    fail(accounts, wang, HERE, 4)  # the first four have aged out
    clock.advance(1)
    fail(accounts, wang, HERE, 1)
    with pytest.raises(RateLimitedError) as e:
        accounts.login(wang, GOOD_PASSWORD, HERE)
    assert e.value.retry_after == 15 * 60 - 1


def test_one_address_guessing_many_usernames_is_refused(
    isolated_store_url: str, clock: FakeClock
) -> None:
    policy = LoginPolicy(per_username=5, per_client=8)
    with open_accounts(
        isolated_store_url, hasher=cheap_hasher(), clock=clock, policy=policy, create=True
    ) as a:
        for n in range(8):
            fail(a, f"user{n}", HERE)
        with pytest.raises(RateLimitedError):
            a.login("user9", "not the password", HERE)
        fail(a, "user9", THERE)  # another address is not affected


def test_a_success_forgives_only_its_own_username(
    isolated_store_url: str, clock: FakeClock
) -> None:
    policy = LoginPolicy(per_username=5, per_client=5)
    with open_accounts(
        isolated_store_url, hasher=cheap_hasher(), clock=clock, policy=policy, create=True
    ) as a:
        a.directory.add("wang.li", "clerk", community="t", password=GOOD_PASSWORD)
        fail(a, "wang.li", HERE, 2)
        fail(a, "zhao", HERE, 2)
        assert a.login("wang.li", GOOD_PASSWORD, HERE)
        # zhao's two failures from HERE still count: three more and HERE is locked.
        fail(a, "qian", HERE, 3)
        with pytest.raises(RateLimitedError):
            a.login("wang.li", GOOD_PASSWORD, HERE)


def test_failures_are_shared_between_processes(
    isolated_store_url: str, accounts: Accounts, wang: str, clock: FakeClock
) -> None:
    with open_accounts(
        isolated_store_url, hasher=cheap_hasher(), clock=clock, create=True
    ) as other:
        fail(accounts, wang, HERE, 3)
        fail(other, wang, THERE, 2)
        for a in (accounts, other):
            with pytest.raises(RateLimitedError):
                a.login(wang, GOOD_PASSWORD, HERE)


# --- bearer tokens -------------------------------------------------------------------------


def test_a_token_stands_for_its_account(accounts: Accounts, wang: str) -> None:
    issued = accounts.tokens.issue(wang, days=7, label="backup script")
    assert issued.secret.startswith("gk_")
    assert len(issued.secret) > 40
    who = accounts.tokens.principal(issued.secret)
    assert (who.username, who.role, who.community, who.via) == (
        wang,
        Role.CLERK,
        "tianhai",
        "token",
    )
    [listed] = accounts.tokens.of(wang)
    assert listed == issued.info
    assert listed.label == "backup script"
    assert listed.expires_at == "2025-06-22T15:06:40+00:00"
    assert issued.secret not in repr(accounts.tokens.of(wang))


def test_tokens_are_stored_only_as_digests(accounts: Accounts, wang: str) -> None:
    issued = accounts.tokens.issue(wang)
    rows = stored(accounts, "SELECT * FROM bearer_tokens")
    assert issued.secret not in repr(rows)
    assert issued.secret.removeprefix("gk_") not in repr(rows)


def test_an_expired_token_is_refused(accounts: Accounts, wang: str, clock: FakeClock) -> None:
    issued = accounts.tokens.issue(wang)  # 30 days by default
    clock.advance(30 * DAY - 1)
    assert accounts.tokens.principal(issued.secret)
    clock.advance(1)
    with pytest.raises(AuthenticationError, match="has expired"):
        accounts.tokens.principal(issued.secret)


def test_a_revoked_token_is_refused(accounts: Accounts, wang: str) -> None:
    issued = accounts.tokens.issue(wang)
    kept = accounts.tokens.issue(wang)
    accounts.tokens.revoke(wang, issued.info.id)
    accounts.tokens.revoke(wang, issued.info.id)  # again: nothing changes
    with pytest.raises(AuthenticationError, match="was revoked"):
        accounts.tokens.principal(issued.secret)
    assert accounts.tokens.principal(kept.secret)
    assert {t.id: t.revoked for t in accounts.tokens.of(wang)} == {
        issued.info.id: True,
        kept.info.id: False,
    }


@pytest.mark.parametrize("forged", ["gk_" + "A" * 43, "A" * 46, "", "gk_", "Bearer gk_x"])
def test_a_forged_token_is_refused(accounts: Accounts, wang: str, forged: str) -> None:
    accounts.tokens.issue(wang)
    with pytest.raises(AuthenticationError, match="not valid"):
        accounts.tokens.principal(forged)


def test_a_disabled_account_s_tokens_are_revoked(accounts: Accounts, wang: str) -> None:
    issued = accounts.tokens.issue(wang)
    accounts.directory.disable(wang)
    with pytest.raises(AuthenticationError, match="revoked"):
        accounts.tokens.principal(issued.secret)
    with pytest.raises(InvalidInputError, match="disabled"):
        accounts.tokens.issue(wang)


def test_another_account_s_token_cannot_be_revoked(accounts: Accounts, wang: str) -> None:
    accounts.directory.add("zhao", "resident", community="tianhai", password=GOOD_PASSWORD)
    issued = accounts.tokens.issue(wang)
    with pytest.raises(NotFoundError, match="no token"):
        accounts.tokens.revoke("zhao", issued.info.id)
    with pytest.raises(NotFoundError, match="no token"):
        accounts.tokens.revoke(wang, "0000000000000000")
    assert accounts.tokens.principal(issued.secret)


@pytest.mark.parametrize("days", [0, -1, 366, 10_000])
def test_token_lifetimes_are_bounded(accounts: Accounts, wang: str, days: int) -> None:
    with pytest.raises(InvalidInputError, match="1 to 365 days"):
        accounts.tokens.issue(wang, days=days)


def test_tokens_for_unknown_accounts_are_refused(accounts: Accounts) -> None:
    with pytest.raises(NotFoundError):
        accounts.tokens.issue("nobody")


# --- web sessions --------------------------------------------------------------------------


def open_session(accounts: Accounts, username: str) -> tuple[str, str]:
    account = accounts.login(username, GOOD_PASSWORD, HERE)
    opened = accounts.sessions.open(principal_of(account, "session"))
    return opened.session_id, opened.session.csrf_token


def test_a_session_stands_for_its_account(accounts: Accounts, wang: str) -> None:
    session_id, csrf = open_session(accounts, wang)
    session = accounts.sessions.resolve(session_id)
    assert session.principal.username == wang
    assert session.principal.via == "session"
    assert session.csrf_token == csrf
    assert session_id not in repr(stored(accounts, "SELECT * FROM web_sessions"))
    other_id, other_csrf = open_session(accounts, wang)
    assert (other_id, other_csrf) != (session_id, csrf)


def test_sessions_slide_then_expire(accounts: Accounts, wang: str, clock: FakeClock) -> None:
    session_id, _ = open_session(accounts, wang)
    for _ in range(3):
        clock.advance(11 * 3600)
        accounts.sessions.resolve(session_id)
    clock.advance(12 * 3600)
    with pytest.raises(AuthenticationError, match="session has ended"):
        accounts.sessions.resolve(session_id)
    with pytest.raises(AuthenticationError, match="session has ended"):
        accounts.sessions.resolve(session_id)


def test_sessions_end_after_a_week_however_busy(
    accounts: Accounts, wang: str, clock: FakeClock
) -> None:
    session_id, _ = open_session(accounts, wang)
    for _ in range(7 * 24 - 1):
        clock.advance(3600)
        accounts.sessions.resolve(session_id)
    clock.advance(3600)
    with pytest.raises(AuthenticationError):
        accounts.sessions.resolve(session_id)


def test_closed_sessions_and_unknown_ids_are_refused(accounts: Accounts, wang: str) -> None:
    session_id, _ = open_session(accounts, wang)
    accounts.sessions.close(session_id)
    for sid in (session_id, "made-up", ""):
        with pytest.raises(AuthenticationError, match="sign in again"):
            accounts.sessions.resolve(sid)


def test_disabling_an_account_ends_its_sessions(accounts: Accounts, wang: str) -> None:
    session_id, _ = open_session(accounts, wang)
    accounts.directory.disable(wang)
    with pytest.raises(AuthenticationError):
        accounts.sessions.resolve(session_id)


def test_the_csrf_token_must_match_its_session(accounts: Accounts, wang: str) -> None:
    session_id, csrf = open_session(accounts, wang)
    _, other_csrf = open_session(accounts, wang)
    session = accounts.sessions.resolve(session_id)
    check_csrf(session, csrf)
    for wrong in (None, "", other_csrf, csrf[:-1], csrf + "x"):
        with pytest.raises(PermissionDeniedError, match="CSRF token"):
            check_csrf(session, wrong)
