"""Democratic evaluation in the console, as a browser without script uses it: the street
opens a round, issues its codes on a page of slips to print, shown once (a replay of
the form shows none); a resident casts a ballot with a code and the street enters a
paper form with another; voting closes, the tally is published, and the portal's results
page shows it to everyone, per person and dimension, with the recount command. Each
page offers only the forms of the reader's role."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.routes.evaluations import recount_command
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.clock import held_at
from ledger.domain.evaluation import evaluation_id
from ledger.domain.vocabulary import Role
from ledger.domain.working_days import china_date
from ledger.store import open_store
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import demo_store
from tests.api.test_console import ACCOUNTS, Console
from tests.api.test_evaluation_routes import CHINA, DIMENSIONS, this_round

PAGE = "/console/c/tianhai/evaluations"
REPORTS = "/c/tianhai/reports"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    url = demo_store(tmp_path_factory.mktemp("evaluation-console"))
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for name, (role, community) in ACCOUNTS.items():
            accounts.directory.add(name, role, community=community, password=GOOD_PASSWORD)
    settings = Settings(db_url=url, checkpoint_interval=0, worker=False)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield Console(url, client)


def hidden(console: Console) -> dict[str, str]:
    found = re.search(r'name="csrf_token" value="([^"]+)"', console.client.get(REPORTS).text)
    assert found is not None
    return {"csrf_token": found[1], "idempotency_key": str(uuid.uuid4())}


def ballot(console: Console, code: str, grade: str) -> dict[str, str]:
    marks = {f"grade-{n}-{d}": grade for n in range(2) for d in DIMENSIONS}
    return {**hidden(console), "code": code, **marks}


def test_the_street_holds_a_round_and_the_portal_shows_its_results(console: Console) -> None:
    year, month = this_round()
    evaluation = str(evaluation_id("tianhai", year, month))
    act = f"{PAGE}/{evaluation}"

    console.sign_in("resident")
    assert "启动评议</button>" not in console.client.get(PAGE).text, "a resident opens none"
    console.sign_in("auditor")
    page = console.client.get(PAGE).text
    assert "暂无评议。" in page
    people = "张秀英，居委会主任，选举\n刘芳, 社区专职工作者, 招聘\n"
    opening = {**hidden(console), "year": str(year), "month": str(month), "evaluated": people}
    opened = console.post(PAGE, opening)
    assert opened.status_code == 303, opened.text
    page = html.unescape(console.client.get(PAGE).text)
    assert f'data-evaluation="{evaluation}" data-state="opened"' in page
    assert "招聘的专职工作者" in page
    bad = console.post(PAGE, {**hidden(console), "year": str(year), "month": "7",
                              "evaluated": "张秀英，居委会主任"})  # fmt: skip
    assert bad.status_code == 422
    assert "name, post and tenure" in bad.text

    console.sign_in("clerk")
    page = console.client.get(PAGE).text
    assert f'action="{act}/reports"' in page
    assert f'action="{act}/codes"' not in page, "the clerk issues no codes"
    report = ("report.pdf", b"%PDF-1.4\n% written report\n", "application/pdf")
    recorded = console.post(f"{act}/reports", {**hidden(console), "person": "张秀英"},
                            files={"report": report})  # fmt: skip
    assert recorded.status_code == 303, recorded.text
    page = console.client.get(PAGE).text
    assert hashlib.sha256(report[1]).hexdigest()[:16] in page
    assert '<option value="张秀英">' not in page, "recorded once"

    console.sign_in("auditor")
    form = hidden(console)
    issued = console.post(f"{act}/codes", {**form, "count": "3"})
    assert issued.status_code == 200, issued.text
    assert issued.headers["Cache-Control"] == "no-store"
    shown = html.unescape(issued.text)
    codes = re.findall(r'<p class="code">([0-9A-Z-]+)</p>', shown)
    assert len(set(codes)) == 3
    assert shown.count(f"天海社区{year}年{month}月民主评议") == 4, "the title and each slip's"
    assert "只显示这一次" in shown
    replay = console.post(f"{act}/codes", {**form, "count": "3"})
    assert replay.status_code == 200
    assert '<p class="code">' not in replay.text
    assert "已经显示过一次" in html.unescape(replay.text)

    if (china_date().year, china_date().month) == (year, month):
        assert console.post(f"{act}/voting-open", hidden(console)).status_code == 303
    else:
        held = held_at(dt.datetime(year, month, 10, 9, tzinfo=CHINA))
        with open_store(console.url) as store, Ledger(store) as whole, held:
            whole.community("tianhai").open_voting(
                Actor("街道纪工委孙强", Role.DISCIPLINARY_AUDITOR), "open", evaluation
            )

    console.sign_in("resident")
    page = console.client.get(PAGE).text
    assert f'action="{act}/ballots"' in page
    assert "/voting-close" not in page, "a resident closes nothing"
    cast = console.post(f"{act}/ballots", ballot(console, codes[0], "excellent"))
    assert cast.status_code == 303, cast.text
    assert "seen=" not in cast.headers["location"]
    assert "选票已收到。" in console.client.get(cast.headers["location"]).text
    twice = console.post(f"{act}/ballots", ballot(console, codes[0], "competent"))
    assert twice.status_code == 422
    assert "already cast" in twice.text
    assert console.post(f"{act}/codes", {**hidden(console), "count": "1"}).status_code == 403

    console.sign_in("auditor")
    paper = console.post(f"{act}/ballots", ballot(console, codes[1], "competent"))
    assert paper.status_code == 303, "the street enters a paper form"
    assert console.post(f"{act}/voting-close", hidden(console)).status_code == 303
    assert console.post(f"{act}/tally", hidden(console)).status_code == 303
    page = console.client.get(PAGE).text
    assert f'href="/c/tianhai/evaluations/{evaluation}"' in page
    followed = console.post(f"{act}/consequences", {**hidden(console), "note": "街道通报表彰"})
    assert followed.status_code == 303, followed.text

    console.client.cookies.clear()
    results = console.client.get(f"/c/tianhai/evaluations/{evaluation}")
    assert results.status_code == 200, "public once published"
    text = html.unescape(results.text)
    assert "共发放测评票 3 张，收回有效选票 2 张。" in text
    assert recount_command("tianhai", evaluation) in text
    person = re.search(r'data-person="张秀英">.*?</section>', text, re.S)
    assert person is not None
    assert 'data-overall="excellent"' not in person[0], "one excellent, one competent"
    assert 'data-overall="competent"' in person[0]
    assert '<th scope="row">廉</th><td>1</td><td>1</td><td>0</td><td>0</td>' in person[0]
    assert "结果运用说明：街道通报表彰" in text, "competent, both: no one commended"
    english = console.client.get(f"/c/tianhai/evaluations/{evaluation}?lang=en").text
    assert "Recount it yourself" in english
