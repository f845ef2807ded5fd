"""The residents' representatives (居民代表) of a community and their terms: "居民代表由
居民小组组织居民民主选举产生。任期三年，与居委会同时换届，可以连选连任" [003 三].

Each representative is recorded elected for a residents' group (居民小组) from a day,
for three years: the term's last day is the day before the same date three years on,
worked out here and never given by the caller. A representative may leave before. Once
a community keeps this register, a proposal to call a meeting is signed only by
representatives in office, and is counted against how many are in office
(:mod:`ledger.application.meetings`). One register per community
(:func:`representatives_id`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.errors import InvalidTransitionError, NotFoundError

#: Representatives serve three years [003 三].
TERM_YEARS: Final = 3


def representatives_id(community_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"gongkai:{community_id}:representatives")


def term_until(term_from: dt.date) -> dt.date:
    """The last day of a term begun on ``term_from``: three years on, less a day (a term
    begun on 29 February ends on 27 February, the day before 28 February)."""
    try:
        ends = term_from.replace(year=term_from.year + TERM_YEARS)
    except ValueError:  # 29 February, three years on
        ends = dt.date(term_from.year + TERM_YEARS, 2, 28)
    return ends - dt.timedelta(days=1)


class RepresentativesRegister(LedgerAggregate):
    """Who represents the residents, for which group, from when to when."""

    class Opened(LedgerAggregate.Created):
        TOPIC = "gongkai/representatives/register-opened"
        actor: str
        actor_role: str
        community_id: str

    class RepresentativeElected(LedgerAggregate.Event):
        TOPIC = "gongkai/representatives/representative-elected"
        name: str
        group: str  # the residents' group (居民小组) that elected them
        term_from: str  # ISO date
        term_until: str  # ISO date: the term's last day

        def apply(self, aggregate: Any) -> None:
            aggregate.terms.setdefault(self.name, []).append(
                [dt.date.fromisoformat(self.term_from), dt.date.fromisoformat(self.term_until)]
            )

    class RepresentativeLeft(LedgerAggregate.Event):
        TOPIC = "gongkai/representatives/representative-left"
        name: str
        on: str  # ISO date: the first day out of office
        reason: str

        def apply(self, aggregate: Any) -> None:
            last = aggregate.terms[self.name][-1]
            last[1] = dt.date.fromisoformat(self.on) - dt.timedelta(days=1)

    def __init__(self, **_: Any) -> None:
        #: name -> each term's [first day, last day]
        self.terms: dict[str, list[list[dt.date]]] = {}

    @classmethod
    def open(cls, actor: Actor, community_id: str) -> RepresentativesRegister:
        return cls._create(
            cls.Opened, id=representatives_id(community_id), **actor.event_fields(),
            community_id=community_id,
        )  # fmt: skip

    def elect(self, actor: Actor, name: str, group: str, term_from: dt.date) -> dt.date:
        """``name`` elected by ``group`` from ``term_from``; answers the term's last day.
        Re-election (连选连任) starts a new term after the last one."""
        if self.in_office(name, term_from):
            raise InvalidTransitionError(f"{name} is a representative in office on {term_from}")
        ends = term_until(term_from)
        self.act(
            self.RepresentativeElected, actor, name=name, group=group,
            term_from=term_from.isoformat(), term_until=ends.isoformat(),
        )  # fmt: skip
        return ends

    def leave(self, actor: Actor, name: str, on: dt.date, reason: str) -> None:
        if name not in self.terms:
            raise NotFoundError(f"{name} is not a representative")
        begins, ends = self.terms[name][-1]
        if not begins < on <= ends:
            raise InvalidTransitionError(
                f"{name}'s term runs from {begins} to {ends}: they leave within it"
            )
        self.act(self.RepresentativeLeft, actor, name=name, on=on.isoformat(), reason=reason)

    def in_office(self, name: str, day: dt.date) -> bool:
        return any(begins <= day <= ends for begins, ends in self.terms.get(name, []))

    def serving(self, day: dt.date) -> list[str]:
        """The representatives in office on ``day``."""
        return sorted(name for name in self.terms if self.in_office(name, day))


register_event_topics(RepresentativesRegister)
