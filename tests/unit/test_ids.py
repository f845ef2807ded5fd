"""New aggregates' IDs are RFC 9562 version-7 UUIDs: the RFC's own example, the layout
of every bit, and IDs made later sorting after those made earlier."""

from __future__ import annotations

import time
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.ids import new_id, time_ordered_id


def test_the_rfcs_example() -> None:
    # RFC 9562, Appendix A.6: unix_ts_ms 0x017F22E279B0, rand_a 0xCC3,
    # rand_b 0x18C4DC0C0C07398F.
    made = time_ordered_id(0x017F22E279B0, (0xCC3 << 62) | 0x18C4DC0C0C07398F)
    assert made == UUID("017F22E2-79B0-7CC3-98C4-DC0C0C07398F")


@given(ms=st.integers(0, (1 << 48) - 1), bits=st.integers(0, (1 << 74) - 1))
def test_every_field_is_where_the_rfc_puts_it(ms: int, bits: int) -> None:
    made = time_ordered_id(ms, bits)
    assert made.version == 7
    assert made.variant == "specified in RFC 4122"
    assert made.int >> 80 == ms
    rand_a, rand_b = (made.int >> 64) & 0xFFF, made.int & ((1 << 62) - 1)
    assert (rand_a << 62) | rand_b == bits


@pytest.mark.parametrize("ms", [-1, 1 << 48])
def test_a_time_out_of_48_bits_is_refused(ms: int) -> None:
    with pytest.raises(ValueError, match="48 bits"):
        time_ordered_id(ms, 0)


def test_new_ids_begin_with_now_and_sort_by_the_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= first.int >> 80 <= second.int >> 80 <= after
    assert str(first) < str(second), "text order is time order across milliseconds"
    assert len({new_id() for _ in range(1000)}) == 1000
