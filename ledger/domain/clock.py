"""The time the ledger records: now, unless a caller holds the clock at a time of its
story.

Every event is stamped with :func:`now` (through :class:`ledger.domain.base.LedgerAggregate`),
and so is every China date the commands judge by (:func:`ledger.domain.working_days.china_date`).
The demo community holds it, so that its six months of history are stamped when they
happen in the story and not all at the moment the demo is made; tests hold it to
make a record on a calendar of their own. The held time is the caller's context's
alone (a :class:`contextvars.ContextVar`): a service's other requests and its worker
keep the real time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ledger.errors import InvalidInputError


@dataclass(slots=True)
class HeldClock:
    """A clock a caller moves: the time every event is stamped with while it is held."""

    time: dt.datetime

    def set(self, time: dt.datetime) -> None:
        self.time = _utc(time)


_HELD: ContextVar[HeldClock | None] = ContextVar("gongkai_held_clock", default=None)


def now() -> dt.datetime:
    """The held time if a caller holds the clock, else the current time (UTC)."""
    held = _HELD.get()
    return held.time if held is not None else dt.datetime.now(dt.UTC)


@contextmanager
def held_at(time: dt.datetime) -> Iterator[HeldClock]:
    """Hold the clock at ``time`` (aware) until the block ends; the block moves it on
    with :meth:`HeldClock.set`."""
    clock = HeldClock(_utc(time))
    token = _HELD.set(clock)
    try:
        yield clock
    finally:
        _HELD.reset(token)


def _utc(time: dt.datetime) -> dt.datetime:
    if time.tzinfo is None:
        raise InvalidInputError("a time without its time zone is ambiguous", field="now")
    return time.astimezone(dt.UTC)
