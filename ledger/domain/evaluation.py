"""A democratic evaluation (民主评议) of the residents' committee's elected members and
hired full-time staff [003 《社区民主评议社区居委会成员制度》, 002], held in June or in
December, on the five dimensions 德 能 勤 绩 廉, by an anonymous ballot (无记名投票) whose
forms the street office (街道) prints, hands out and counts.

Its life, in the community's chain:

1. :class:`Evaluation.Opened` by the street (its disciplinary committee's auditor) or
   the clerk, for a year and a round (June or December), listing those evaluated (each
   with name, post, and whether elected or hired), the dimensions and the grades.
2. :class:`Evaluation.ReportRecorded`: each person's written report (述职述廉), its
   file's SHA-256; optional, before voting opens.
3. :class:`Evaluation.CodesCommitted`: once, before voting, the SHA-256 of each one-time
   ballot code printed on the forms, salted for this evaluation (``SHA-256(salt ‖
   code)``, the salt in the event), in sorted order, so that the record cannot tell
   which form was handed to whom first. The codes themselves are stored nowhere.
4. :class:`Evaluation.VotingOpened`, within the round's month (China date).
5. :class:`Evaluation.BallotReceived`: one per code, holding only the code's salted
   hash and a grade for every person on every dimension.
6. :class:`Evaluation.VotingClosed`.
7. :class:`Evaluation.TallyPublished`: the counts, computed here from the ballots
   received (:func:`ledger.domain.evaluation_tally.tally`), never taken from a caller;
   anyone can recount them from the chain (:func:`~ledger.domain.evaluation_tally.recount`).
8. :class:`Evaluation.ConsequencesRecorded`: from the published grades, 优秀 commended
   (表彰), 基本合格 admonished (诫勉), 不合格 a recall motion (罢免动议) [003 四.4]. The
   recall itself is a matter for a residents' meeting, which this does not call.

Anonymity. Every event names its actor and role (:class:`~ledger.domain.base.Actor`);
a ballot names :data:`BALLOT`, the same fixed actor for every ballot whoever entered it
(a representative with their code, or the street typing in a paper form), so that no
account, name or session is ever stored with a ballot. The application also runs the
ballot command under that actor with a key of no meaning, so that the commands table
does not tie it to an account either. What a ballot still carries is its time and its
place in the chain: a voter who types their code while someone watches the clock can
be linked by that watcher, as with a paper ballot box watched; entering paper forms in
a batch, shuffled, avoids it.

Each refusal names its rule and raises before any event is recorded.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain import evaluation_tally as counting
from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.vocabulary import Role
from ledger.domain.working_days import china_date
from ledger.errors import InvalidInputError, InvalidTransitionError

#: Who every ballot is recorded as cast by: no one (see the module's "Anonymity").
BALLOT: Final = Actor("ballot", Role.SYSTEM)

#: The months evaluations are held in [003 二: 每年的6月和12月].
ROUNDS: Final = (6, 12)


class Dimension(StrEnum):
    """What is evaluated [003 三]."""

    INTEGRITY = "de"  # 德 政治素质和思想作风
    ABILITY = "neng"  # 能 领导能力、工作能力和业务水平
    DILIGENCE = "qin"  # 勤 工作态度和工作作风
    RESULTS = "ji"  # 绩 工作成绩
    PROBITY = "lian"  # 廉 坚持原则、办事公道、廉洁清正


DIMENSION_NAMES: Final[dict[Dimension, str]] = {
    Dimension.INTEGRITY: "德",
    Dimension.ABILITY: "能",
    Dimension.DILIGENCE: "勤",
    Dimension.RESULTS: "绩",
    Dimension.PROBITY: "廉",
}


class Grade(StrEnum):
    """The four grades, best first [003 四.3]."""

    EXCELLENT = "excellent"  # 优秀
    COMPETENT = "competent"  # 合格
    BARELY = "barely_competent"  # 基本合格
    INCOMPETENT = "incompetent"  # 不合格


GRADE_NAMES: Final[dict[Grade, str]] = {
    Grade.EXCELLENT: "优秀",
    Grade.COMPETENT: "合格",
    Grade.BARELY: "基本合格",
    Grade.INCOMPETENT: "不合格",
}


class Tenure(StrEnum):
    """Who is evaluated [003 一]."""

    ELECTED = "elected"  # 民主选举产生的居委会成员
    HIRED = "hired"  # 招聘的专职工作者


class Consequence(StrEnum):
    COMMENDATION = "commendation"  # 表彰 (优秀)
    ADMONITION = "admonition"  # 诫勉 (基本合格)
    RECALL_MOTION = "recall_motion"  # 罢免动议 (不合格)


CONSEQUENCES: Final[dict[Grade, Consequence]] = {
    Grade.EXCELLENT: Consequence.COMMENDATION,
    Grade.BARELY: Consequence.ADMONITION,
    Grade.INCOMPETENT: Consequence.RECALL_MOTION,
}


class EvaluationStatus(StrEnum):
    OPENED = "opened"  # 已启动
    CODES_COMMITTED = "codes_committed"  # 测评码已登记
    VOTING = "voting"  # 投票中
    CLOSED = "closed"  # 投票结束
    PUBLISHED = "published"  # 结果已公布
    CONCLUDED = "concluded"  # 结果已运用


def evaluation_id(community_id: str, year: int, month: int) -> UUID:
    """The one evaluation of a community's round."""
    return uuid5(NAMESPACE_URL, f"gongkai:evaluation:{community_id}:{year:04d}-{month:02d}")


class Evaluation(LedgerAggregate):
    """One round of democratic evaluation in one community."""

    class Opened(LedgerAggregate.Created):
        TOPIC = counting.OPENED
        actor: str
        actor_role: str
        year: int
        month: int  # 6 or 12
        evaluated: list[dict[str, str]]  # name, post, tenure
        dimensions: list[str]
        grades: list[str]  # best first

        def apply(self, aggregate: Any) -> None:
            aggregate.year = self.year
            aggregate.month = self.month
            aggregate.evaluated = self.evaluated
            aggregate.dimensions = self.dimensions
            aggregate.grades = self.grades

    class ReportRecorded(LedgerAggregate.Event):
        TOPIC = "gongkai/evaluation/report-recorded"
        person: str
        sha256: str  # the written report (书面述职述廉报告), as uploaded

        def apply(self, aggregate: Any) -> None:
            aggregate.reports[self.person] = self.sha256

    class CodesCommitted(LedgerAggregate.Event):
        TOPIC = counting.CODES_COMMITTED
        salt: str  # hex; each hash is SHA-256(salt bytes ‖ code as ASCII)
        code_hashes: list[str]  # sorted

        def apply(self, aggregate: Any) -> None:
            aggregate.salt = self.salt
            aggregate.committed = set(self.code_hashes)
            aggregate.status = EvaluationStatus.CODES_COMMITTED

    class VotingOpened(LedgerAggregate.Event):
        TOPIC = counting.VOTING_OPENED

        def apply(self, aggregate: Any) -> None:
            aggregate.status = EvaluationStatus.VOTING

    class BallotReceived(LedgerAggregate.Event):
        TOPIC = counting.BALLOT_RECEIVED
        code_sha256: str
        grades: dict[str, dict[str, str]]  # person's name → dimension → grade

        def apply(self, aggregate: Any) -> None:
            aggregate.used.add(self.code_sha256)
            aggregate.ballots.append(self.grades)

    class VotingClosed(LedgerAggregate.Event):
        TOPIC = counting.VOTING_CLOSED
        ballots: int
        codes: int

        def apply(self, aggregate: Any) -> None:
            aggregate.status = EvaluationStatus.CLOSED

    class TallyPublished(LedgerAggregate.Event):
        TOPIC = counting.TALLY_PUBLISHED
        tally: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            aggregate.tally = self.tally
            aggregate.status = EvaluationStatus.PUBLISHED

    class ConsequencesRecorded(LedgerAggregate.Event):
        TOPIC = "gongkai/evaluation/consequences-recorded"
        consequences: list[dict[str, str]]  # name, grade, consequence
        note: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = EvaluationStatus.CONCLUDED

    year: int
    month: int
    evaluated: list[dict[str, str]]
    dimensions: list[str]
    grades: list[str]

    def __init__(self, **_: Any) -> None:
        self.status = EvaluationStatus.OPENED
        self.reports: dict[str, str] = {}
        self.salt = ""
        self.committed: set[str] = set()
        self.used: set[str] = set()
        self.ballots: list[dict[str, dict[str, str]]] = []
        self.tally: dict[str, Any] | None = None

    @classmethod
    def open(
        cls,
        actor: Actor,
        community_id: str,
        *,
        year: int,
        month: int,
        evaluated: list[tuple[str, str, Tenure]],
    ) -> Evaluation:
        """Open the round of ``year`` and ``month`` (6 or 12) evaluating ``evaluated``
        (name, post, tenure), on the five dimensions and in the four grades."""
        if month not in ROUNDS:
            raise InvalidInputError(
                f"month {month} is no round: evaluations are held in June and December "
                "(每年的6月和12月) [003 二]",
                field="month",
            )
        this_year = china_date().year
        if not this_year - 1 <= year <= this_year + 1:
            raise InvalidInputError(f"{year} is not this year, the last or the next", field="year")
        if not evaluated:
            raise InvalidInputError("an evaluation evaluates someone", field="evaluated")
        names = [name for name, _, _ in evaluated]
        if len(set(names)) != len(names):
            raise InvalidInputError(
                "a person is evaluated once: tell two people of the same name apart in "
                "their names",
                field="evaluated",
            )
        return cls._create(
            cls.Opened,
            id=evaluation_id(community_id, year, month),
            **actor.event_fields(),
            year=year,
            month=month,
            evaluated=[
                {"name": name, "post": post, "tenure": tenure.value}
                for name, post, tenure in evaluated
            ],
            dimensions=[d.value for d in Dimension],
            grades=[g.value for g in Grade],
        )

    @property
    def names(self) -> list[str]:
        return [p["name"] for p in self.evaluated]

    def record_report(self, actor: Actor, person: str, sha256: str) -> None:
        """``person``'s written report (述职述廉), before voting opens; once."""
        if person not in self.names:
            raise InvalidInputError(f"{person} is not evaluated in this round", field="person")
        if self.status not in (EvaluationStatus.OPENED, EvaluationStatus.CODES_COMMITTED):
            raise InvalidTransitionError(
                "the reports come before the vote [003 四.1]: voting has already opened"
            )
        if person in self.reports:
            raise InvalidTransitionError(f"{person}'s report is already recorded")
        self.act(self.ReportRecorded, actor, person=person, sha256=sha256)

    def commit_codes(self, actor: Actor, salt: str, code_hashes: list[str]) -> None:
        """The salted hashes of the forms' one-time codes; once, before voting."""
        if self.status is not EvaluationStatus.OPENED:
            raise InvalidTransitionError(
                "the ballot codes are committed once, before voting opens"
            )
        if not code_hashes or len(set(code_hashes)) != len(code_hashes):
            raise InvalidInputError("the codes are distinct, and there is one at least",
                                    field="code_hashes")  # fmt: skip
        self.act(self.CodesCommitted, actor, salt=salt, code_hashes=sorted(code_hashes))

    def open_voting(self, actor: Actor) -> None:
        """Voting opens, in the round's month (China date), once the codes are committed."""
        if self.status is EvaluationStatus.OPENED:
            raise InvalidTransitionError(
                "no ballot codes are committed yet: commit them before voting opens, so "
                "that no code can be added once ballots are cast"
            )
        if self.status is not EvaluationStatus.CODES_COMMITTED:
            raise InvalidTransitionError(f"voting opens once; the evaluation is {self.status}")
        today = china_date()
        if (today.year, today.month) != (self.year, self.month):
            raise InvalidTransitionError(
                f"it is {today.isoformat()} in China: the round of "
                f"{self.year}-{self.month:02d} is voted in that month [003 二]"
            )
        self.act(self.VotingOpened, actor)

    def receive_ballot(self, code_sha256: str, grades: dict[str, dict[str, str]]) -> None:
        """One ballot, under its code's salted hash, recorded as cast by :data:`BALLOT`."""
        if self.status in (EvaluationStatus.OPENED, EvaluationStatus.CODES_COMMITTED):
            raise InvalidTransitionError("voting has not opened yet: no ballot is accepted")
        if self.status is not EvaluationStatus.VOTING:
            raise InvalidTransitionError("voting has closed: no ballot is accepted")
        if code_sha256 not in self.committed:
            raise InvalidTransitionError("this code is not one of this evaluation's ballot codes")
        if code_sha256 in self.used:
            raise InvalidTransitionError("a ballot was already cast with this code")
        self._check_marks(grades)
        self.act(self.BallotReceived, BALLOT, code_sha256=code_sha256, grades=grades)

    def _check_marks(self, grades: dict[str, dict[str, str]]) -> None:
        if sorted(grades) != sorted(self.names):
            raise InvalidInputError(
                "a ballot grades every person evaluated, and no one else", field="grades"
            )
        for name, marks in grades.items():
            if not isinstance(marks, dict) or sorted(marks) != sorted(self.dimensions):
                raise InvalidInputError(
                    f"{name} is graded on each of 德 能 勤 绩 廉 ({', '.join(self.dimensions)})",
                    field="grades",
                )
            for dimension, grade in marks.items():
                if grade not in self.grades:
                    raise InvalidInputError(
                        f"{grade!r} ({name}, {dimension}) is not a grade: "
                        f"{', '.join(self.grades)}",
                        field="grades",
                    )

    def close_voting(self, actor: Actor) -> None:
        if self.status is not EvaluationStatus.VOTING:
            raise InvalidTransitionError(f"voting is not open; the evaluation is {self.status}")
        self.act(self.VotingClosed, actor, ballots=len(self.ballots), codes=len(self.committed))

    def count(self) -> dict[str, Any]:
        """The tally of the ballots received so far."""
        return counting.tally(
            self.evaluated, self.dimensions, self.grades, self.ballots, len(self.committed)
        )

    def publish_tally(self, actor: Actor) -> dict[str, Any]:
        """Publish the counts of the ballots received, once voting has closed."""
        if self.status is not EvaluationStatus.CLOSED:
            raise InvalidTransitionError(
                "the tally is published once, after voting closes"
                if self.status is not EvaluationStatus.PUBLISHED
                else "the tally is already published"
            )
        counted = self.count()
        self.act(self.TallyPublished, actor, tally=counted)
        return counted

    def record_consequences(self, actor: Actor, note: str) -> list[dict[str, str]]:
        """What follows from the published grades [003 四.4]: once."""
        if self.tally is None:
            raise InvalidTransitionError("the tally is not published yet")
        if self.status is EvaluationStatus.CONCLUDED:
            raise InvalidTransitionError("the consequences are already recorded")
        following = [
            {"name": p["name"], "grade": p["overall"],
             "consequence": CONSEQUENCES[Grade(p["overall"])].value}
            for p in self.tally["people"]
            if p["overall"] is not None and Grade(p["overall"]) in CONSEQUENCES
        ]  # fmt: skip
        self.act(self.ConsequencesRecorded, actor, consequences=following, note=note)
        return following


register_event_topics(Evaluation)
