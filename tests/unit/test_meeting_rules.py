"""The rules of residents' meetings at their boundaries, each outcome written by hand
[003 四、五、六]: a quorum of exactly half (no meeting) and one more; a resolution at
exactly two thirds (passes) and one vote short; a proposal by one fifth of the
representatives and by one fewer; a notice three days before and 2 days 23 hours."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.domain.meeting_rules import (
    notice_suffices,
    proposal_suffices,
    quorate,
    resolution_passes,
)

CHINA = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    ("present", "members", "valid"),
    [
        (22, 44, False),  # exactly half
        (23, 44, True),  # one more
        (22, 45, False),  # under half of an odd number
        (23, 45, True),
        (0, 1, False),
        (1, 1, True),
    ],
)
def test_a_meeting_needs_more_than_half_of_its_members(
    present: int, members: int, valid: bool
) -> None:
    assert quorate(present, members) is valid


@pytest.mark.parametrize(
    ("votes_for", "present", "passes"),
    [
        (28, 42, True),  # exactly two thirds
        (27, 42, False),  # one vote short
        (28, 41, True),  # 28/41 is above two thirds (27.33 needed)
        (27, 41, False),  # 27/41 is under it
        (2, 3, True),
        (1, 3, False),
        (30, 45, True),
        (29, 45, False),
    ],
)
def test_a_resolution_needs_two_thirds_of_those_present(
    votes_for: int, present: int, passes: bool
) -> None:
    assert resolution_passes(votes_for, present) is passes


@pytest.mark.parametrize(
    ("proposers", "representatives", "suffices"),
    [
        (9, 45, True),  # exactly one fifth
        (8, 45, False),  # just under
        (10, 46, True),  # 46/5 = 9.2: ten are needed
        (9, 46, False),
    ],
)
def test_a_meeting_is_called_on_the_proposal_of_one_fifth(
    proposers: int, representatives: int, suffices: bool
) -> None:
    assert proposal_suffices(proposers, representatives) is suffices


@pytest.mark.parametrize(
    ("posted", "suffices"),
    [
        (dt.datetime(2026, 12, 14, 14, 30, tzinfo=CHINA), True),  # 3 days exactly
        (dt.datetime(2026, 12, 14, 15, 30, tzinfo=CHINA), False),  # 2 days 23 hours
        (dt.datetime(2026, 12, 14, 14, 31, tzinfo=CHINA), False),  # a minute short
        (dt.datetime(2026, 12, 1, 9, tzinfo=CHINA), True),
        # The same moment in UTC: time zones do not move the boundary.
        (dt.datetime(2026, 12, 14, 6, 30, tzinfo=dt.UTC), True),
    ],
)
def test_the_notice_is_posted_three_days_before(posted: dt.datetime, suffices: bool) -> None:
    starts = dt.datetime(2026, 12, 17, 14, 30, tzinfo=CHINA)
    assert notice_suffices(posted, starts) is suffices
