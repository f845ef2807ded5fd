"""The chain verifier: recomputes every hash of a community's log from the raw rows.

It reads the rows straight from the store (never through eventsourcing), in ``seq``
order and in constant memory, and checks for each entry k:

1. its ``seq`` is k (no gap, no duplicate);
2. its hash, recomputed over its stored bytes (:mod:`ledger.chain.hashing`), equals the stored
   hash;
3. its ``prev_hash`` equals the hash of entry k - 1 (the genesis hash for k = 1).

At the first entry that fails, the verifier works out what happened, reading on from
there (still in constant memory) when it must:

* **entry inserted**: the genuine entry k is found one place later, or the entry just
  accepted turns out to have pushed the genuine one down;
* **entries reordered**: the genuine entry k is found further on, or two entries traded
  places;
* **entry deleted**: a ``seq`` is missing, or the entry at k is the genuine k + 1;
* **content edited**: anything else, including a row whose hash was recomputed but
  which no longer links to the entry before it.

Given the head a previous run printed (``--expect-head SEQ:HASH``), it also reports a
log that has been cut short (**tail truncated**) or whose entries up to that head have
been rewritten consistently (**tail replaced**).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ledger.chain.hashing import ENTRY_TAG, Head, entry_hash, genesis_hash
from ledger.errors import VerificationError
from ledger.store.backend import Store
from ledger.store.base import RawRow

PROGRESS_EVERY: Final = 50_000
_U64 = struct.Struct(">Q").pack
_U32 = struct.Struct(">I").pack
_sha256 = hashlib.sha256

Progress = Callable[[int, int], None]


class Defect(StrEnum):
    EDITED = "content edited"
    DELETED = "entry deleted"
    INSERTED = "entry inserted"
    REORDERED = "entries reordered"
    TRUNCATED = "tail truncated"
    REPLACED = "tail replaced"


class ChainIntegrityError(VerificationError):
    """The first bad entry of a community's chain: where, and what is wrong."""

    def __init__(self, community_id: str, seq: int, defect: Defect, detail: str) -> None:
        super().__init__(f"{community_id}: entry {seq}: {defect.value}: {detail}")
        self.community_id = community_id
        self.seq = seq
        self.defect = defect
        self.detail = detail


@dataclass(frozen=True, slots=True)
class VerifiedChain:
    """An intact chain: how many entries and its head."""

    community_id: str
    count: int
    head: Head


def _valid_at(seq: int, row: RawRow) -> bool:
    """Whether ``row``'s stored hash is right for its content at position ``seq``.
    Off the hot loop, so it uses the chain's own definition of the layout."""
    _, prev, digest, oid, version, topic, state = row
    try:
        return entry_hash(seq, prev, oid, version, topic, state) == digest
    except (ValueError, struct.error):  # a field out of range: not what was written
        return False


def verify_rows(
    community_id: str,
    rows: Iterable[RawRow],
    *,
    expect_head: Head | None = None,
    total: int = 0,
    on_progress: Progress | None = None,
) -> VerifiedChain:
    """Verify a community's chain from its raw rows in ``seq`` order.

    Returns the count and head when intact; raises :class:`ChainIntegrityError` naming
    the first bad entry otherwise. ``total`` and ``on_progress`` only drive a progress
    display.
    """
    iterator = iter(rows)
    prev_prev = b""
    prev = genesis_hash(community_id)
    expected = 1
    expected_hash: bytes | None = None
    join, tag = b"".join, ENTRY_TAG
    for row in iterator:
        seq, row_prev, row_hash, oid, version, topic, state = row
        if seq != expected:
            if seq > expected:
                raise ChainIntegrityError(
                    community_id,
                    expected,
                    Defect.DELETED,
                    f"entry {expected} is missing; the next stored entry is {seq}",
                )
            raise ChainIntegrityError(
                community_id, seq, Defect.INSERTED, f"a second entry numbered {seq}"
            )
        # The hot loop: ledger.chain.hashing's layout inlined, as this runs once per stored entry.
        try:
            digest = _sha256(
                join(
                    (
                        tag,
                        _U64(seq),
                        row_prev,
                        oid,
                        _U64(version),
                        _U32(len(topic)),
                        topic,
                        _U32(len(state)),
                        state,
                    )
                )
            ).digest()
        except struct.error:  # a version out of range: not what was written
            digest = b""
        if digest != row_hash or row_prev != prev or len(oid) != 16:
            _diagnose(community_id, expected, row, prev, prev_prev, iterator)
        if expect_head is not None and seq == expect_head.seq:
            expected_hash = row_hash
        prev_prev, prev = prev, row_hash
        if on_progress is not None and expected % PROGRESS_EVERY == 0:
            on_progress(expected, total)
        expected += 1
    count = expected - 1
    if on_progress is not None:
        on_progress(count, total)
    head = Head(count, prev if count else b"")
    if expect_head is not None:
        _check_expected_head(community_id, count, expect_head, expected_hash)
    return VerifiedChain(community_id, count, head)


def _check_expected_head(community_id: str, count: int, expect: Head, found: bytes | None) -> None:
    if expect.seq > count:
        raise ChainIntegrityError(
            community_id,
            count + 1,
            Defect.TRUNCATED,
            f"the log ends at entry {count}, but entry {expect.seq} was expected",
        )
    if expect.seq and found != expect.hash:
        raise ChainIntegrityError(
            community_id,
            expect.seq,
            Defect.REPLACED,
            f"entry {expect.seq} has hash {found.hex() if found else 'none'}, "
            f"expected {expect.hash.hex()}: the log up to it was rewritten",
        )


def _diagnose(
    community_id: str,
    k: int,
    row: RawRow,
    prev: bytes,
    prev_prev: bytes,
    rest: Iterator[RawRow],
) -> None:
    """Name the defect at entry ``k``; always raises."""

    def fail(defect: Defect, detail: str, at: int = k) -> ChainIntegrityError:
        return ChainIntegrityError(community_id, at, defect, detail)

    # The entry accepted at k - 1 may have been slipped in: then this row is the
    # genuine entry k - 1, pushed one place down.
    if k > 1 and row[1] == prev_prev and _valid_at(k - 1, row):
        raise fail(
            Defect.INSERTED,
            f"entry {k - 1} is not part of the chain; the genuine entry {k - 1} follows it",
            at=k - 1,
        )
    # Read on for the genuine entry k: the one that links to entry k - 1 and is valid
    # at position k.
    for later in rest:
        if later[1] == prev and _valid_at(k, later):
            found_at = later[0]
            if _valid_at(found_at, row):
                raise fail(Defect.REORDERED, f"entries {k} and {found_at} traded places")
            if found_at == k + 1:
                raise fail(
                    Defect.INSERTED,
                    f"entry {k} is not part of the chain; the genuine entry {k} follows it",
                )
            raise fail(Defect.REORDERED, f"the genuine entry {k} is stored at position {found_at}")
    if row[1] != prev and _valid_at(k + 1, row):
        raise fail(Defect.DELETED, f"entry {k} was removed and the entries after it renumbered")
    if _valid_at(k, row):
        raise fail(Defect.EDITED, f"entry {k} does not link to entry {k - 1}")
    raise fail(Defect.EDITED, f"entry {k}'s stored bytes do not match its hash")


def verify_store(
    store: Store,
    community_id: str,
    *,
    expect_head: Head | None = None,
    on_progress: Progress | None = None,
) -> VerifiedChain:
    """Verify one community's chain as stored; see :func:`verify_rows`."""
    total = store.max_seq(community_id) if on_progress is not None else 0
    return verify_rows(
        community_id,
        store.chain_rows(community_id),
        expect_head=expect_head,
        total=total,
        on_progress=on_progress,
    )
