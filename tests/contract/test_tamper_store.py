"""Tampering with the stored rows themselves, as a database administrator could, on both
backends: the verifier reads the raw rows and names the first bad entry and its defect."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ledger.application import CommunityLedger
from ledger.chain.hashing import Head, entry_hash
from ledger.chain.verify import ChainIntegrityError, Defect, verify_store
from ledger.store.backend import Store
from tests.contract.test_ledger_contract import CLERK, VOUCHER, key, posted
from tests.rawdb import RawTable, Row

EXAMPLES = int(os.environ.get("GONGKAI_HYPOTHESIS_DB_EXAMPLES", "150"))


def fill(ledger: CommunityLedger) -> None:
    posted(ledger)
    for month in range(1, 7):
        ledger.record_entry(
            CLERK,
            key(),
            kind="income",
            amount_fen=1_000_000 + month,
            account="grant",
            counterparty="街道办事处",
            voucher_sha256=VOUCHER,
            period=f"2026-{month:02d}",
        )


def _oid_bytes(value: Any) -> bytes:
    return value.bytes if isinstance(value, uuid.UUID) else bytes.fromhex(value)


def _with_oid(template: Any, raw_bytes: bytes) -> Any:
    return uuid.UUID(bytes=raw_bytes) if isinstance(template, uuid.UUID) else raw_bytes.hex()


def _flip(value: Any, draw: st.DrawFn) -> Any:
    """One small change to one stored value, in its stored type."""
    if isinstance(value, bool | int):
        return value + (1 << draw(st.integers(0, 40)))
    if isinstance(value, uuid.UUID):
        data = bytearray(value.bytes)
        data[draw(st.integers(0, 15))] ^= 1 << draw(st.integers(0, 7))
        return uuid.UUID(bytes=bytes(data))
    if isinstance(value, str):
        i = draw(st.integers(0, len(value) - 1))
        replacement = draw(st.sampled_from("0123456789abcdefXYZ-/"))
        if replacement == value[i]:
            replacement = "Q"
        return value[:i] + replacement + value[i + 1 :]
    data = bytearray(value)
    data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


@dataclass(frozen=True)
class StoredTamper:
    rows: list[Row]
    seq: int
    defect: Defect


def _shift(rows: list[Row], start: int, delta: int) -> list[Row]:
    return [{**r, "seq": r["seq"] + delta} if r["seq"] >= start else r for r in rows]


@st.composite
def stored_tampers(draw: st.DrawFn, base: list[Row], community_id: str) -> StoredTamper:
    rows = [dict(r) for r in base]
    n = len(rows)
    kind = draw(st.sampled_from(["edit", "delete", "delete_renumbered", "insert", "swap"]))
    if kind == "edit":
        k = draw(st.integers(1, n))
        column = draw(
            st.sampled_from(
                ["prev_hash", "hash", "originator_id", "originator_version", "topic", "state"]
            )
        )
        rows[k - 1][column] = _flip(rows[k - 1][column], draw)
        # The table's unique key refuses two rows for one event, to an administrator too.
        keys = {(str(r["originator_id"]), r["originator_version"]) for r in rows}
        assume(len(keys) == len(rows))
        return StoredTamper(rows, k, Defect.EDITED)
    if kind == "delete":
        k = draw(st.integers(1, n - 1))
        return StoredTamper(rows[: k - 1] + rows[k:], k, Defect.DELETED)
    if kind == "delete_renumbered":
        k = draw(st.integers(1, n - 1))
        return StoredTamper(_shift(rows[: k - 1] + rows[k:], k + 1, -1), k, Defect.DELETED)
    if kind == "insert":
        k = draw(st.integers(1, n))
        template = rows[k - 1]
        oid = uuid.uuid4().bytes
        state = b'{"forged":true}'
        prev = rows[k - 2]["hash"] if k > 1 else template["prev_hash"]
        careful = draw(st.booleans())
        digest = entry_hash(k, prev, oid, 1, b"gongkai/forged", state) if careful else bytes(32)
        forged = {
            "seq": k,
            "prev_hash": prev,
            "hash": digest,
            "originator_id": _with_oid(template["originator_id"], oid),
            "originator_version": 1,
            "topic": "gongkai/forged",
            "state": state,
        }
        shifted = _shift(rows, k, +1)
        return StoredTamper([*shifted[: k - 1], forged, *shifted[k - 1 :]], k, Defect.INSERTED)
    i = draw(st.integers(1, n - 1))
    j = draw(st.integers(i + 1, n))
    a, b = rows[i - 1], rows[j - 1]
    rows[i - 1], rows[j - 1] = {**b, "seq": i}, {**a, "seq": j}
    return StoredTamper(rows, i, Defect.REORDERED)


def test_an_untouched_store_verifies(ledger: CommunityLedger, store: Store) -> None:
    fill(ledger)
    assert verify_store(store, ledger.community.id).count == 12


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_single_tamper_of_stored_rows_is_named(
    data: st.DataObject, ledger: CommunityLedger, store: Store, raw: RawTable
) -> None:
    base = _pristine(ledger, raw)
    tamper = data.draw(stored_tampers(base, ledger.community.id))
    raw.replace_all(tamper.rows)
    try:
        with pytest.raises(ChainIntegrityError) as info:
            verify_store(store, ledger.community.id)
        assert (info.value.seq, info.value.defect) == (tamper.seq, tamper.defect), str(info.value)
    finally:
        raw.replace_all(base)


_PRISTINE: dict[str, list[Row]] = {}


def _pristine(ledger: CommunityLedger, raw: RawTable) -> list[Row]:
    """The untampered rows of this test's community, filled on first use."""
    rows = _PRISTINE.get(ledger.community.id)
    if rows is None:
        fill(ledger)
        rows = _PRISTINE[ledger.community.id] = raw.read()
    return rows


def test_truncation_and_replacement_are_caught_against_an_expected_head(
    ledger: CommunityLedger, store: Store, raw: RawTable
) -> None:
    fill(ledger)
    head = ledger.head()
    rows = raw.read()
    raw.replace_all(rows[:-3])
    with pytest.raises(ChainIntegrityError) as info:
        verify_store(store, ledger.community.id, expect_head=head)
    assert (info.value.seq, info.value.defect) == (head.seq - 2, Defect.TRUNCATED)
    # Rewrite the last entry and recompute its hash: internally consistent, but not the
    # log whose head was printed before.
    last = {**rows[-1], "state": rows[-1]["state"] + b" "}
    last["hash"] = entry_hash(
        last["seq"],
        last["prev_hash"],
        _oid_bytes(last["originator_id"]),
        last["originator_version"],
        last["topic"].encode(),
        last["state"],
    )
    raw.replace_all([*rows[:-1], last])
    assert verify_store(store, ledger.community.id).count == head.seq
    with pytest.raises(ChainIntegrityError) as info:
        verify_store(store, ledger.community.id, expect_head=head)
    assert (info.value.seq, info.value.defect) == (head.seq, Defect.REPLACED)
    assert Head(head.seq, last["hash"]) != head
