"""The console's pages of closing the books and of the review gates, as a browser without
script uses them: the clerk closes the last quarter that ended (the demo closed its
months), a committee member signs its statement off with an opinion, the clerk drafts
the statement and lands on its review page; the committee's chair turns a gate off with
a reason. Each page offers only the forms of the reader's role, a post by another role
is refused, and every refusal of the ledger is said on a page, with the record left as
it was."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.service.app import create_app
from api.service.settings import Settings
from ledger.domain.working_days import china_date
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store
from tests.api.test_console import ACCOUNTS, Console

PERIODS = "/console/c/tianhai/finance/periods"
GATES = "/console/c/tianhai/settings/gates"
POST_FORM = '<form method="post"'
REPORTS = "/c/tianhai/reports"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    directory = tmp_path_factory.mktemp("periods-console")
    url = demo_store(directory)
    catch_up(url)
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for name, (role, community) in ACCOUNTS.items():
            accounts.directory.add(name, role, community=community, password=GOOD_PASSWORD)
    settings = Settings(db_url=url, checkpoint_interval=0)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield Console(url, client)


def months_ago(n: int) -> str:
    """The month ``n`` months before this one (China date), YYYY-MM."""
    today = china_date()
    index = today.year * 12 + today.month - 1 - n
    return f"{index // 12}-{index % 12 + 1:02d}"


def quarters_ago(n: int) -> str:
    """The quarter ``n`` quarters before this one (China date), YYYYQn. The demo closes
    its months, never a quarter: each quarter that has ended is still open."""
    today = china_date()
    index = today.year * 4 + (today.month - 1) // 3 - n
    return f"{index // 4}Q{index % 4 + 1}"


def article(page: str, period: str) -> str:
    """The part of the periods page about ``period``."""
    found = re.search(rf'<article aria-labelledby="p-{period}".*?</article>', page, re.S)
    assert found is not None, period
    return html.unescape(found[0])


def state(page: str, period: str) -> str:
    found = re.search(r'data-state="(\w+)"', article(page, period))
    assert found is not None
    return found[1]


def csrf(console: Console) -> str:
    """The signed-in session's CSRF token, from a page every reader has a form on."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', console.client.get(REPORTS).text)
    assert found is not None
    return found[1]


def hidden(console: Console) -> dict[str, str]:
    """What a form of the console sends first: the token and a key of its own."""
    return {"csrf_token": csrf(console), "idempotency_key": str(uuid.uuid4())}


def test_the_clerk_closes_a_member_signs_off_and_the_clerk_drafts_the_statement(
    console: Console,
) -> None:
    month = quarters_ago(1)
    console.sign_in("clerk")
    assert 'href="/console/c/tianhai/finance/periods"' in console.client.get("/console").text
    assert f'href="{PERIODS}"' in console.client.get("/console/c/tianhai/finance").text
    page = console.client.get(PERIODS).text
    assert state(page, month) == "open"
    assert f"{PERIODS}/{month}/close" in page
    # This month has not ended: no close, and the page says when it may be.
    this_month = article(page, months_ago(0))
    assert "/close" not in this_month
    assert "本期结束后才能结账。" in this_month
    assert "/sign-off" not in page, "the clerk signs nothing off"

    closed = console.post(f"{PERIODS}/{month}/close", hidden(console))
    assert closed.status_code == 303, closed.text
    assert closed.headers["location"].startswith(f"{PERIODS}?seen=")
    console.settle()
    shown = article(console.client.get(closed.headers["location"]).text, month)
    assert 'data-state="closed"' in shown
    assert re.search(r"clerk 于 .* 结账，截至第 \d+ 条记录，共 \d+ 笔", shown), shown
    assert "收入合计" in shown
    assert "元" in shown
    assert "/statement" not in shown, "no statement before the sign-off"

    # Drafted before the sign-off, closed twice: said why, nothing recorded.
    before = console.head()
    early = console.post(f"{PERIODS}/{month}/statement", hidden(console))
    assert early.status_code == 422
    assert 'role="alert"' in early.text
    assert "民主理财" in html.unescape(early.text)
    again = console.post(f"{PERIODS}/{month}/close", hidden(console))
    assert again.status_code == 422
    assert "already closed" in again.text
    assert console.head() == before

    console.sign_in("member")
    page = console.client.get(PERIODS).text
    assert "/close" not in page, "a member closes nothing"
    assert f"{PERIODS}/{month}/sign-off" in article(page, month)
    refused = console.post(f"{PERIODS}/{month}/statement", hidden(console))
    assert refused.status_code == 403
    signed = console.post(
        f"{PERIODS}/{month}/sign-off", {**hidden(console), "opinion": "账实相符，同意公开"}
    )
    assert signed.status_code == 303, signed.text
    console.settle()
    shown = article(console.client.get(signed.headers["location"]).text, month)
    assert 'data-state="signed_off"' in shown
    assert "民主理财小组 member 于" in shown
    assert "账实相符，同意公开" in shown
    assert "/sign-off" not in shown

    console.sign_in("clerk")
    drafted = console.post(f"{PERIODS}/{month}/statement", hidden(console))
    assert drafted.status_code == 303, drafted.text
    item, _, query = drafted.headers["location"].partition("?")
    assert item.startswith("/console/c/tianhai/items/")
    assert query.startswith("seen=")
    console.settle()
    review = console.client.get(drafted.headers["location"])
    assert review.status_code == 200
    assert "社区财务收支明细" in html.unescape(review.text)
    shown = article(console.client.get(PERIODS).text, month)
    assert 'data-state="drafted"' in shown
    assert f'href="{item}"' in shown


def test_the_ledgers_refusals_are_said_on_a_page(console: Console) -> None:
    console.sign_in("clerk")
    before = console.head()
    running = console.post(f"{PERIODS}/{months_ago(0)}/close", hidden(console))
    assert running.status_code == 422
    assert "has not ended yet" in running.text
    assert f'href="{PERIODS}"' in running.text, "it leads back"
    nonsense = console.post(f"{PERIODS}/2026-13/close", hidden(console))
    assert nonsense.status_code == 422
    assert "a month (YYYY-MM) or a quarter (YYYYQn)" in html.unescape(nonsense.text), nonsense.text
    console.sign_in("chair")
    unclosed = console.post(f"{PERIODS}/{quarters_ago(2)}/sign-off", hidden(console))
    assert unclosed.status_code == 422
    assert "is not closed: the clerk closes it first" in unclosed.text
    assert console.head() == before


@pytest.mark.parametrize("who", ["resident", "party", "auditor"])
def test_a_role_that_does_not_act_reads_the_periods_without_a_form(
    console: Console, who: str
) -> None:
    console.sign_in(who)
    page = console.client.get(PERIODS)
    assert page.status_code == 200
    assert 'data-period="' in page.text
    assert POST_FORM not in page.text
    if who == "auditor":
        return  # the street's auditor acts in no community's console: a post is not found
    before = console.head()
    token = {"csrf_token": csrf(console)}
    for act in ("close", "sign-off", "statement"):
        response = console.post(
            f"{PERIODS}/{months_ago(2)}/{act}", {**token, "idempotency_key": f"{who}-{act}"}
        )
        assert response.status_code == 403, (act, response.text)
    assert console.head() == before


def test_another_communitys_clerk_is_refused_the_periods(console: Console) -> None:
    console.sign_in("other-clerk")
    assert console.client.get(PERIODS).status_code == 403
    assert console.client.get(GATES).status_code == 404


def test_the_gates_in_force_are_the_seeds_and_only_the_chair_may_change_them(
    console: Console,
) -> None:
    console.sign_in("member")
    assert f'href="{GATES}"' in console.client.get("/console").text
    page = html.unescape(console.client.get(GATES).text)
    assert 'data-gates="seeds"' in page
    assert len(re.findall(r'data-on="yes"', page)) == 4
    assert "本社区从未更改把关，执行种子规则。" in page
    assert "关闭后，监督委员会审核通过即可公开，不再经党支部审查。" in page
    assert POST_FORM not in page
    before = console.head()
    token = {"csrf_token": csrf(console)}
    refused = console.post(GATES, {**token, "idempotency_key": "m1", "reason": "试一试"})
    assert refused.status_code == 403
    assert console.head() == before


def test_the_chair_turns_a_gate_off_with_a_reason(console: Console) -> None:
    console.sign_in("chair")
    page = console.client.get(GATES).text
    assert POST_FORM in page
    assert len(re.findall(r'type="checkbox" name="\w+" value="on" checked', page)) == 4
    gates = {"confidentiality_unless_public": "on", "distinct_signers": "on", "scope_floor": "on"}
    before = console.head()
    no_reason = console.post(GATES, {**hidden(console), **gates, "reason": ""})
    assert no_reason.status_code == 422
    assert 'role="alert"' in no_reason.text
    assert console.head() == before

    reason = "党支部书记长期外出培训，经居民代表会议同意暂由监委会审核后公开"
    chosen = console.post(GATES, {**hidden(console), **gates, "reason": reason})
    assert chosen.status_code == 303, chosen.text
    assert chosen.headers["location"] == GATES
    page = html.unescape(console.client.get(GATES).text)
    assert 'data-gates="relaxed"' in page
    assert 'data-gate="party_review" data-on="no"' in page
    assert f"理由：{reason}" in page
    who_when = r"chair（居务监督委员会主任）于 \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+8\) 设置"
    assert re.search(who_when, page), page
    # The same choice again changes nothing: said so, nothing recorded.
    after = console.head()
    unchanged = console.post(GATES, {**hidden(console), **gates, "reason": "照旧"})
    assert unchanged.status_code == 422
    assert "these are the gates already in force" in unchanged.text
    assert console.head() == after
    assert console.client.get("/v1/communities/tianhai/settings/gates").json()["gates"] == {
        "party_review": False,
        "confidentiality_unless_public": True,
        "distinct_signers": True,
        "scope_floor": True,
    }


def test_the_pages_speak_english(console: Console) -> None:
    console.sign_in("chair")
    periods = console.client.get(PERIODS, params={"lang": "en"}).text
    assert "Closing the books and sign-off" in periods
    gates = html.unescape(console.client.get(GATES, params={"lang": "en"}).text)
    assert "Turning it off means" in gates
