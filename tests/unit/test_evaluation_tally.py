"""The recount of a democratic evaluation from chain entries alone: it counts a ballot
only while voting is open, under a committed code, once; and each person's overall
grade is the median of their pooled grades, ties going to the lower grade."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from ledger.domain import evaluation_tally as counting
from ledger.domain.evaluation import Evaluation, Grade
from ledger.domain.evaluation_tally import (
    RecountError,
    overall_grade,
    published_tally,
    recount,
    tally,
)

GRADES = [g.value for g in Grade]
DIMENSIONS = ["de", "neng", "qin", "ji", "lian"]
EVALUATION = uuid.uuid4()
PEOPLE = [{"name": "张秀英", "post": "主任", "tenure": "elected"}]


@dataclass(frozen=True)
class Entry:
    originator_id: uuid.UUID
    topic: str
    state: bytes


def entry(topic: str, of: uuid.UUID = EVALUATION, **state: Any) -> Entry:
    return Entry(of, topic, json.dumps(state, ensure_ascii=False).encode())


def ballot(code: str, grade: str = "competent", of: uuid.UUID = EVALUATION) -> Entry:
    grades = {"张秀英": dict.fromkeys(DIMENSIONS, grade)}
    return entry(counting.BALLOT_RECEIVED, of, code_sha256=code, grades=grades)


OPENING = [
    entry(counting.OPENED, evaluated=PEOPLE, dimensions=DIMENSIONS, grades=GRADES),
    entry(counting.CODES_COMMITTED, salt="00", code_hashes=["a", "b", "c"]),
]


def counted(entries: list[Entry]) -> tuple[int, dict[str, int]]:
    done = recount(entries, EVALUATION)
    return done["ballots"], done["people"][0]["dimensions"]["de"]


def test_the_topics_are_the_events() -> None:
    assert counting.OPENED == Evaluation.Opened.TOPIC
    assert counting.CODES_COMMITTED == Evaluation.CodesCommitted.TOPIC
    assert counting.VOTING_OPENED == Evaluation.VotingOpened.TOPIC
    assert counting.BALLOT_RECEIVED == Evaluation.BallotReceived.TOPIC
    assert counting.VOTING_CLOSED == Evaluation.VotingClosed.TOPIC
    assert counting.TALLY_PUBLISHED == Evaluation.TallyPublished.TOPIC


def test_only_ballots_cast_while_voting_is_open_count() -> None:
    entries = [
        *OPENING,
        ballot("a", "excellent"),  # before voting opened
        entry(counting.VOTING_OPENED),
        ballot("b"),
        entry(counting.VOTING_CLOSED, ballots=1, codes=3),
        ballot("c", "incompetent"),  # after it closed
    ]
    assert counted(entries) == (1, {"excellent": 0, "competent": 1,
                                    "barely_competent": 0, "incompetent": 0})  # fmt: skip


def test_a_code_counts_once_and_only_if_committed() -> None:
    entries = [
        *OPENING,
        entry(counting.VOTING_OPENED),
        ballot("a", "excellent"),
        ballot("a", "incompetent"),  # the same code again
        ballot("z", "incompetent"),  # never committed
        ballot("b", "incompetent", of=uuid.uuid4()),  # another evaluation's
    ]
    ballots, de = counted(entries)
    assert ballots == 1
    assert de["excellent"] == 1
    assert de["incompetent"] == 0


def test_no_opening_is_no_recount() -> None:
    with pytest.raises(RecountError, match="no evaluation"):
        recount([ballot("a")], EVALUATION)
    assert published_tally(OPENING, EVALUATION) is None


def test_the_published_tally_is_read_as_stored() -> None:
    stored = {"ballots": 0, "codes": 3, "people": []}
    entries = [*OPENING, entry(counting.TALLY_PUBLISHED, tally=stored)]
    assert published_tally(entries, EVALUATION) == stored
    assert published_tally(entries, uuid.uuid4()) is None


def pooled(*counts: int) -> dict[str, int]:
    return dict(zip(GRADES, counts, strict=True))


@pytest.mark.parametrize(
    ("counts", "overall"),
    [
        ((1, 0, 0, 0), "excellent"),
        ((3, 2, 0, 0), "excellent"),  # more than half excellent
        ((2, 2, 0, 0), "competent"),  # exactly half: the lower grade
        ((2, 1, 1, 0), "competent"),
        ((0, 0, 3, 3), "incompetent"),  # half incompetent is incompetent
        ((0, 1, 3, 3), "barely_competent"),
        ((1, 1, 1, 1), "barely_competent"),  # the lower of the two middle grades
        ((0, 0, 0, 5), "incompetent"),
        ((0, 0, 0, 0), None),  # no ballot
    ],
)
def test_the_overall_grade_is_the_median(counts: tuple[int, ...], overall: str | None) -> None:
    assert overall_grade(pooled(*counts), GRADES) == overall


def test_a_tally_of_no_ballots_counts_zero_everywhere() -> None:
    done = tally(PEOPLE, DIMENSIONS, GRADES, [], codes=2)
    assert (done["ballots"], done["codes"]) == (0, 2)
    (person,) = done["people"]
    assert person["overall"] is None
    assert person["pooled"] == pooled(0, 0, 0, 0)
    assert set(person["dimensions"]) == set(DIMENSIONS)
