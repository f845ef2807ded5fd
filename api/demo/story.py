"""The demo's acts on the clock of its story: each act is scheduled at the China time
it happens, then all are played in time order with the ledger's clock held at each
one's time (:mod:`ledger.domain.clock`), so that the chain's stamps never go back.

The story ends in today's month, and its acts there may be scheduled after ``now``
(the demo made on the 2nd of a month whose postings run to the 5th). Then that month's
part is played faster: each of its acts keeps its order and lands between the month's
first moment and ``now``, so that nothing is stamped in the future. The months before
are always played at their times. No act is stamped before ``floor`` (what the chain
already holds, from an earlier run): a later run's new acts come after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from ledger.domain import clock
from ledger.domain.working_days import CHINA_TIME

Act = Callable[[dt.datetime], object]


@dataclass(slots=True)
class Story:
    """Acts scheduled by time; ``anchor`` is the first day of today's month."""

    anchor: dt.date
    now: dt.datetime
    _acts: list[tuple[dt.datetime, int, Act]] = field(default_factory=list)

    @staticmethod
    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """A China time of the story."""
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA_TIME)

    def schedule(self, when: dt.datetime, act: Act) -> None:
        """Do ``act`` at ``when``; it is given the time it is played at. Acts of the same
        time are played in the order scheduled."""
        self._acts.append((when, len(self._acts), act))

    def play(self, floor: dt.datetime | None = None) -> None:
        """Every act in time order, the ledger's clock held at each one's time."""
        acts = sorted(self._acts, key=lambda a: (a[0], a[1]))
        played = self._played_at([when for when, _, _ in acts])
        start = played[0] if played else self.now
        with clock.held_at(start) as held:
            for when, (_, _, act) in zip(played, acts, strict=True):
                stamp = max(when, floor) if floor is not None else when
                held.set(stamp)
                act(stamp)

    def _played_at(self, times: list[dt.datetime]) -> list[dt.datetime]:
        """Each time as played: the month of ``anchor`` squeezed to end by ``now``."""
        begin = dt.datetime.combine(self.anchor, dt.time(), tzinfo=CHINA_TIME)
        last = max(times, default=begin)
        if last <= self.now or last <= begin:
            return times
        ratio = (self.now - begin) / (last - begin)
        return [t if t < begin else begin + (t - begin) * ratio for t in times]
