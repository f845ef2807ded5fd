"""The rules of residents' meetings and representatives' meetings (居民会议 / 居民代表会议)
[003 《社区居民或居民代表决策会议制度》 四、五、六], as integer arithmetic: a fraction of
people is compared by cross-multiplying, never with floats, so that "exactly two thirds"
is exact.

* A meeting is called by the residents' committee, or when one fifth or more of the
  representatives propose it (五分之一以上的居民代表提议) [四].
* Those who attend are told, with the agenda, at least three days before (召开前三天通知)
  [五]: 72 hours from the notice to the meeting's start.
* It may be held only with more than half of its members present (过半数出席) [五]:
  exactly half is not enough.
* A resolution takes effect with two thirds or more of those present (出席会议人员的三分之二
  以上通过) [六]: exactly two thirds passes; abstentions and absent votes count against.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

#: How long before the meeting its notice is posted, at least [003 五].
NOTICE: Final = dt.timedelta(days=3)


def proposal_suffices(proposers: int, representatives: int) -> bool:
    """Whether ``proposers`` are one fifth or more of ``representatives``."""
    return proposers * 5 >= representatives


def notice_suffices(posted_at: dt.datetime, starts_at: dt.datetime) -> bool:
    """Whether a notice posted at ``posted_at`` is at least three days before the start."""
    return starts_at - posted_at >= NOTICE


def quorate(present: int, members: int) -> bool:
    """Whether ``present`` are more than half of ``members``."""
    return present * 2 > members


def resolution_passes(votes_for: int, present: int) -> bool:
    """Whether ``votes_for`` are two thirds or more of those ``present``."""
    return votes_for * 3 >= present * 2
