"""The satisfaction survey (满意度测评) over HTTP: opened by the street, codes issued
once and answered in the clear only then, forms answered by a representative and a
resident under no one's name, the tally published and then public; bad input a
problem that stores nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.clock import held_at
from ledger.domain.survey import recount_survey
from ledger.domain.vocabulary import Role
from ledger.store import open_store
from tests.api.test_evaluation_routes import CHINA, PROBLEM, STREET, Site, serve, this_round

QUESTIONS = ["办事效率", "服务态度"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve(tmp_path_factory.mktemp("surveys"))


def test_a_survey_from_its_opening_to_its_public_tally(site: Site) -> None:
    year, month = this_round()
    opened = site.post(STREET, "/surveys", {"year": year, "month": month, "questions": QUESTIONS})
    assert opened.status_code == 201, opened.text
    survey = opened.json()["result"]["id"]
    assert site.get(f"/surveys/{survey}").status_code == 404  # not public yet
    shown = site.get(f"/surveys/{survey}", STREET).json()
    assert (shown["status"], shown["questions"], shown["tally"]) == ("opened", QUESTIONS, None)

    issued = site.post(STREET, f"/surveys/{survey}/codes", {"count": 3}, key="survey-codes")
    assert issued.status_code == 201, issued.text
    assert issued.headers["Cache-Control"] == "no-store"
    codes = issued.json()["codes"]
    assert len(codes) == 3
    again = site.post(STREET, f"/surveys/{survey}/codes", {"count": 3}, key="survey-codes")
    assert (again.status_code, again.json()["codes"]) == (200, None)

    opening = site.post(STREET, f"/surveys/{survey}/voting/open", {})
    if opening.status_code != 201:  # another month: opened on a clock held in the round's
        assert opening.status_code == 409, opening.text
        assert "in that month" in opening.text
        with (
            open_store(site.url) as store,
            Ledger(store) as whole,
            held_at(dt.datetime(year, month, 10, 9, tzinfo=CHINA)),
        ):
            whole.community("tianhai").open_survey_voting(
                Actor("街道纪工委孙强", Role.DISCIPLINARY_AUDITOR), "survey-open", survey
            )
    voters = [("resident_representative", "tianhai"), ("resident", "tianhai")]
    for who, code in zip(voters, codes, strict=False):
        answered = site.post(
            who, f"/surveys/{survey}/answers",
            {"code": code, "answers": {"0": "satisfied", "1": "dissatisfied"}},
        )  # fmt: skip
        assert answered.status_code == 201, answered.text
    again_body = {"code": codes[0], "answers": {"0": "satisfied", "1": "satisfied"}}
    twice = site.post(voters[0], f"/surveys/{survey}/answers", again_body)
    assert twice.status_code == 409
    assert twice.headers["content-type"] == PROBLEM
    assert site.post(STREET, f"/surveys/{survey}/voting/close", {}).status_code == 201
    published = site.post(STREET, f"/surveys/{survey}/tally", {})
    assert published.status_code == 201, published.text
    tally = published.json()["result"]["tally"]
    assert [q["counts"] for q in tally["questions"]] == [
        {"satisfied": 2, "fairly_satisfied": 0, "dissatisfied": 0},
        {"satisfied": 0, "fairly_satisfied": 0, "dissatisfied": 2},
    ]
    assert (tally["ballots"], tally["codes"]) == (2, 3)
    public = site.get(f"/surveys/{survey}")
    assert public.status_code == 200
    assert public.json()["tally"] == tally
    with open_store(site.url) as store, Ledger(store) as whole:
        book = whole.community("tianhai")
        assert recount_survey(book.entries(limit=100_000), survey) == tally


@pytest.mark.parametrize(
    "body",
    [
        {"year": 2026, "month": 7, "questions": QUESTIONS},
        {"year": 2026, "month": 6, "questions": []},
        {"year": 2026, "month": 6, "questions": ["办事效率", "办事效率"]},
        {"year": "2026", "month": 6, "questions": QUESTIONS},
    ],
)
def test_a_bad_opening_is_a_problem_that_stores_nothing(site: Site, body: object) -> None:
    before = site.head()
    response = site.post(STREET, "/surveys", body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert site.head() == before


def test_an_unknown_survey_is_404(site: Site) -> None:
    assert site.get(f"/surveys/{uuid.uuid4()}", STREET).status_code == 404
    answered = site.post(("resident", "tianhai"), f"/surveys/{uuid.uuid4()}/answers",
                         {"code": "ABCD-EFGH-JKMN", "answers": {"0": "satisfied"}})  # fmt: skip
    assert answered.status_code == 404
