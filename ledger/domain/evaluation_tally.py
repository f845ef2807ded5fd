"""The tally of a democratic evaluation (民主评议), and its recount from the chain alone.

:func:`tally` is the one rule of counting, used both by the
:class:`~ledger.domain.evaluation.Evaluation` aggregate when it publishes its tally and
by :func:`recount`, which anyone holding a copy of the chain's entries (topic and JSON
state, as ``CommunityLedger.entries()`` or the events table gives them) can run without
gongkai's application or its database: it reads the evaluation's opening (who is
evaluated, on which dimensions, in which grades), the committed code hashes, and the
ballots, and applies the ballot rules again on its own: a ballot counts only if it came
after voting opened and before it closed, its code's salted hash was committed, and
that code had not been used before.

The tally, per person evaluated (in the order of the opening):

* ``dimensions``: for each of 德 能 勤 绩 廉, the number of ballots giving each grade;
* ``pooled``: the same counts summed over the five dimensions;
* ``overall``: the person's grade (测评结果), the *median* of the pooled grades: the
  best grade that, counted with the grades better than it, has more than half of the
  pooled votes. Half excellent and half competent is therefore competent (ties go to
  the lower grade); a person is 不合格 only when at least half of the pooled votes are
  不合格. ``None`` when no ballot was cast.

and for the whole: ``ballots`` (counted) and ``codes`` (committed, i.e. forms issued).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

#: The topics :func:`recount` reads (the event classes' TOPIC, repeated here so that a
#: recount needs nothing but this module; tests check they agree).
OPENED = "gongkai/evaluation/opened"
CODES_COMMITTED = "gongkai/evaluation/codes-committed"
VOTING_OPENED = "gongkai/evaluation/voting-opened"
BALLOT_RECEIVED = "gongkai/evaluation/ballot-received"
VOTING_CLOSED = "gongkai/evaluation/voting-closed"
TALLY_PUBLISHED = "gongkai/evaluation/tally-published"

Tally = dict[str, Any]


class ChainEntry(Protocol):
    """What a recount reads of one chain entry."""

    @property
    def originator_id(self) -> UUID: ...

    @property
    def topic(self) -> str: ...

    @property
    def state(self) -> bytes: ...


def overall_grade(pooled: Mapping[str, int], grades: Sequence[str]) -> str | None:
    """The median of the pooled votes, ``grades`` listed best first (see the module)."""
    total = sum(pooled.get(g, 0) for g in grades)
    if total == 0:
        return None
    counted = 0
    for grade in grades:
        counted += pooled.get(grade, 0)
        if 2 * counted > total:
            return grade
    raise AssertionError("unreachable: the last grade holds every vote")


def tally(
    evaluated: Sequence[Mapping[str, str]],
    dimensions: Sequence[str],
    grades: Sequence[str],
    ballots: Iterable[Mapping[str, Mapping[str, str]]],
    codes: int,
) -> Tally:
    """Count ``ballots`` (each: person's name → dimension → grade) of an evaluation of
    ``evaluated`` (each with its ``name`` and ``post``)."""
    counts = {p["name"]: {d: dict.fromkeys(grades, 0) for d in dimensions} for p in evaluated}
    cast = 0
    for ballot in ballots:
        cast += 1
        for name, marks in ballot.items():
            for dimension, grade in marks.items():
                counts[name][dimension][grade] += 1
    people = []
    for person in evaluated:
        per_dimension = counts[person["name"]]
        pooled = {g: sum(per_dimension[d][g] for d in dimensions) for g in grades}
        people.append(
            {
                "name": person["name"],
                "post": person["post"],
                "dimensions": per_dimension,
                "pooled": pooled,
                "overall": overall_grade(pooled, grades),
            }
        )
    return {"ballots": cast, "codes": codes, "people": people}


class RecountError(ValueError):
    """The chain holds no such evaluation, or not a countable one."""


def recount(entries: Iterable[ChainEntry], evaluation_id: UUID | str) -> Tally:
    """The tally of evaluation ``evaluation_id`` computed from chain entries alone."""
    wanted = str(evaluation_id)
    opened: dict[str, Any] | None = None
    committed: set[str] = set()
    voting = False
    used: set[str] = set()
    ballots: list[dict[str, dict[str, str]]] = []
    for entry in entries:
        if str(entry.originator_id) != wanted:
            continue
        state = json.loads(entry.state)
        if entry.topic == OPENED:
            opened = state
        elif entry.topic == CODES_COMMITTED:
            committed.update(state["code_hashes"])
        elif entry.topic == VOTING_OPENED:
            voting = True
        elif entry.topic == VOTING_CLOSED:
            voting = False
        elif entry.topic == BALLOT_RECEIVED:
            code = state["code_sha256"]
            if voting and code in committed and code not in used:
                used.add(code)
                ballots.append(state["grades"])
    if opened is None:
        raise RecountError(f"the chain holds no evaluation {wanted}")
    return tally(
        opened["evaluated"], opened["dimensions"], opened["grades"], ballots, len(committed)
    )


def published_tally(entries: Iterable[ChainEntry], evaluation_id: UUID | str) -> Tally | None:
    """The tally evaluation ``evaluation_id`` published on the chain, or None."""
    wanted = str(evaluation_id)
    found: Tally | None = None
    for entry in entries:
        if entry.topic == TALLY_PUBLISHED and str(entry.originator_id) == wanted:
            state = json.loads(entry.state)
            found = state["tally"]
    return found
