"""The satisfaction survey (群众满意度测评) held with a democratic evaluation's meeting:
"在召开评测会议的同时，在全体述评代表中进行满意度测评" [002 三.3]. The representatives
answer the community's own questions, each with 满意, 基本满意 or 不满意, on a form whose
one-time code is the only thing that lets it count, exactly as an evaluation's ballot
(:mod:`ledger.domain.evaluation`, whose codes, salts and anonymous actor it shares).

Its life, in the community's chain:

1. :class:`SatisfactionSurvey.Opened` by the street or the clerk, for the round of a year
   and a month (June or December), with its questions (1 to :data:`MAX_QUESTIONS`).
2. :class:`SatisfactionSurvey.CodesCommitted`: once, before answers are taken, the
   salted SHA-256 of each form's code, sorted.
3. :class:`SatisfactionSurvey.VotingOpened`, in the round's month (China date).
4. :class:`SatisfactionSurvey.AnswersReceived`: one per code, holding the code's salted
   hash and one answer per question; cast by
   :data:`~ledger.domain.evaluation.BALLOT`, that is by no one.
5. :class:`SatisfactionSurvey.VotingClosed`.
6. :class:`SatisfactionSurvey.TallyPublished`: per question, how many answered each
   choice, counted here by :func:`survey_tally`; :func:`recount_survey` counts it again
   from chain entries alone.

The counts are integers only: a share of satisfied answers is for the reader to divide.
Each refusal names its rule and raises before any event is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.evaluation import BALLOT, ROUNDS
from ledger.domain.evaluation_tally import ChainEntry, RecountError
from ledger.domain.working_days import china_date
from ledger.errors import InvalidInputError, InvalidTransitionError

#: The most questions one survey asks.
MAX_QUESTIONS: Final = 20

OPENED: Final = "gongkai/survey/opened"
CODES_COMMITTED: Final = "gongkai/survey/codes-committed"
VOTING_OPENED: Final = "gongkai/survey/voting-opened"
ANSWERS_RECEIVED: Final = "gongkai/survey/answers-received"
VOTING_CLOSED: Final = "gongkai/survey/voting-closed"
TALLY_PUBLISHED: Final = "gongkai/survey/tally-published"


class Satisfaction(StrEnum):
    """The three answers to each question, most satisfied first."""

    SATISFIED = "satisfied"  # 满意
    FAIRLY_SATISFIED = "fairly_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


class SurveyStatus(StrEnum):
    OPENED = "opened"
    CODES_COMMITTED = "codes_committed"
    VOTING = "voting"
    CLOSED = "closed"
    PUBLISHED = "published"


def survey_id(community_id: str, year: int, month: int) -> UUID:
    """The one satisfaction survey of a community's round."""
    return uuid5(NAMESPACE_URL, f"gongkai:survey:{community_id}:{year:04d}-{month:02d}")


def survey_tally(
    questions: Sequence[str],
    choices: Sequence[str],
    answers: Iterable[Mapping[str, str]],
    codes: int,
) -> dict[str, Any]:
    """Count ``answers`` (each: a question's index as text → one of ``choices``): per
    question, in order, the number of each choice; and ``ballots`` (counted) and
    ``codes`` (issued)."""
    counts = [dict.fromkeys(choices, 0) for _ in questions]
    cast = 0
    for given in answers:
        cast += 1
        for index, choice in given.items():
            counts[int(index)][choice] += 1
    return {
        "questions": [
            {"question": q, "counts": c} for q, c in zip(questions, counts, strict=True)
        ],
        "ballots": cast,
        "codes": codes,
    }


class SatisfactionSurvey(LedgerAggregate):
    """One round's satisfaction survey in one community."""

    class Opened(LedgerAggregate.Created):
        TOPIC = OPENED
        actor: str
        actor_role: str
        year: int
        month: int
        questions: list[str]
        choices: list[str]

        def apply(self, aggregate: Any) -> None:
            aggregate.year = self.year
            aggregate.month = self.month
            aggregate.questions = self.questions
            aggregate.choices = self.choices

    class CodesCommitted(LedgerAggregate.Event):
        TOPIC = CODES_COMMITTED
        salt: str  # hex; each hash is SHA-256(salt bytes ‖ code as ASCII)
        code_hashes: list[str]  # sorted

        def apply(self, aggregate: Any) -> None:
            aggregate.salt = self.salt
            aggregate.committed = set(self.code_hashes)
            aggregate.status = SurveyStatus.CODES_COMMITTED

    class VotingOpened(LedgerAggregate.Event):
        TOPIC = VOTING_OPENED

        def apply(self, aggregate: Any) -> None:
            aggregate.status = SurveyStatus.VOTING

    class AnswersReceived(LedgerAggregate.Event):
        TOPIC = ANSWERS_RECEIVED
        code_sha256: str
        answers: dict[str, str]  # a question's index as text → a choice

        def apply(self, aggregate: Any) -> None:
            aggregate.used.add(self.code_sha256)
            aggregate.answers.append(self.answers)

    class VotingClosed(LedgerAggregate.Event):
        TOPIC = VOTING_CLOSED
        ballots: int
        codes: int

        def apply(self, aggregate: Any) -> None:
            aggregate.status = SurveyStatus.CLOSED

    class TallyPublished(LedgerAggregate.Event):
        TOPIC = TALLY_PUBLISHED
        tally: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.tally = self.tally
            aggregate.status = SurveyStatus.PUBLISHED

    year: int
    month: int
    questions: list[str]
    choices: list[str]

    def __init__(self, **_: Any) -> None:
        self.status = SurveyStatus.OPENED
        self.salt = ""
        self.committed: set[str] = set()
        self.used: set[str] = set()
        self.answers: list[dict[str, str]] = []
        self.tally: dict[str, Any] | None = None

    @classmethod
    def open(
        cls, actor: Actor, community_id: str, *, year: int, month: int, questions: list[str]
    ) -> SatisfactionSurvey:
        """Open the survey of ``year``-``month`` (6 or 12) asking ``questions``."""
        if month not in ROUNDS:
            raise InvalidInputError(
                f"month {month} is no round: the survey is held with the evaluation, in "
                "June or December (每年的6月和12月)",
                field="month",
            )
        this_year = china_date().year
        if not this_year - 1 <= year <= this_year + 1:
            raise InvalidInputError(f"{year} is not this year, the last or the next", field="year")
        if not 1 <= len(questions) <= MAX_QUESTIONS:
            raise InvalidInputError(f"a survey asks 1 to {MAX_QUESTIONS} questions",
                                    field="questions")  # fmt: skip
        if len(set(questions)) != len(questions):
            raise InvalidInputError("each question is asked once", field="questions")
        return cls._create(
            cls.Opened,
            id=survey_id(community_id, year, month),
            **actor.event_fields(),
            year=year,
            month=month,
            questions=list(questions),
            choices=[s.value for s in Satisfaction],
        )

    def commit_codes(self, actor: Actor, salt: str, code_hashes: list[str]) -> None:
        """The salted hashes of the forms' one-time codes; once, before answers."""
        if self.status is not SurveyStatus.OPENED:
            raise InvalidTransitionError("the codes are committed once, before voting opens")
        if not code_hashes or len(set(code_hashes)) != len(code_hashes):
            raise InvalidInputError("the codes are distinct, and there is one at least",
                                    field="code_hashes")  # fmt: skip
        self.act(self.CodesCommitted, actor, salt=salt, code_hashes=sorted(code_hashes))

    def open_voting(self, actor: Actor) -> None:
        """Answers are taken from now, in the round's month, once the codes are committed."""
        if self.status is SurveyStatus.OPENED:
            raise InvalidTransitionError(
                "no codes are committed yet: commit them before voting opens, so that no "
                "code can be added once answers are in"
            )
        if self.status is not SurveyStatus.CODES_COMMITTED:
            raise InvalidTransitionError(f"voting opens once; the survey is {self.status}")
        today = china_date()
        if (today.year, today.month) != (self.year, self.month):
            raise InvalidTransitionError(
                f"it is {today.isoformat()} in China: the survey of "
                f"{self.year}-{self.month:02d} is taken in that month"
            )
        self.act(self.VotingOpened, actor)

    def receive_answers(self, code_sha256: str, answers: dict[str, str]) -> None:
        """One form's answers, under its code's salted hash, cast by no one."""
        if self.status in (SurveyStatus.OPENED, SurveyStatus.CODES_COMMITTED):
            raise InvalidTransitionError("voting has not opened yet: no answer is taken")
        if self.status is not SurveyStatus.VOTING:
            raise InvalidTransitionError("voting has closed: no answer is taken")
        if code_sha256 not in self.committed:
            raise InvalidTransitionError("this code is not one of this survey's codes")
        if code_sha256 in self.used:
            raise InvalidTransitionError("this code has already been used")
        if sorted(answers) != sorted(str(i) for i in range(len(self.questions))):
            raise InvalidInputError("a form answers every question, once", field="answers")
        if not set(answers.values()) <= set(self.choices):
            raise InvalidInputError(
                f"each answer is one of {', '.join(self.choices)}", field="answers"
            )
        self.act(self.AnswersReceived, BALLOT, code_sha256=code_sha256, answers=answers)

    def close_voting(self, actor: Actor) -> None:
        if self.status is not SurveyStatus.VOTING:
            raise InvalidTransitionError(f"voting is not open; the survey is {self.status}")
        self.act(self.VotingClosed, actor, ballots=len(self.answers), codes=len(self.committed))

    def publish_tally(self, actor: Actor) -> dict[str, Any]:
        """Publish the counts of the answers received, once voting has closed."""
        if self.status is SurveyStatus.PUBLISHED:
            raise InvalidTransitionError("the tally is already published")
        if self.status is not SurveyStatus.CLOSED:
            raise InvalidTransitionError("the tally is published once, after voting closes")
        counted = survey_tally(self.questions, self.choices, self.answers, len(self.committed))
        self.act(self.TallyPublished, actor, tally=counted)
        return counted


register_event_topics(SatisfactionSurvey)


def recount_survey(entries: Iterable[ChainEntry], survey: UUID | str) -> dict[str, Any]:
    """The tally of ``survey`` from chain entries alone: a form counts only while voting
    was open, with a committed code not used before."""
    wanted = str(survey)
    opened: dict[str, Any] | None = None
    committed: set[str] = set()
    voting = False
    used: set[str] = set()
    answers: list[dict[str, str]] = []
    for entry in entries:
        if str(entry.originator_id) != wanted:
            continue
        state = json.loads(entry.state)
        if entry.topic == OPENED:
            opened = state
        elif entry.topic == CODES_COMMITTED:
            committed.update(state["code_hashes"])
        elif entry.topic in (VOTING_OPENED, VOTING_CLOSED):
            voting = entry.topic == VOTING_OPENED
        elif entry.topic == ANSWERS_RECEIVED:
            code = state["code_sha256"]
            if voting and code in committed and code not in used:
                used.add(code)
                answers.append(state["answers"])
    if opened is None:
        raise RecountError(f"the chain holds no survey {wanted}")
    # The questions and choices are the opening's, as the chain holds them.
    return survey_tally(opened["questions"], opened["choices"], answers, len(committed))
