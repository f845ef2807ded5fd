"""The chain's byte layout, against known answers kept as files."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest

from ledger.chain.hashing import (
    Head,
    chain_events,
    entry_hash,
    entry_hash_from_suffix,
    entry_preimage,
    entry_suffix,
    genesis_hash,
)

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "chain_v1.json").read_text())


@pytest.mark.parametrize("case", VECTORS["genesis"], ids=lambda c: c["community"])
def test_genesis_hash_matches_known_answer(case: dict[str, str]) -> None:
    assert genesis_hash(case["community"]).hex() == case["hash"]


def _chain_cases() -> list[tuple[str, dict[str, object]]]:
    return [(c["community"], e) for c in VECTORS["chains"] for e in c["entries"]]


@pytest.mark.parametrize(("community", "entry"), _chain_cases(), ids=lambda x: str(x)[:20])
def test_entry_hash_matches_known_answer(community: str, entry: dict[str, object]) -> None:
    digest = entry_hash(
        int(str(entry["seq"])),
        bytes.fromhex(str(entry["prev_hash"])),
        bytes.fromhex(str(entry["originator_id"])),
        int(str(entry["originator_version"])),
        str(entry["topic"]).encode(),
        bytes.fromhex(str(entry["state_hex"])),
    )
    assert digest.hex() == entry["hash"]


def test_chain_events_links_from_genesis_like_the_vectors() -> None:
    """Chaining the vector inputs from an empty head reproduces every vector hash."""
    chain = VECTORS["chains"][0]
    events = [
        (
            UUID(hex=e["originator_id"]),
            e["originator_version"],
            e["topic"],
            bytes.fromhex(e["state_hex"]),
        )
        for e in chain["entries"]
    ]
    chained = chain_events(chain["community"], Head(0, b""), events)
    assert [c.hash.hex() for c in chained] == [e["hash"] for e in chain["entries"]]
    assert chained[0].prev_hash == genesis_hash(chain["community"])
    assert [c.seq for c in chained] == [1, 2, 3, 4]


def test_chain_events_continues_after_a_head() -> None:
    head = Head(41, bytes(32))
    (event,) = chain_events("tianhai", head, [(UUID(int=1), 1, "t", b"s")])
    assert event.seq == 42
    assert event.prev_hash == bytes(32)


def test_length_prefixes_keep_fields_apart() -> None:
    """Moving a byte from the topic into the state changes the preimage."""
    a = entry_preimage(1, bytes(32), bytes(16), 1, b"ab", b"c")
    b = entry_preimage(1, bytes(32), bytes(16), 1, b"a", b"bc")
    assert a != b


def test_genesis_binds_the_community() -> None:
    assert genesis_hash("tianhai") != genesis_hash("tianhai2")


@pytest.mark.parametrize(
    ("prev", "oid", "message"),
    [(bytes(31), bytes(16), "prev_hash must be 32 bytes"), (bytes(32), bytes(15), "16 bytes")],
)
def test_preimage_refuses_malformed_fields(prev: bytes, oid: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        entry_preimage(1, prev, oid, 1, b"t", b"s")


def test_head_round_trips_through_text() -> None:
    head = Head(7, bytes(range(32)))
    assert Head.parse(str(head)) == head


@pytest.mark.parametrize(
    "text",
    [
        "",
        "7",
        "7:",
        ":ab",
        "x:" + "00" * 32,
        "07:" + "00" * 32,
        "7:" + "00" * 31,
        "7:zz" + "00" * 31,
    ],
)
def test_head_parse_refuses_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match=r"SEQ|HASH"):
        Head.parse(text)


@pytest.mark.parametrize(("community", "entry"), _chain_cases(), ids=lambda x: str(x)[:20])
def test_hash_from_a_prepared_suffix_matches_known_answer(
    community: str, entry: dict[str, object]
) -> None:
    """Writers prepare the position-free part of the preimage before taking the lock."""
    suffix = entry_suffix(
        bytes.fromhex(str(entry["originator_id"])),
        int(str(entry["originator_version"])),
        str(entry["topic"]).encode(),
        bytes.fromhex(str(entry["state_hex"])),
    )
    digest = entry_hash_from_suffix(
        int(str(entry["seq"])), bytes.fromhex(str(entry["prev_hash"])), suffix
    )
    assert digest.hex() == entry["hash"]
