"""Democratic evaluation (民主评议) on SQLite and PostgreSQL alike, on a clock the test
holds (China time): opened for June or December only; the ballot codes committed as
salted hashes once, before voting; a ballot accepted once per committed code, only
while voting is open, recorded under no one's name; the tally counted by the ledger
and recounted from the chain alone; no store holding the voter's account or any code;
a ballot edited in the database caught by the verifier."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.application import CommunityLedger, Ledger
from ledger.application.evaluations import code_sha256, normal_code
from ledger.chain.hashing import ChainedEvent
from ledger.chain.verify import ChainIntegrityError, Defect, verify_store
from ledger.domain.base import Actor
from ledger.domain.clock import HeldClock, held_at
from ledger.domain.evaluation import Evaluation, EvaluationStatus, evaluation_id
from ledger.domain.evaluation_tally import published_tally, recount
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidInputError, InvalidTransitionError, PermissionDeniedError
from ledger.store import open_store
from ledger.store.backend import Store
from ledger.store.base import Community
from tests.conftest import SERVICE_ROLE
from tests.contract.test_ledger_contract import CLERK, RESIDENT, key
from tests.contract.test_reports import everything_stored
from tests.rawdb import RawTable

CHINA = dt.timezone(dt.timedelta(hours=8))
STREET = Actor("街道纪工委孙强", Role.DISCIPLINARY_AUDITOR)
# An account found nowhere else in the store, so that a scan for it is exact.
VOTER_ACCOUNT = "daibiao-" + uuid.uuid4().hex[:8]
VOTER = Actor(VOTER_ACCOUNT, Role.RESIDENT_REPRESENTATIVE)
EVALUATED = [
    {"name": "张秀英", "post": "居委会主任", "tenure": "elected"},
    {"name": "陈立新", "post": "居委会委员", "tenure": "elected"},
    {"name": "刘芳", "post": "社区专职工作者", "tenure": "hired"},
]
DIMENSIONS = ["de", "neng", "qin", "ji", "lian"]
REPORT = hashlib.sha256("张秀英述职述廉报告".encode()).hexdigest()


@pytest.fixture
def clock() -> Iterator[HeldClock]:
    with held_at(dt.datetime(2026, 6, 10, 9, tzinfo=CHINA)) as held:
        yield held


def everyone(grade: str) -> dict[str, dict[str, str]]:
    return {p["name"]: dict.fromkeys(DIMENSIONS, grade) for p in EVALUATED}


def opened(ledger: CommunityLedger, month: int = 6) -> str:
    done = ledger.open_evaluation(STREET, key(), year=2026, month=month, evaluated=EVALUATED)
    return str(done.result["id"])


def voting(ledger: CommunityLedger, codes: int = 5) -> tuple[str, list[str]]:
    evaluation = opened(ledger)
    issued = ledger.issue_ballot_codes(STREET, key(), evaluation, count=codes).codes
    assert issued is not None
    ledger.open_voting(STREET, key(), evaluation)
    return evaluation, issued


def cast(ledger: CommunityLedger, evaluation: str, code: str, grade: str = "competent") -> Any:
    return ledger.cast_ballot(VOTER, evaluation, code=code, grades=everyone(grade))


def refused(ledger: CommunityLedger, error: type[Exception], said: str, act: Any) -> None:
    before = ledger.head()
    with pytest.raises(error, match=said):
        act()
    assert ledger.head() == before


def chain(ledger: CommunityLedger) -> list[ChainedEvent]:
    found: list[ChainedEvent] = []
    while page := ledger.entries(after=found[-1].seq if found else 0, limit=100):
        found.extend(page)
    return found


def of_topic(ledger: CommunityLedger, topic: str) -> list[dict[str, Any]]:
    return [json.loads(e.state) for e in chain(ledger) if e.topic == topic]


def test_a_round_from_its_opening_to_its_consequences(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    evaluation = opened(ledger)
    assert evaluation == str(evaluation_id(ledger.community.id, 2026, 6))
    ledger.record_evaluation_report(CLERK, key(), evaluation, person="张秀英", sha256=REPORT)
    issued = ledger.issue_ballot_codes(STREET, key(), evaluation, count=4).codes
    assert issued is not None
    assert len(set(issued)) == 4
    ledger.open_voting(STREET, key(), evaluation)
    # Three excellent and one competent for 张秀英; 陈立新 barely; 刘芳 incompetent.
    for n, code in enumerate(issued):
        grades = everyone("competent")
        grades["张秀英"] = dict.fromkeys(DIMENSIONS, "excellent" if n < 3 else "competent")
        grades["陈立新"] = dict.fromkeys(DIMENSIONS, "barely_competent")
        grades["刘芳"] = dict.fromkeys(DIMENSIONS, "incompetent")
        grades["刘芳"]["de"] = "competent"
        ledger.cast_ballot(VOTER, evaluation, code=code, grades=grades)
    ledger.close_voting(STREET, key(), evaluation)
    published = ledger.publish_tally(STREET, key(), evaluation).result["tally"]

    assert (published["ballots"], published["codes"]) == (4, 4)
    first, _, third = published["people"]
    assert first["dimensions"]["lian"] == {
        "excellent": 3, "competent": 1, "barely_competent": 0, "incompetent": 0,
    }  # fmt: skip
    assert first["pooled"]["excellent"] == 15
    assert [p["overall"] for p in published["people"]] == [
        "excellent", "barely_competent", "incompetent",
    ]  # fmt: skip
    assert third["dimensions"]["de"]["competent"] == 4
    # The chain alone gives the same tally, and it is the one published.
    entries = chain(ledger)
    assert recount(entries, evaluation) == published == published_tally(entries, evaluation)

    done = ledger.record_consequences(STREET, key(), evaluation, note="张秀英由街道表彰")
    assert done.result["consequences"] == [
        {"name": "张秀英", "grade": "excellent", "consequence": "commendation"},
        {"name": "陈立新", "grade": "barely_competent", "consequence": "admonition"},
        {"name": "刘芳", "grade": "incompetent", "consequence": "recall_motion"},
    ]
    assert ledger.evaluation(evaluation).status is EvaluationStatus.CONCLUDED
    refused(ledger, InvalidTransitionError, "already recorded",
            lambda: ledger.record_consequences(STREET, key(), evaluation))  # fmt: skip


def test_a_code_is_accepted_once(ledger: CommunityLedger, clock: HeldClock) -> None:
    evaluation, codes = voting(ledger)
    cast(ledger, evaluation, codes[0])
    refused(ledger, InvalidTransitionError, "already cast with this code",
            lambda: cast(ledger, evaluation, codes[0], "excellent"))  # fmt: skip
    # The same code typed otherwise (lower case, no dashes, spaces) is the same code.
    retyped = " " + normal_code(codes[0]).lower() + " "
    refused(ledger, InvalidTransitionError, "already cast with this code",
            lambda: cast(ledger, evaluation, retyped))  # fmt: skip
    # Another voter's code still counts.
    cast(ledger, evaluation, normal_code(codes[1]).lower())
    assert len(ledger.evaluation(evaluation).ballots) == 2


def test_a_code_not_committed_is_refused(ledger: CommunityLedger, clock: HeldClock) -> None:
    evaluation, codes = voting(ledger)
    refused(ledger, InvalidTransitionError, "not one of this evaluation's ballot codes",
            lambda: cast(ledger, evaluation, "ABCD-EFGH-JKMN"))  # fmt: skip
    # A code one letter off is another code.
    last = "2" if codes[0][-1] != "2" else "3"
    refused(ledger, InvalidTransitionError, "not one of",
            lambda: cast(ledger, evaluation, codes[0][:-1] + last))  # fmt: skip
    # A code of the December round does not vote in June's, the salts differing.
    december = opened(ledger, month=12)
    other = ledger.issue_ballot_codes(STREET, key(), december, count=1).codes
    assert other is not None
    refused(ledger, InvalidTransitionError, "not one of",
            lambda: cast(ledger, evaluation, other[0]))  # fmt: skip


def test_no_ballot_before_voting_opens_or_after_it_closes(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    evaluation = opened(ledger)
    refused(ledger, InvalidTransitionError, "not opened yet",
            lambda: cast(ledger, evaluation, "ABCD-EFGH-JKMN"))  # fmt: skip
    codes = ledger.issue_ballot_codes(STREET, key(), evaluation, count=3).codes
    assert codes is not None
    refused(ledger, InvalidTransitionError, "not opened yet",
            lambda: cast(ledger, evaluation, codes[0]))  # fmt: skip
    ledger.open_voting(STREET, key(), evaluation)
    cast(ledger, evaluation, codes[0])
    ledger.close_voting(STREET, key(), evaluation)
    refused(ledger, InvalidTransitionError, "voting has closed",
            lambda: cast(ledger, evaluation, codes[1]))  # fmt: skip
    refused(ledger, InvalidTransitionError, "voting is not open",
            lambda: ledger.close_voting(STREET, key(), evaluation))  # fmt: skip
    refused(ledger, InvalidTransitionError, "voting opens once",
            lambda: ledger.open_voting(STREET, key(), evaluation))  # fmt: skip
    ledger.publish_tally(STREET, key(), evaluation)
    refused(ledger, InvalidTransitionError, "already published",
            lambda: ledger.publish_tally(STREET, key(), evaluation))  # fmt: skip
    refused(ledger, InvalidTransitionError, "voting has closed",
            lambda: cast(ledger, evaluation, codes[2]))  # fmt: skip


def test_the_codes_are_committed_once_and_before_voting(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    evaluation = opened(ledger)
    refused(ledger, InvalidTransitionError, "no ballot codes are committed",
            lambda: ledger.open_voting(STREET, key(), evaluation))  # fmt: skip
    refused(ledger, InvalidTransitionError, "the tally is published once, after voting",
            lambda: ledger.publish_tally(STREET, key(), evaluation))  # fmt: skip
    idempotency = key()
    first = ledger.issue_ballot_codes(STREET, idempotency, evaluation, count=3)
    assert first.codes is not None
    # A replay stores nothing more and answers no codes: they were shown once.
    again = ledger.issue_ballot_codes(STREET, idempotency, evaluation, count=3)
    assert again.result.replayed
    assert again.codes is None
    refused(ledger, InvalidTransitionError, "committed once",
            lambda: ledger.issue_ballot_codes(STREET, key(), evaluation, count=3))  # fmt: skip
    (committed,) = of_topic(ledger, Evaluation.CodesCommitted.TOPIC)
    salt = committed["salt"]
    assert committed["code_hashes"] == sorted(code_sha256(salt, c) for c in first.codes)
    assert len(bytes.fromhex(salt)) == 16
    ledger.open_voting(STREET, key(), evaluation)
    refused(ledger, InvalidTransitionError, "voting has already opened",
            lambda: ledger.record_evaluation_report(
                CLERK, key(), evaluation, person="刘芳", sha256=REPORT))  # fmt: skip


@pytest.mark.parametrize("month", [1, 5, 7, 11, 13, 0])
def test_a_round_is_june_or_december(
    ledger: CommunityLedger, clock: HeldClock, month: int
) -> None:
    refused(ledger, InvalidInputError, "June and December",
            lambda: opened(ledger, month=month))  # fmt: skip


def test_a_round_is_opened_once(ledger: CommunityLedger, clock: HeldClock) -> None:
    opened(ledger)
    refused(ledger, InvalidTransitionError, "already open",
            lambda: opened(ledger))  # fmt: skip
    opened(ledger, month=12)


def test_voting_opens_in_the_rounds_month_by_the_china_date(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    evaluation = opened(ledger)
    ledger.issue_ballot_codes(STREET, key(), evaluation, count=1)
    # 23:59:59 on 31 May in China (15:59:59 UTC): still May.
    clock.set(dt.datetime(2026, 5, 31, 15, 59, 59, tzinfo=dt.UTC))
    refused(ledger, InvalidTransitionError, "2026-05-31 in China",
            lambda: ledger.open_voting(STREET, key(), evaluation))  # fmt: skip
    # 1 July 00:00 in China, though still 30 June in UTC: too late.
    clock.set(dt.datetime(2026, 6, 30, 16, tzinfo=dt.UTC))
    refused(ledger, InvalidTransitionError, "2026-07-01 in China",
            lambda: ledger.open_voting(STREET, key(), evaluation))  # fmt: skip
    # 1 June 00:00 in China (31 May 16:00 UTC): the round's month.
    clock.set(dt.datetime(2026, 5, 31, 16, tzinfo=dt.UTC))
    ledger.open_voting(STREET, key(), evaluation)


def test_a_ballot_grades_everyone_on_every_dimension(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    evaluation, codes = voting(ledger)

    def ballot(grades: dict[str, Any]) -> Any:
        return lambda: ledger.cast_ballot(VOTER, evaluation, code=codes[0], grades=grades)

    missing = everyone("competent")
    del missing["刘芳"]
    refused(ledger, InvalidInputError, "every person evaluated", ballot(missing))
    extra = {**everyone("competent"), "王五": dict.fromkeys(DIMENSIONS, "competent")}
    refused(ledger, InvalidInputError, "every person evaluated", ballot(extra))
    partial = everyone("competent")
    del partial["刘芳"]["lian"]
    refused(ledger, InvalidInputError, "graded on each of", ballot(partial))
    unknown = everyone("competent")
    unknown["刘芳"]["lian"] = "合格"
    refused(ledger, InvalidInputError, "unknown grades", ballot(unknown))
    dimension = everyone("competent")
    dimension["刘芳"]["virtue"] = "competent"
    refused(ledger, InvalidInputError, "unknown grades", ballot(dimension))
    # None of these used the code up.
    cast(ledger, evaluation, codes[0])


def test_a_ballot_names_no_one(ledger: CommunityLedger, clock: HeldClock) -> None:
    evaluation, codes = voting(ledger)
    cast(ledger, evaluation, codes[0])
    ledger.cast_ballot(
        Actor("街道录入员", Role.DISCIPLINARY_AUDITOR), evaluation, code=codes[1],
        grades=everyone("excellent"),
    )  # fmt: skip
    ballots = of_topic(ledger, Evaluation.BallotReceived.TOPIC)
    assert len(ballots) == 2
    for state in ballots:
        assert (state["actor"], state["actor_role"]) == ("ballot", "system")
        assert set(state) == {"actor", "actor_role", "timestamp", "code_sha256", "grades"}


@pytest.mark.parametrize(
    ("actor", "command"),
    [
        (RESIDENT, "open"),
        (CLERK, "issue"),
        (VOTER, "issue"),
        (CLERK, "cast"),
        (VOTER, "close"),
    ],
)
def test_each_act_is_its_roles(
    ledger: CommunityLedger, clock: HeldClock, actor: Actor, command: str
) -> None:
    evaluation, codes = voting(ledger)
    acts = {
        "open": lambda: ledger.open_evaluation(actor, key(), year=2026, month=12,
                                               evaluated=EVALUATED),
        "issue": lambda: ledger.issue_ballot_codes(actor, key(), evaluation, count=1),
        "cast": lambda: ledger.cast_ballot(actor, evaluation, code=codes[0],
                                           grades=everyone("competent")),
        "close": lambda: ledger.close_voting(actor, key(), evaluation),
    }  # fmt: skip
    refused(ledger, PermissionDeniedError, "may not", acts[command])


def test_no_store_holds_the_voters_account_or_any_code(
    backend: str, isolated_store_url: str, tmp_path: Path, clock: HeldClock
) -> None:
    store = open_store(isolated_store_url)
    store.init_schema(service_role=SERVICE_ROLE if backend == "postgres" else None)
    whole = Ledger(store)
    ledger = whole.add_community(Community("pingyi", "评议测试社区"))
    evaluation, codes = voting(ledger, codes=3)
    for code in codes:
        cast(ledger, evaluation, code)
    ledger.close_voting(STREET, key(), evaluation)
    ledger.publish_tally(STREET, key(), evaluation)
    assert verify_store(store, "pingyi").head == ledger.head()
    whole.close()

    stored = everything_stored(backend, isolated_store_url, tmp_path)
    assert STREET.name.encode() in stored  # the scan does see what is stored
    assert "张秀英".encode() in stored
    secrets = [VOTER_ACCOUNT, hashlib.sha256(VOTER_ACCOUNT.encode()).hexdigest()]
    for code in codes:
        secrets += [code, normal_code(code)]
        # Nor the code's unsalted hash, which would be the code to anyone who guesses.
        secrets.append(hashlib.sha256(normal_code(code).encode()).hexdigest())
    for secret in secrets:
        assert secret.encode() not in stored, f"{secret!r} is stored in the clear"


def test_a_ballot_edited_in_the_database_is_caught(
    ledger: CommunityLedger, store: Store, raw: RawTable, clock: HeldClock
) -> None:
    evaluation, codes = voting(ledger, codes=3)
    for code in codes:
        cast(ledger, evaluation, code)
    ledger.close_voting(STREET, key(), evaluation)
    ledger.publish_tally(STREET, key(), evaluation)
    assert verify_store(store, ledger.community.id).head == ledger.head()

    rows = raw.read()
    (k,) = [i for i, r in enumerate(rows) if r["topic"] == Evaluation.BallotReceived.TOPIC][1:2]
    state = bytes(rows[k]["state"])
    assert b'"competent"' in state
    rows[k] = {**rows[k], "state": state.replace(b'"competent"', b'"incompetent"', 5)}
    raw.replace_all(rows)
    with pytest.raises(ChainIntegrityError) as info:
        verify_store(store, ledger.community.id)
    assert (info.value.seq, info.value.defect) == (rows[k]["seq"], Defect.EDITED)
    # And the recount of the edited rows is not the tally published.
    entries = chain(ledger)
    assert recount(entries, evaluation) != published_tally(entries, evaluation)


@pytest.mark.parametrize("count", [0, -1, 5_001, True, "3"])
def test_codes_are_issued_one_to_five_thousand(
    ledger: CommunityLedger, clock: HeldClock, count: Any
) -> None:
    evaluation = opened(ledger)
    refused(ledger, InvalidInputError, "issue 1 to 5000 codes",
            lambda: ledger.issue_ballot_codes(STREET, key(), evaluation, count=count))  # fmt: skip
    issued = ledger.issue_ballot_codes(STREET, key(), evaluation, count=1).codes
    assert issued is not None
    assert len(issued) == 1


@pytest.mark.parametrize(("year", "accepted"), [(2024, False), (2025, True), (2027, True),
                                                (2028, False)])  # fmt: skip
def test_a_round_is_of_this_year_the_last_or_the_next(
    ledger: CommunityLedger, clock: HeldClock, year: int, accepted: bool
) -> None:
    def act() -> Any:
        return ledger.open_evaluation(STREET, key(), year=year, month=12, evaluated=EVALUATED)

    if accepted:
        act()
    else:
        refused(ledger, InvalidInputError, "not this year", act)


def test_the_opening_lists_the_evaluated_the_dimensions_and_the_grades(
    ledger: CommunityLedger, clock: HeldClock
) -> None:
    def opening(evaluated: list[dict[str, str]]) -> Any:
        return lambda: ledger.open_evaluation(
            CLERK, key(), year=2026, month=6, evaluated=evaluated
        )

    twice = [EVALUATED[0], EVALUATED[0]]
    refused(ledger, InvalidInputError, "evaluated once", opening(twice))
    unknown = [{**EVALUATED[0], "tenure": "x"}]
    refused(ledger, InvalidInputError, "unknown tenure", opening(unknown))
    refused(ledger, InvalidInputError, "evaluates someone", opening([]))
    ledger.open_evaluation(CLERK, key(), year=2026, month=6, evaluated=EVALUATED)
    (state,) = of_topic(ledger, Evaluation.Opened.TOPIC)
    assert (state["actor"], state["actor_role"]) == (CLERK.name, "clerk")
    assert (state["year"], state["month"]) == (2026, 6)
    assert state["evaluated"] == EVALUATED
    assert state["dimensions"] == DIMENSIONS
    assert state["grades"] == ["excellent", "competent", "barely_competent", "incompetent"]
