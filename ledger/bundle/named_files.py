"""The files an entry names (a disclosure version's attachments, a finance entry's
voucher), found in its stored state; and a compact sorted set of their digests, which the
export lists and the verifier checks against the files a bundle holds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Final

_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")

# A voucher's digest is found without parsing the event: inside a JSON string every quote
# is escaped, so this text can only be a key and its value (at any depth of the state).
_VOUCHER = re.compile(rb'"voucher_sha256":"([0-9a-f]{64})"')


def named_files(state: bytes) -> Iterator[bytes]:
    """The SHA-256 of each file an event names (disclosure attachments, vouchers)."""
    for match in _VOUCHER.finditer(state):
        yield bytes.fromhex(match.group(1).decode("ascii"))
    if b'"attachments":[]' in state or b'"attachments"' not in state:
        return
    try:
        value = json.loads(state)
    except ValueError:
        return
    if not isinstance(value, dict):
        return
    for digest in value.get("attachments") or ():
        if isinstance(digest, str) and _SHA256_HEX.fullmatch(digest):
            yield bytes.fromhex(digest)


class SortedDigests:
    """A sorted set of SHA-256 digests in about 32 bytes each: one byte string per first
    byte, appended to, and sorted a bucket at a time at the end. A Python set of a million
    digests takes over 100 MB.

    Digests added since the last :meth:`keep` are dropped by :meth:`sorted_hex`: the
    attachments of entries after the last one in the range wait there until another entry
    in the range comes, or are never listed."""

    def __init__(self) -> None:
        self._buckets = [bytearray() for _ in range(256)]
        # The length of each bucket touched since the last keep(), as it was at keep().
        self._kept: dict[int, int] = {}

    def add(self, digest: bytes) -> None:
        if len(digest) != 32:
            raise ValueError(f"a SHA-256 is 32 bytes, not {len(digest)}")
        bucket = self._buckets[digest[0]]
        self._kept.setdefault(digest[0], len(bucket))
        bucket += digest

    def keep(self) -> None:
        """Keep every digest added so far."""
        self._kept.clear()

    def sorted_hex(self) -> Iterator[str]:
        """The kept digests in ascending order, each once, as lowercase hex."""
        for first, length in self._kept.items():
            del self._buckets[first][length:]
        self._kept.clear()
        for bucket in self._buckets:
            chunks = {bytes(bucket[i : i + 32]) for i in range(0, len(bucket), 32)}
            for digest in sorted(chunks):
                yield digest.hex()
