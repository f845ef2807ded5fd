"""The community's disclosure calendar (公开目录与时限): what it must disclose, how often,
by when, and to whom. Each obligation is adopted by the clerk and comes into force when
the supervision committee approves it; it may later be retired, with the reason.

The cadences are the seeds' [000, 004 篇九]: finance every month (财务收支情况每月公开),
work execution and targets every quarter, a year-end disclosure, one disclosure per major
matter (一事一公开), the whole process of a matter a residents' meeting decides, starting
before it (事前), and fixed items posted for good (长期公开).

The due rule is a number of days whose meaning the cadence gives (:data:`DUE_RULES`):
for a periodic obligation, the day of the month after the period by which it is posted
("the month's finance by the 10th of the next month": 10); for a matter, the days after
the decision; before the fact, the days before the meeting; a long-term one has none.

Rules the aggregate enforces (each refusal raises before any event is recorded):

* it is approved once, and not after it is retired;
* it is retired once.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Any, Final

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.ids import new_id
from ledger.domain.vocabulary import Scope
from ledger.errors import InvalidInputError, InvalidTransitionError


class Cadence(StrEnum):
    MONTHLY = "monthly"  # 每月公开
    QUARTERLY = "quarterly"  # 每季度公开
    YEAR_END = "year_end"  # 年终公开
    PER_MATTER = "per_matter"  # 一事一公开
    BEFORE_THE_FACT = "before_the_fact"  # 事前公开 (全过程公开)
    LONG_TERM = "long_term"  # 长期公开


#: What an obligation's ``due_days`` means, by cadence, and the range it may take.
DUE_RULES: Final[dict[Cadence, tuple[str, int, int]]] = {
    Cadence.MONTHLY: ("day of the next month", 1, 28),
    Cadence.QUARTERLY: ("day of the month after the quarter", 1, 28),
    Cadence.YEAR_END: ("day of January after the year", 1, 28),
    Cadence.PER_MATTER: ("days after the matter is decided", 0, 60),
    Cadence.BEFORE_THE_FACT: ("days before the meeting that decides", 0, 60),
    Cadence.LONG_TERM: ("none: posted for good", 0, 0),
}


#: The form of a period of each cadence: a month, a quarter, a year, the day a matter was
#: decided or its meeting is held; a long-term obligation has no periods.
PERIOD_FORMS: Final[dict[Cadence, tuple[str, str]]] = {
    Cadence.MONTHLY: (r"\d{4}-(0[1-9]|1[0-2])", "YYYY-MM"),
    Cadence.QUARTERLY: (r"\d{4}Q[1-4]", "YYYYQn"),
    Cadence.YEAR_END: (r"\d{4}", "YYYY"),
    Cadence.PER_MATTER: (r"\d{4}-\d{2}-\d{2}", "the decision's date, YYYY-MM-DD"),
    Cadence.BEFORE_THE_FACT: (r"\d{4}-\d{2}-\d{2}", "the meeting's date, YYYY-MM-DD"),
    Cadence.LONG_TERM: (r"", "empty: a long-term obligation has no periods"),
}


def check_period(cadence: Cadence, period: str) -> str:
    """``period`` if it has the form of ``cadence``'s periods (a date must be a real one)."""
    pattern, form = PERIOD_FORMS[cadence]
    ok = re.fullmatch(pattern, period) is not None
    if ok and "-" in pattern and len(period) == 10:
        try:
            dt.date.fromisoformat(period)
        except ValueError:
            ok = False
    if not ok:
        raise InvalidInputError(
            f"a {cadence.value} obligation's period is {form}, not {period!r}", field="period"
        )
    return period


class ObligationStatus(StrEnum):
    ADOPTED = "adopted"  # 待审核
    IN_FORCE = "in_force"  # 已生效
    RETIRED = "retired"  # 已停用


def check_due_days(cadence: Cadence, due_days: int) -> None:
    meaning, low, high = DUE_RULES[cadence]
    if not low <= due_days <= high:
        raise InvalidInputError(
            f"a {cadence.value} obligation's due_days is the {meaning}: {low} to {high}",
            field="due_days",
        )


class Obligation(LedgerAggregate):
    """One line of the disclosure calendar."""

    class Adopted(LedgerAggregate.Created):
        TOPIC = "gongkai/obligation/adopted"
        actor: str
        actor_role: str
        title: str  # e.g. 每月财务收支明细
        category: str
        cadence: str
        due_days: int
        scope: str
        basis: str  # the rule it follows, e.g. 财务收支情况每月公开 [000]

        def apply(self, aggregate: Any) -> None:
            aggregate.on_adopted(self)

    class Approved(LedgerAggregate.Event):
        TOPIC = "gongkai/obligation/approved"
        opinion: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ObligationStatus.IN_FORCE

    class Retired(LedgerAggregate.Event):
        TOPIC = "gongkai/obligation/retired"
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ObligationStatus.RETIRED

    def __init__(self, **_: Any) -> None:
        self.status = ObligationStatus.ADOPTED

    def on_adopted(self, event: Obligation.Adopted) -> None:
        self.category, self.scope = event.category, event.scope
        self.cadence = Cadence(event.cadence)

    @classmethod
    def adopt(
        cls,
        actor: Actor,
        *,
        title: str,
        category: str,
        cadence: Cadence,
        due_days: int,
        scope: Scope,
        basis: str,
    ) -> Obligation:
        check_due_days(cadence, due_days)
        return cls._create(
            cls.Adopted,
            id=new_id(),
            **actor.event_fields(),
            title=title,
            category=category,
            cadence=cadence.value,
            due_days=due_days,
            scope=scope.value,
            basis=basis,
        )

    def approve(self, actor: Actor, opinion: str) -> None:
        if self.status is not ObligationStatus.ADOPTED:
            raise InvalidTransitionError(f"the obligation is already {self.status.value}")
        self.act(self.Approved, actor, opinion=opinion)

    def retire(self, actor: Actor, reason: str) -> None:
        if self.status is ObligationStatus.RETIRED:
            raise InvalidTransitionError("the obligation is already retired")
        self.act(self.Retired, actor, reason=reason)


register_event_topics(Obligation)
