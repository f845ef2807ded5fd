"""The verifier's diagnosis, on synthetic raw rows: every single tamper is named at the
right entry with the right defect."""

from __future__ import annotations

import os
from dataclasses import dataclass
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.chain.hashing import Head, chain_events, entry_hash
from ledger.chain.verify import ChainIntegrityError, Defect, verify_rows
from ledger.store.base import RawRow

COMMUNITY = "tianhai"


def make_rows(n: int, *, community: str = COMMUNITY, salt: bytes = b"") -> list[RawRow]:
    events = [
        (UUID(int=1 + i // 3), 1 + i % 3, f"gongkai/test/event-{i % 5}", salt + b"state %d" % i)
        for i in range(n)
    ]
    return [
        (
            e.seq,
            e.prev_hash,
            e.hash,
            e.originator_id.bytes,
            e.originator_version,
            e.topic.encode(),
            e.state,
        )
        for e in chain_events(community, Head(0, b""), events)
    ]


def renumber(rows: list[RawRow], start: int, delta: int) -> list[RawRow]:
    return [
        (r[0] + delta, *r[1:]) if r[0] >= start else r  # type: ignore[misc]
        for r in rows
    ]


def diagnose(rows: list[RawRow], expect: Head | None = None) -> ChainIntegrityError:
    with pytest.raises(ChainIntegrityError) as info:
        verify_rows(COMMUNITY, rows, expect_head=expect)
    return info.value


def test_intact_chain_verifies_with_count_and_head() -> None:
    rows = make_rows(10)
    result = verify_rows(COMMUNITY, rows)
    assert result.count == 10
    assert result.head == Head(10, rows[-1][2])


def test_empty_chain_verifies() -> None:
    assert verify_rows(COMMUNITY, []).count == 0


def test_chain_of_another_community_fails_at_entry_one() -> None:
    error = diagnose(make_rows(3, community="other"))
    assert (error.seq, error.defect) == (1, Defect.EDITED)


@dataclass(frozen=True)
class Tamper:
    rows: list[RawRow]
    seq: int
    defect: Defect
    expect: Head | None = None


FIELDS = {
    1: "prev_hash",
    2: "hash",
    3: "originator_id",
    4: "originator_version",
    5: "topic",
    6: "state",
}


@st.composite
def tampers(draw: st.DrawFn) -> Tamper:
    n = draw(st.integers(min_value=2, max_value=40))
    rows = make_rows(n)
    kind = draw(
        st.sampled_from(
            [
                "edit",
                "delete",
                "delete_renumbered",
                "insert",
                "insert_forged",
                "swap",
                "truncate",
                "replace_tail",
            ]
        )
    )
    if kind == "edit":
        k = draw(st.integers(1, n))
        field = draw(st.sampled_from(sorted(FIELDS)))
        row = list(rows[k - 1])
        if field == 4:
            row[4] = row[4] ^ (1 << draw(st.integers(0, 62)))
        else:
            value = bytearray(row[field])
            if not value:
                value = bytearray(b"\x00")
            else:
                i = draw(st.integers(0, len(value) - 1))
                value[i] ^= 1 << draw(st.integers(0, 7))
            row[field] = bytes(value)
        rows[k - 1] = tuple(row)  # type: ignore[assignment]
        return Tamper(rows, k, Defect.EDITED)
    if kind == "delete":
        k = draw(st.integers(1, n - 1))
        return Tamper(rows[: k - 1] + rows[k:], k, Defect.DELETED)
    if kind == "delete_renumbered":
        k = draw(st.integers(1, n - 1))
        return Tamper(renumber(rows[: k - 1] + rows[k:], k + 1, -1), k, Defect.DELETED)
    if kind in ("insert", "insert_forged"):
        k = draw(st.integers(1, n))
        prev = rows[k - 2][2] if k > 1 else rows[0][1]
        oid, topic, state = UUID(int=999).bytes, b"gongkai/forged", draw(st.binary(max_size=20))
        # A forged entry either carries junk, or is made to fit perfectly after k - 1.
        digest = (
            entry_hash(k, prev, oid, 1, topic, state) if kind == "insert_forged" else bytes(32)
        )
        forged: RawRow = (k, prev, digest, oid, 1, topic, state)
        shifted = renumber(rows, k, +1)
        return Tamper([*shifted[: k - 1], forged, *shifted[k - 1 :]], k, Defect.INSERTED)
    if kind == "swap":
        i = draw(st.integers(1, n - 1))
        j = draw(st.integers(i + 1, n))
        a, b = rows[i - 1], rows[j - 1]
        rows[i - 1] = (i, *b[1:])  # type: ignore[assignment]
        rows[j - 1] = (j, *a[1:])  # type: ignore[assignment]
        return Tamper(rows, i, Defect.REORDERED)
    if kind == "truncate":
        keep = draw(st.integers(0, n - 1))
        return Tamper(rows[:keep], keep + 1, Defect.TRUNCATED, Head(n, rows[-1][2]))
    # replace_tail: everything from entry k on rewritten with consistent hashes.
    k = draw(st.integers(1, n))
    forged_rows = make_rows(n + draw(st.integers(0, 3)), salt=b"forged ")
    prefix = rows[: k - 1]
    rechained = _rechain(prefix + forged_rows[k - 1 :])
    return Tamper(rechained, n, Defect.REPLACED, Head(n, rows[-1][2]))


def _rechain(rows: list[RawRow]) -> list[RawRow]:
    """Recompute every link and hash, as an administrator covering their tracks would."""
    out: list[RawRow] = []
    prev = make_rows(1)[0][1]
    for i, (_, _, _, oid, version, topic, state) in enumerate(rows, start=1):
        digest = entry_hash(i, prev, oid, version, topic, state)
        out.append((i, prev, digest, oid, version, topic, state))
        prev = digest
    return out


@settings(max_examples=int(os.environ.get("GONGKAI_HYPOTHESIS_EXAMPLES", "1000")), deadline=None)
@given(tampers())
def test_every_single_tamper_is_named_at_the_right_entry(tamper: Tamper) -> None:
    error = diagnose(tamper.rows, tamper.expect)
    assert (error.seq, error.defect) == (tamper.seq, tamper.defect), error.detail


def test_rewritten_chain_passes_without_an_expected_head() -> None:
    """A full, consistent rewrite is invisible to the chain alone: that is what signed
    checkpoints are for. The expected head is what catches it here."""
    rows = make_rows(5)
    rewritten = _rechain(make_rows(5, salt=b"x"))
    assert verify_rows(COMMUNITY, rewritten).count == 5
    error = diagnose(rewritten, Head(5, rows[-1][2]))
    assert error.defect is Defect.REPLACED


def test_a_duplicated_sequence_number_is_an_insertion() -> None:
    rows = make_rows(4)
    error = diagnose([*rows[:2], rows[1], *rows[2:]])
    assert (error.seq, error.defect) == (2, Defect.INSERTED)


def test_message_names_the_community_entry_and_defect() -> None:
    rows = make_rows(3)
    rows[1] = (*rows[1][:6], b"edited")  # type: ignore[assignment]
    error = diagnose(rows)
    assert str(error) == f"{COMMUNITY}: entry 2: content edited: {error.detail}"
    assert "do not match its hash" in error.detail


def test_progress_is_reported() -> None:
    seen: list[tuple[int, int]] = []
    verify_rows(COMMUNITY, make_rows(3), total=3, on_progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (3, 3)
