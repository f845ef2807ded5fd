"""The hash chain: how each stored event of a community is bound to the one before it.

Every stored event of a community gets a gapless sequence number ``seq`` (1, 2, 3, ...),
the hash of the entry before it (``prev_hash``) and its own ``hash``. The hash covers the
event exactly as stored, so changing any stored byte, deleting, inserting or reordering
entries changes some hash that the verifier recomputes.

Byte layout (version 1), all integers unsigned big-endian::

    genesis   = SHA-256( b"gongkai/chain/v1/genesis\\n" || community_id as UTF-8 )

    entry     = SHA-256( b"gongkai/chain/v1/entry\\n"
                         || u64(seq)
                         || prev_hash                      (32 bytes)
                         || originator_id                  (16 bytes, the UUID's bytes)
                         || u64(originator_version)
                         || u32(len(topic))  || topic      (UTF-8)
                         || u32(len(state))  || state )    (the stored bytes)

The first entry (seq 1) has ``prev_hash = genesis``. Binding the genesis to the community
ID means that a chain copied from one community into another fails at entry 1.

Why this shape:

* the tags start with ``g`` (0x67), so a chain preimage can never be confused with an
  RFC 6962 Merkle leaf (0x00) or node (0x01) preimage;
* every variable-length field is length-prefixed, so no two different entries share a
  preimage by shifting bytes from one field into the next;
* ``seq`` is inside the hash, so an entry moved to another position is caught even when
  its neighbours are consistent.

Known-answer vectors are kept in ``tests/vectors/chain_v1.json``.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Final
from uuid import UUID

HASH_SIZE: Final = 32
GENESIS_TAG: Final = b"gongkai/chain/v1/genesis\n"
ENTRY_TAG: Final = b"gongkai/chain/v1/entry\n"

_U64: Final = struct.Struct(">Q")
_U32: Final = struct.Struct(">I")
_MAX_U32: Final = 0xFFFFFFFF


def genesis_hash(community_id: str) -> bytes:
    """The ``prev_hash`` of a community's first entry."""
    return hashlib.sha256(GENESIS_TAG + community_id.encode("utf-8")).digest()


def entry_suffix(
    originator_id: bytes, originator_version: int, topic: bytes, state: bytes
) -> bytes:
    """The part of an entry's preimage after ``prev_hash``. It does not depend on the
    entry's place in the chain, so a writer can prepare it before taking the lock."""
    if len(originator_id) != 16:
        raise ValueError(f"originator_id must be 16 bytes, not {len(originator_id)}")
    if len(topic) > _MAX_U32 or len(state) > _MAX_U32:
        raise ValueError("topic and state must each be shorter than 4 GiB")
    return b"".join(
        (
            originator_id,
            _U64.pack(originator_version),
            _U32.pack(len(topic)),
            topic,
            _U32.pack(len(state)),
            state,
        )
    )


def entry_preimage(
    seq: int,
    prev_hash: bytes,
    originator_id: bytes,
    originator_version: int,
    topic: bytes,
    state: bytes,
) -> bytes:
    """The exact bytes hashed for one entry (see the module docstring).

    ``originator_id`` is the 16 raw bytes of the UUID and ``topic`` is UTF-8, so that
    the verifier, which reads raw rows, hashes without decoding anything.
    """
    if len(prev_hash) != HASH_SIZE:
        raise ValueError(f"prev_hash must be {HASH_SIZE} bytes, not {len(prev_hash)}")
    suffix = entry_suffix(originator_id, originator_version, topic, state)
    return ENTRY_TAG + _U64.pack(seq) + prev_hash + suffix


def entry_hash_from_suffix(seq: int, prev_hash: bytes, suffix: bytes) -> bytes:
    """:func:`entry_hash` given :func:`entry_suffix`."""
    if len(prev_hash) != HASH_SIZE:
        raise ValueError(f"prev_hash must be {HASH_SIZE} bytes, not {len(prev_hash)}")
    return hashlib.sha256(ENTRY_TAG + _U64.pack(seq) + prev_hash + suffix).digest()


def entry_hash(
    seq: int,
    prev_hash: bytes,
    originator_id: bytes,
    originator_version: int,
    topic: bytes,
    state: bytes,
) -> bytes:
    """SHA-256 of :func:`entry_preimage`."""
    suffix = entry_suffix(originator_id, originator_version, topic, state)
    return entry_hash_from_suffix(seq, prev_hash, suffix)


@dataclass(frozen=True, slots=True)
class ChainedEvent:
    """A stored event with its place in the chain, as written to the events table."""

    seq: int
    prev_hash: bytes
    hash: bytes
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


@dataclass(frozen=True, slots=True)
class Head:
    """The last entry of a chain: its sequence number and hash (``seq`` 0 when empty)."""

    seq: int
    hash: bytes

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash.hex()}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """Parse ``SEQ:HEX`` as printed by ``gongkai verify``."""
        seq_text, sep, hash_text = text.strip().partition(":")
        if not sep or not seq_text.isdigit() or (len(seq_text) > 1 and seq_text[0] == "0"):
            raise ValueError(f"expected SEQ:HASH with a decimal SEQ, got {text!r}")
        try:
            digest = bytes.fromhex(hash_text)
        except ValueError:
            raise ValueError(f"HASH must be hexadecimal, got {hash_text!r}") from None
        if len(digest) != HASH_SIZE:
            raise ValueError(f"HASH must be {HASH_SIZE} bytes ({2 * HASH_SIZE} hex digits)")
        return cls(int(seq_text), digest)


def chain_events(
    community_id: str,
    head: Head,
    events: list[tuple[UUID, int, str, bytes]],
) -> list[ChainedEvent]:
    """Give ``events`` (originator_id, version, topic, state) the next sequence numbers
    after ``head`` and link them. ``head.seq == 0`` means the chain is empty."""
    prev = head.hash if head.seq else genesis_hash(community_id)
    seq = head.seq
    chained: list[ChainedEvent] = []
    for originator_id, version, topic, state in events:
        seq += 1
        digest = entry_hash(seq, prev, originator_id.bytes, version, topic.encode(), state)
        chained.append(ChainedEvent(seq, prev, digest, originator_id, version, topic, state))
        prev = digest
    return chained
