"""Democratic evaluation (民主评议) over HTTP on the demo community: the street opens a
round and issues its codes (answered once, never again); ballots are cast by a
representative, a resident and the street entering a paper form; the tally is published
and the round becomes public, with each person's grade and what follows. Refusals are
problem+json with nothing stored; a ballot cast over HTTP leaves neither the voter's
account nor their token nor their code anywhere in the store."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.accounts import open_accounts
from api.routes.evaluations import recount_command
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.application.evaluations import normal_code
from ledger.domain.base import Actor
from ledger.domain.clock import held_at
from ledger.domain.evaluation import ROUNDS, Evaluation
from ledger.domain.vocabulary import Role
from ledger.domain.working_days import china_date
from ledger.store import open_store
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher
from tests.api.demo_service import catch_up, demo_store, reader_tokens
from tests.rawdb import raw_table

T = "/v1/communities/tianhai"
PROBLEM = "application/problem+json"
CHINA = dt.timezone(dt.timedelta(hours=8))
DIMENSIONS = ["de", "neng", "qin", "ji", "lian"]
EVALUATED = [
    {"name": "张秀英", "post": "居委会主任", "tenure": "elected"},
    {"name": "陈立新", "post": "居委会委员", "tenure": "elected"},
    {"name": "刘芳", "post": "社区专职工作者", "tenure": "hired"},
]
REPORT_PDF = b"%PDF-1.4\n% " + "张秀英述职述廉报告".encode() + b"\n"
STREET = ("disciplinary_auditor", None)
READERS = (
    STREET,
    ("clerk", "tianhai"),
    ("resident", "tianhai"),
    ("resident_representative", "tianhai"),
    ("committee_member", "tianhai"),
    ("resident", "xinhe"),
)


@dataclass
class Site:
    client: TestClient
    tokens: dict[tuple[str, str | None], str]
    url: str
    directory: Path

    def post(self, who: tuple[str, str | None] | None, path: str, body: Any,
             key: str | None = None) -> Any:  # fmt: skip
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.client.post(T + path, json=body, headers=headers)

    def get(self, path: str, who: tuple[str, str | None] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.get(T + path, headers=headers)

    def head(self) -> int:
        seq: int = self.client.get(f"{T}/head").json()["seq"]
        return seq


def serve(directory: Path, readers: Any = READERS) -> Iterator[Site]:
    url = demo_store(directory)
    tokens = reader_tokens(url, readers)
    settings = Settings(db_url=url, checkpoint_interval=0, worker=False)
    with TestClient(create_app(settings)) as client:
        yield Site(client, tokens, url, directory)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve(tmp_path_factory.mktemp("evaluations"))


def this_round() -> tuple[int, int]:
    """A round that may be opened today: this month's if it is June or December."""
    today = china_date()
    return today.year, today.month if today.month in ROUNDS else 12


def everyone(grade: str) -> dict[str, dict[str, str]]:
    return {p["name"]: dict.fromkeys(DIMENSIONS, grade) for p in EVALUATED}


def open_voting(site: Site, evaluation: str, year: int, month: int) -> None:
    """Voting opens over HTTP in the round's month; in any other the route refuses it,
    naming the rule, and the street opens it through the ledger on a clock held in it."""
    opening = site.post(STREET, f"/evaluations/{evaluation}/voting/open", {})
    today = china_date()
    if (today.year, today.month) == (year, month):
        assert opening.status_code == 201, opening.text
        return
    assert opening.status_code == 409, opening.text
    assert "[003 二]" in opening.json()["detail"]
    held = held_at(dt.datetime(year, month, 10, 9, tzinfo=CHINA))
    with open_store(site.url) as store, Ledger(store) as whole, held:
        whole.community("tianhai").open_voting(
            Actor("街道纪工委孙强", Role.DISCIPLINARY_AUDITOR), "open-voting", evaluation
        )


def test_a_round_from_its_opening_to_its_published_tally(site: Site) -> None:
    year, month = this_round()
    opened = site.post(STREET, "/evaluations",
                       {"year": year, "month": month, "evaluated": EVALUATED})  # fmt: skip
    assert opened.status_code == 201, opened.text
    evaluation = opened.json()["result"]["id"]
    # Not public before its tally is: the community's members see it.
    assert site.get(f"/evaluations/{evaluation}").status_code == 404
    assert site.get(f"/evaluations/{evaluation}", ("resident", "xinhe")).status_code == 404
    shown = site.get(f"/evaluations/{evaluation}", ("resident", "tianhai")).json()
    assert (shown["status"], shown["codes_committed"], shown["tally"]) == ("opened", False, None)
    assert [p["name"] for p in shown["evaluated"]] == ["张秀英", "陈立新", "刘芳"]

    uploaded = site.client.post(f"{T}/attachments", content=REPORT_PDF, headers={
        "Authorization": f"Bearer {site.tokens['clerk', 'tianhai']}"})  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text
    report = hashlib.sha256(REPORT_PDF).hexdigest()
    recorded = site.post(("clerk", "tianhai"), f"/evaluations/{evaluation}/reports",
                         {"person": "张秀英", "sha256": report})  # fmt: skip
    assert recorded.status_code == 201, recorded.text

    issued = site.post(STREET, f"/evaluations/{evaluation}/codes", {"count": 4}, key="codes-1")
    assert issued.status_code == 201, issued.text
    assert issued.headers["Cache-Control"] == "no-store"
    codes = issued.json()["codes"]
    assert len(set(codes)) == 4
    # A replay answers no codes: they were shown once.
    again = site.post(STREET, f"/evaluations/{evaluation}/codes", {"count": 4}, key="codes-1")
    assert (again.status_code, again.json()["codes"]) == (200, None)
    shown = site.get(f"/evaluations/{evaluation}", ("clerk", "tianhai"))
    assert (shown.json()["codes_committed"], shown.json()["codes"]) == (True, 4)
    assert not any(normal_code(c) in shown.text or c in shown.text for c in codes)
    assert shown.json()["evaluated"][0]["report_sha256"] == report

    open_voting(site, evaluation, year, month)
    grades = everyone("competent")
    grades["张秀英"] = dict.fromkeys(DIMENSIONS, "excellent")
    grades["刘芳"] = dict.fromkeys(DIMENSIONS, "incompetent")
    voters = [("resident_representative", "tianhai"), ("resident", "tianhai"), STREET]
    for voter, code in zip(voters, codes, strict=False):
        cast = site.post(voter, f"/evaluations/{evaluation}/ballots",
                         {"code": code, "grades": grades})  # fmt: skip
        assert cast.status_code == 201, cast.text
        assert cast.json()["result"] == {"id": evaluation, "accepted": True}
    before = site.head()
    twice = site.post(voters[0], f"/evaluations/{evaluation}/ballots",
                      {"code": normal_code(codes[0]).lower(), "grades": grades})  # fmt: skip
    assert twice.status_code == 409
    assert twice.headers["content-type"] == PROBLEM
    assert "already cast" in twice.json()["detail"]
    assert site.head() == before

    assert site.post(STREET, f"/evaluations/{evaluation}/voting/close", {}).status_code == 201
    published = site.post(STREET, f"/evaluations/{evaluation}/tally", {})
    assert published.status_code == 201, published.text
    tally = published.json()["result"]["tally"]
    assert (tally["ballots"], tally["codes"]) == (3, 4)

    public = site.get(f"/evaluations/{evaluation}")
    assert public.status_code == 200, "public once published"
    round_ = public.json()
    assert round_["status"] == "published"
    people = round_["tally"]["people"]
    assert [(p["name"], p["overall"], p["consequence"]) for p in people] == [
        ("张秀英", "excellent", None),
        ("陈立新", "competent", None),
        ("刘芳", "incompetent", None),
    ]
    assert round_["tally"]["people"][0]["dimensions"]["lian"]["excellent"] == 3
    assert round_["recount"] == recount_command("tianhai", evaluation)
    assert "ballots" not in round_
    assert "code_hashes" not in public.text

    followed = site.post(STREET, f"/evaluations/{evaluation}/consequences",
                         {"note": "张秀英由街道表彰"})  # fmt: skip
    assert followed.status_code == 201, followed.text
    concluded = site.get(f"/evaluations/{evaluation}").json()
    assert concluded["status"] == "concluded"
    assert concluded["consequences_note"] == "张秀英由街道表彰"
    assert [p["consequence"] for p in concluded["tally"]["people"]] == [
        "commendation", None, "recall_motion",
    ]  # fmt: skip

    # The street's acts are on the audit trail; the ballots, cast by no one, are not.
    catch_up(site.url)
    trail = site.get(f"/audit-trail?subject={evaluation}", STREET).json()["acts"]
    assert [(a["act"], a["actor_role"]) for a in trail] == [
        ("opened", "disciplinary_auditor"),
        ("report-recorded", "clerk"),
        ("codes-committed", "disciplinary_auditor"),
        ("voting-opened", "disciplinary_auditor"),
        ("voting-closed", "disciplinary_auditor"),
        ("tally-published", "disciplinary_auditor"),
        ("consequences-recorded", "disciplinary_auditor"),
    ]
    assert trail[-1]["opinion"] == "张秀英由街道表彰"


@pytest.mark.parametrize(
    ("who", "path", "body", "status", "detail"),
    [
        (("clerk", "tianhai"), "/codes", {"count": 3}, 403, "may not"),
        (("committee_member", "tianhai"), "/ballots", {"code": "X", "grades": {}}, 403, "may not"),
        (("resident", "xinhe"), "/ballots", {"code": "X", "grades": {}}, 403, "community"),
        (None, "/ballots", {"code": "X", "grades": {}}, 401, "sign in"),
        (STREET, "/codes", {"count": 5_001}, 422, "1 to 5000"),
        (STREET, "/codes", {"count": "3"}, 422, "count"),
        (STREET, "/codes", {"count": 3, "salt": "00"}, 422, "salt"),
        (
            ("resident", "tianhai"),
            "/ballots",
            {"code": "X", "grades": {"张秀英": {"de": "好"}}},
            422,
            "grades",
        ),
        (STREET, "/voting/open", {}, 409, "no ballot codes are committed"),
        (STREET, "/tally", {}, 409, "after voting closes"),
        (
            ("resident", "tianhai"),
            "/ballots",
            {"code": "X", "grades": everyone("competent")},
            409,
            "not opened yet",
        ),
    ],
)
def test_refusals_are_problems_and_store_nothing(
    site: Site, who: Any, path: str, body: Any, status: int, detail: str
) -> None:
    """On the round of next June, which is opened once and never voted in here."""
    year = china_date().year + 1
    evaluation = str(uuid.uuid5(uuid.NAMESPACE_URL, f"gongkai:evaluation:tianhai:{year:04d}-06"))
    if site.get(f"/evaluations/{evaluation}", ("clerk", "tianhai")).status_code == 404:
        opened = site.post(("clerk", "tianhai"), "/evaluations",
                           {"year": year, "month": 6, "evaluated": EVALUATED})  # fmt: skip
        assert opened.status_code == 201, opened.text
        assert opened.json()["result"]["id"] == evaluation
    before = site.head()
    response = site.post(who, f"/evaluations/{evaluation}{path}", body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert detail.lower() in response.text.lower()
    assert site.head() == before


def test_an_unknown_round_is_404_and_a_bad_opening_422(site: Site) -> None:
    assert site.get(f"/evaluations/{uuid.uuid4()}", STREET).status_code == 404
    before = site.head()
    for body in (
        {"year": china_date().year, "month": 7, "evaluated": EVALUATED},
        {"year": china_date().year, "month": 6, "evaluated": []},
        {"year": china_date().year, "month": 6, "evaluated": [EVALUATED[0], EVALUATED[0]]},
        {"year": 1999, "month": 6, "evaluated": EVALUATED},
    ):
        response = site.post(STREET, "/evaluations", body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert site.head() == before


def test_a_ballot_cast_over_http_stores_no_account_token_or_code(
    tmp_path: Path,
) -> None:
    """Every byte the ledger and its read models store (all but the accounts' own
    file, which holds the accounts), and every raw row of the events table, after
    ballots cast over HTTP: the voter's username, token and code are in none of them."""
    voter = "daibiao-" + uuid.uuid4().hex[:8]  # found nowhere else, so that a scan is exact
    for site in serve(tmp_path, [STREET]):
        with open_accounts(site.url, hasher=cheap_hasher()) as accounts:
            accounts.directory.add(voter, "resident_representative", community="tianhai",
                                   password=GOOD_PASSWORD)  # fmt: skip
            token = accounts.tokens.issue(voter).secret
        site.tokens[voter, "tianhai"] = token
        year, month = this_round()
        opened = site.post(STREET, "/evaluations",
                           {"year": year, "month": month, "evaluated": EVALUATED})  # fmt: skip
        evaluation = opened.json()["result"]["id"]
        codes = site.post(STREET, f"/evaluations/{evaluation}/codes", {"count": 2}).json()["codes"]
        open_voting(site, evaluation, year, month)
        for code in codes:
            cast = site.post((voter, "tianhai"), f"/evaluations/{evaluation}/ballots",
                             {"code": code, "grades": everyone("competent")})  # fmt: skip
            assert cast.status_code == 201, cast.text
        catch_up(site.url)
        rows = raw_table("sqlite", site.url, "tianhai").read()
        ballots = [r for r in rows if r["topic"] == Evaluation.BallotReceived.TOPIC]
        assert len(ballots) == 2
        stored = b"".join(
            p.read_bytes()
            for p in sorted(tmp_path.rglob("*"))
            if p.is_file() and not p.name.startswith("gongkai.accounts.")
        )
        raw = b"".join(bytes(r["state"]) + str(r).encode() for r in rows)
        assert "张秀英".encode() in stored, "the scan sees what is stored"
        assert b'"ballot"' in raw
        secrets = [voter, token, hashlib.sha256(token.encode()).hexdigest(),
                   hashlib.sha256(voter.encode()).hexdigest()]  # fmt: skip
        for code in codes:
            secrets += [code, normal_code(code),
                        hashlib.sha256(normal_code(code).encode()).hexdigest()]  # fmt: skip
        for secret in secrets:
            assert secret.encode() not in stored, f"{secret!r} is stored"
            assert secret.encode() not in raw, f"{secret!r} is in the events' rows"
