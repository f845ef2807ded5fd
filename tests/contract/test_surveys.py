"""The satisfaction survey (满意度测评) on SQLite and PostgreSQL alike, on the
evaluation's ballot mechanism: codes committed as salted hashes before voting, a form
counted once per committed code while voting is open and recorded under no one's name,
the tally counted by the ledger and recounted from the chain alone, an edited form
caught by the verifier."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.application import CommunityLedger, Ledger
from ledger.application.evaluations import normal_code
from ledger.chain.verify import ChainIntegrityError, Defect, verify_store
from ledger.domain.base import Actor
from ledger.domain.clock import HeldClock, held_at
from ledger.domain.survey import SatisfactionSurvey, recount_survey
from ledger.errors import InvalidInputError, InvalidTransitionError, PermissionDeniedError
from ledger.store import open_store
from ledger.store.backend import Store
from ledger.store.base import Community
from tests.conftest import SERVICE_ROLE
from tests.contract.test_evaluations import STREET, VOTER, VOTER_ACCOUNT, chain, refused
from tests.contract.test_ledger_contract import CLERK, RESIDENT, key
from tests.contract.test_reports import everything_stored
from tests.rawdb import RawTable

CHINA = dt.timezone(dt.timedelta(hours=8))
QUESTIONS = ["办事效率", "服务态度", "居务公开"]


@pytest.fixture
def clock() -> Iterator[HeldClock]:
    with held_at(dt.datetime(2026, 12, 10, 9, tzinfo=CHINA)) as held:
        yield held


def voting(ledger: CommunityLedger, codes: int = 4) -> tuple[str, list[str]]:
    opened = ledger.open_survey(STREET, key(), year=2026, month=12, questions=QUESTIONS)
    survey = str(opened.result["id"])
    issued = ledger.issue_survey_codes(STREET, key(), survey, count=codes).codes
    assert issued is not None
    ledger.open_survey_voting(STREET, key(), survey)
    return survey, issued


def answer(ledger: CommunityLedger, survey: str, code: str, *choices: str) -> Any:
    return ledger.answer_survey(VOTER, survey, code=code,
                                answers={str(i): c for i, c in enumerate(choices)})  # fmt: skip


def test_a_survey_is_counted_and_recounted(ledger: CommunityLedger, clock: HeldClock) -> None:
    survey, codes = voting(ledger)
    answer(ledger, survey, codes[0], "satisfied", "satisfied", "dissatisfied")
    answer(ledger, survey, codes[1], "satisfied", "fairly_satisfied", "dissatisfied")
    # A code as printed, in lower case and without its dashes, is the same code.
    answer(ledger, survey, normal_code(codes[2]).lower(), "fairly_satisfied",
           "dissatisfied", "satisfied")  # fmt: skip
    ledger.close_survey_voting(STREET, key(), survey)
    published = ledger.publish_survey_tally(STREET, key(), survey).result["tally"]
    # Written out by hand: three forms of four issued.
    assert published == {
        "questions": [
            {"question": "办事效率",
             "counts": {"satisfied": 2, "fairly_satisfied": 1, "dissatisfied": 0}},
            {"question": "服务态度",
             "counts": {"satisfied": 1, "fairly_satisfied": 1, "dissatisfied": 1}},
            {"question": "居务公开",
             "counts": {"satisfied": 1, "fairly_satisfied": 0, "dissatisfied": 2}},
        ],
        "ballots": 3,
        "codes": 4,
    }  # fmt: skip
    assert recount_survey(chain(ledger), survey) == published
    forms = [json.loads(e.state) for e in chain(ledger)
             if e.topic == SatisfactionSurvey.AnswersReceived.TOPIC]  # fmt: skip
    assert [(f["actor"], f["actor_role"]) for f in forms] == [("ballot", "system")] * 3
    assert {k for f in forms for k in f} == {
        "actor", "actor_role", "timestamp", "code_sha256", "answers",
    }  # fmt: skip


def test_a_code_counts_once_and_only_if_committed(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    survey, codes = voting(ledger, codes=2)
    answer(ledger, survey, codes[0], "satisfied", "satisfied", "satisfied")
    refused(
        ledger,
        InvalidTransitionError,
        "already been used",
        lambda: answer(ledger, survey, codes[0], "dissatisfied", "satisfied", "satisfied"),
    )
    refused(ledger, InvalidTransitionError, "not one of this survey's codes",
            lambda: answer(ledger, survey, "ABCD-EFGH-JKMN", "satisfied", "satisfied",
                           "satisfied"))  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ({"0": "satisfied", "1": "satisfied"}, "every question"),
        ({"0": "satisfied", "1": "satisfied", "2": "satisfied", "3": "satisfied"},
         "every question"),
        ({"0": "satisfied", "1": "satisfied", "2": "happy"}, "answers"),
    ],
)  # fmt: skip
def test_a_form_answers_every_question_with_a_choice(
    ledger: CommunityLedger, clock: HeldClock, answers: dict[str, str], said: str
) -> None:
    survey, codes = voting(ledger)
    refused(
        ledger,
        InvalidInputError,
        said,
        lambda: ledger.answer_survey(VOTER, survey, code=codes[0], answers=answers),
    )


def test_no_form_before_voting_opens_or_after_it_closes(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    opened = ledger.open_survey(STREET, key(), year=2026, month=12, questions=QUESTIONS)
    survey = str(opened.result["id"])
    refused(
        ledger,
        InvalidTransitionError,
        "no codes are committed",
        lambda: ledger.open_survey_voting(STREET, key(), survey),
    )
    codes = ledger.issue_survey_codes(STREET, key(), survey, count=2).codes
    assert codes is not None
    refused(
        ledger,
        InvalidTransitionError,
        "not opened yet",
        lambda: answer(ledger, survey, codes[0], "satisfied", "satisfied", "satisfied"),
    )
    refused(
        ledger,
        InvalidTransitionError,
        "after voting closes",
        lambda: ledger.publish_survey_tally(STREET, key(), survey),
    )
    ledger.open_survey_voting(STREET, key(), survey)
    ledger.close_survey_voting(STREET, key(), survey)
    refused(
        ledger,
        InvalidTransitionError,
        "closed",
        lambda: answer(ledger, survey, codes[0], "satisfied", "satisfied", "satisfied"),
    )
    ledger.publish_survey_tally(STREET, key(), survey)
    refused(
        ledger,
        InvalidTransitionError,
        "already published",
        lambda: ledger.publish_survey_tally(STREET, key(), survey),
    )


@pytest.mark.parametrize(
    ("month", "questions", "said"),
    [(7, QUESTIONS, "no round"), (12, [], "1 to 20"), (12, ["办事效率"] * 2, "once"),
     (12, [f"问题{i}" for i in range(21)], "at most 20")],
)  # fmt: skip
def test_a_survey_is_opened_in_a_round_with_its_questions(
    ledger: CommunityLedger, clock: HeldClock, month: int, questions: list[str], said: str
) -> None:
    refused(ledger, InvalidInputError, said,
            lambda: ledger.open_survey(STREET, key(), year=2026, month=month,
                                       questions=questions))  # fmt: skip


def test_voting_opens_in_the_rounds_month(ledger: CommunityLedger) -> None:
    with held_at(dt.datetime(2026, 11, 30, 23, 59, tzinfo=CHINA)):
        opened = ledger.open_survey(STREET, key(), year=2026, month=12, questions=QUESTIONS)
        survey = str(opened.result["id"])
        ledger.issue_survey_codes(STREET, key(), survey, count=1)
        refused(
            ledger,
            InvalidTransitionError,
            "2026-11-30 in China",
            lambda: ledger.open_survey_voting(STREET, key(), survey),
        )
    with held_at(dt.datetime(2026, 12, 1, 0, 0, tzinfo=CHINA)):
        ledger.open_survey_voting(STREET, key(), survey)


@pytest.mark.parametrize(("actor", "act"),
                         [(RESIDENT, "open"), (CLERK, "issue"), (CLERK, "answer")])  # fmt: skip
def test_each_act_is_its_roles(
    ledger: CommunityLedger, clock: HeldClock, actor: Actor, act: str
) -> None:
    survey, codes = voting(ledger)
    acts = {
        "open": lambda: ledger.open_survey(actor, key(), year=2026, month=6,
                                           questions=QUESTIONS),
        "issue": lambda: ledger.issue_survey_codes(actor, key(), survey, count=1),
        "answer": lambda: ledger.answer_survey(actor, survey, code=codes[0],
                                               answers={"0": "satisfied"}),
    }  # fmt: skip
    refused(ledger, PermissionDeniedError, "may not", acts[act])


def test_no_store_holds_the_voters_account_or_any_code(
    backend: str, isolated_store_url: str, tmp_path: Path, clock: HeldClock
) -> None:
    store = open_store(isolated_store_url)
    store.init_schema(service_role=SERVICE_ROLE if backend == "postgres" else None)
    whole = Ledger(store)
    ledger = whole.add_community(Community("manyi", "测评社区"))
    survey, codes = voting(ledger, codes=2)
    for code in codes:
        answer(ledger, survey, code, "satisfied", "satisfied", "satisfied")
    assert verify_store(store, "manyi").head == ledger.head()
    whole.close()
    stored = everything_stored(backend, isolated_store_url, tmp_path)
    assert "办事效率".encode() in stored  # the scan does see what is stored
    secrets = [VOTER_ACCOUNT, hashlib.sha256(VOTER_ACCOUNT.encode()).hexdigest()]
    for code in codes:
        secrets += [
            code,
            normal_code(code),
            hashlib.sha256(normal_code(code).encode()).hexdigest(),
        ]
    for secret in secrets:
        assert secret.encode() not in stored, f"{secret!r} is stored in the clear"


def test_a_form_edited_in_the_database_is_caught(
    ledger: CommunityLedger, store: Store, raw: RawTable, clock: HeldClock
) -> None:
    survey, codes = voting(ledger, codes=2)
    for code in codes:
        answer(ledger, survey, code, "dissatisfied", "satisfied", "satisfied")
    ledger.close_survey_voting(STREET, key(), survey)
    published = ledger.publish_survey_tally(STREET, key(), survey).result["tally"]
    rows = raw.read()
    (k,) = [i for i, r in enumerate(rows)
            if r["topic"] == SatisfactionSurvey.AnswersReceived.TOPIC][:1]  # fmt: skip
    state = bytes(rows[k]["state"])
    rows[k] = {**rows[k], "state": state.replace(b'"dissatisfied"', b'"satisfied"', 1)}
    raw.replace_all(rows)
    with pytest.raises(ChainIntegrityError) as info:
        verify_store(store, ledger.community.id)
    assert (info.value.seq, info.value.defect) == (rows[k]["seq"], Defect.EDITED)
    assert recount_survey(chain(ledger), survey) != published
