"""The lines of ``events.jsonl`` and ``proofs.jsonl``, for :mod:`ledger.bundle.verify`.

A line as the writer writes it is read by a pattern, without building a dict; any
other line is parsed as strict JSON and checked in full, field by field. A malformed
line is an error naming the file and the line."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any, Final

from ledger.bundle.format import EVENTS, PROOFS, SHA256_HEX
from ledger.bundle.verify_parse import _HEX32, _MAX_U64, _hex, _int, _json_line, _keys, _str, fail
from ledger.chain.hashing import HASH_SIZE
from ledger.store.base import RawRow

_EVENT_KEYS: Final = frozenset(
    {"seq", "prev_hash", "hash", "originator_id", "originator_version", "topic"}
)
_PROOF_KEYS: Final = frozenset({"seq", "leaf_index", "hashes"})


# proofs.jsonl as ledger.bundle.write writes it (json.dumps' separators, 32-byte hashes): such a
# line is read without a JSON parser, and the base64 of the hashes it shares with the
# line before is not decoded again. Any other line is parsed as JSON and checked in full.
_PROOF_HEAD: Final = re.compile(
    rb'\{"seq": ([1-9][0-9]{0,19}), "leaf_index": (0|[1-9][0-9]{0,19}), "hashes": \['
)


_QUOTED_HASH_SIZE: Final = 46  # '"' + the 44 characters of 32 bytes' base64 + '"'
_SEPARATOR: Final = b", "
_ITEM_WIDTH: Final = _QUOTED_HASH_SIZE + len(_SEPARATOR)


class ProofParser:
    """Reads proofs.jsonl lines. In the writer's form every hash takes the same width
    (``"`` + 44 characters of base64 + ``"``, then ``, ``), and neighbours' proofs end
    alike (the path above the point where two leaves part): so the line is not split,
    the bytes it shares with the end of the line before are compared in one go, and
    only the hashes before them are checked and decoded."""

    def __init__(self) -> None:
        # The last line read in the writer's form, where its hashes start, and them.
        self._line = b""
        self._start = 0
        self._proof: list[bytes] = []

    def parse(self, lineno: int, line: bytes) -> tuple[int, list[bytes]]:
        head = _PROOF_HEAD.match(line)
        if head is None or not line.endswith(b"]}"):
            return self._parsed(lineno, line)
        seq, leaf_index = int(head.group(1)), int(head.group(2))
        start, end = head.end(), len(line) - 2
        count, odd = divmod(end - start + len(_SEPARATOR), _ITEM_WIDTH)
        if leaf_index != seq - 1 or seq > _MAX_U64 or odd or count > 64:
            return self._parsed(lineno, line)
        before, before_end = self._line, len(self._line) - 2
        before_count = (before_end - self._start + len(_SEPARATOR)) // _ITEM_WIDTH
        # The fewest hashes from the start after which the rest of the line's bytes are
        # the end of the line before.
        fresh = count
        for shared in range(min(count, before_count), 0, -1):
            width = shared * _ITEM_WIDTH - len(_SEPARATOR)
            if line[end - width : end] == before[before_end - width : before_end]:
                fresh = count - shared
                break
        proof = []
        for i in range(fresh):
            item = start + i * _ITEM_WIDTH
            if (
                line[item] != 34  # '"'
                or line[item + _QUOTED_HASH_SIZE - 1] != 34
                or (
                    i < count - 1
                    and line[item + _QUOTED_HASH_SIZE : item + _ITEM_WIDTH] != _SEPARATOR
                )
            ):
                return self._parsed(lineno, line)
            digest = _b64_hash(seq, line[item + 1 : item + _QUOTED_HASH_SIZE - 1])
            if len(digest) != HASH_SIZE:
                return self._parsed(lineno, line)
            proof.append(digest)
        if fresh < count:
            proof += self._proof[len(self._proof) - (count - fresh) :]
        self._line, self._start, self._proof = line, start, proof
        return seq, proof

    def _parsed(self, lineno: int, line: bytes) -> tuple[int, list[bytes]]:
        return _parse_proof(lineno, _json_line(PROOFS, lineno, line))


def _b64_hash(seq: int, text: bytes) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error as e:
        fail(f"{PROOFS}: entry {seq}: a proof hash is not base64: {e}")


# An events.jsonl line as ledger.bundle.write writes it (json.dumps' separators and key order,
# UTF-8 state) is read without building a dict: its fixed fields by this pattern, its
# two strings by the JSON decoder's own string scanner. Any other line is parsed as JSON.
_EVENT_HEAD: Final = re.compile(
    r'\{"seq": ([1-9][0-9]{0,19}), "prev_hash": "([0-9a-f]{64})", "hash": "([0-9a-f]{64})", '
    r'"originator_id": "([0-9a-f]{32})", "originator_version": (0|[1-9][0-9]{0,19}), '
    r'"topic": "'
)


_STATE_KEY: Final = ', "state": "'


# The decoder's scanner of the JSON string starting after an opening quote: (the string,
# the index after its closing quote). Not in the typing stubs; in json.decoder since 2.6.
scanstring: Final[Callable[[str, int], tuple[str, int]]] = json.decoder.scanstring  # type: ignore[attr-defined]


def read_event(lineno: int, line: bytes) -> RawRow:
    """The raw row of one events.jsonl line."""
    try:
        text = line.decode("utf-8")
        head = _EVENT_HEAD.match(text)
        if head is not None:
            topic, end = scanstring(text, head.end())
            if text.startswith(_STATE_KEY, end):
                state, end = scanstring(text, end + len(_STATE_KEY))
                seq, version = int(head.group(1)), int(head.group(5))
                if end == len(text) - 1 and text[end] == "}" and max(seq, version) <= _MAX_U64:
                    return (
                        seq,
                        bytes.fromhex(head.group(2)),
                        bytes.fromhex(head.group(3)),
                        bytes.fromhex(head.group(4)),
                        version,
                        topic.encode("utf-8"),
                        state.encode("utf-8"),
                    )
    except ValueError:  # not UTF-8, a bad escape, a lone surrogate: said below
        pass
    return _parse_event(lineno, _json_line(EVENTS, lineno, line))


_UTF8_EVENT_KEYS: Final = _EVENT_KEYS | {"state"}


def _parse_event(lineno: int, obj: dict[str, Any]) -> RawRow:
    """The raw row of an ``events.jsonl`` object; a clear error naming the entry and field
    when it is malformed."""
    row = _well_formed_event(obj)
    return row if row is not None else _checked_event(lineno, obj)


def _well_formed_event(obj: dict[str, Any]) -> RawRow | None:
    """The row of an object of the usual form (UTF-8 state, every field well typed), read
    without composing any message; None for anything else, which _checked_event reads."""
    if obj.keys() != _UTF8_EVENT_KEYS:
        return None
    seq, version = obj["seq"], obj["originator_version"]
    prev_hash, digest, oid = obj["prev_hash"], obj["hash"], obj["originator_id"]
    topic, state = obj["topic"], obj["state"]
    if not (
        type(seq) is int
        and type(version) is int
        and 1 <= seq <= _MAX_U64
        and 0 <= version <= _MAX_U64
        and type(prev_hash) is str
        and type(digest) is str
        and type(oid) is str
        and type(topic) is str
        and type(state) is str
        and SHA256_HEX.fullmatch(prev_hash)
        and SHA256_HEX.fullmatch(digest)
        and _HEX32.fullmatch(oid)
    ):
        return None
    try:
        topic_bytes, state_bytes = topic.encode("utf-8"), state.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return None
    return (
        seq,
        bytes.fromhex(prev_hash),
        bytes.fromhex(digest),
        bytes.fromhex(oid),
        version,
        topic_bytes,
        state_bytes,
    )


def _checked_event(lineno: int, obj: dict[str, Any]) -> RawRow:
    where = f"{EVENTS}: line {lineno}"
    seq = _int(f"{where}: seq", obj.get("seq"), 1)
    where = f"{EVENTS}: entry {seq}"
    state_key = "state" if "state" in obj else "state_base64"
    _keys(where, obj, _EVENT_KEYS | {state_key})
    try:
        topic = _str(f"{where}: topic", obj["topic"]).encode("utf-8")
        if state_key == "state":
            state = _str(f"{where}: state", obj["state"]).encode("utf-8")
        else:
            state = base64.b64decode(_str(f"{where}: state_base64", obj[state_key]), validate=True)
    except (UnicodeEncodeError, binascii.Error) as e:
        fail(f"{where}: {e}")
    return (
        seq,
        _hex(f"{where}: prev_hash", obj["prev_hash"]),
        _hex(f"{where}: hash", obj["hash"]),
        _hex(f"{where}: originator_id", obj["originator_id"], _HEX32),
        _int(f"{where}: originator_version", obj["originator_version"]),
        topic,
        state,
    )


def _parse_proof(lineno: int, obj: dict[str, Any]) -> tuple[int, list[bytes]]:
    where = f"{PROOFS}: line {lineno}"
    _keys(where, obj, _PROOF_KEYS)
    seq = _int(f"{where}: seq", obj["seq"], 1)
    where = f"{PROOFS}: entry {seq}"
    _int(f"{where}: leaf_index", obj["leaf_index"], seq - 1, seq - 1)
    hashes = obj["hashes"]
    if not isinstance(hashes, list) or len(hashes) > 64:
        fail(f"{where}: hashes is not a list of at most 64 hashes")
    proof = []
    for item in hashes:
        try:
            digest = binascii.a2b_base64(_str(f"{where}: hashes", item), strict_mode=True)
        except binascii.Error as e:
            fail(f"{where}: a proof hash is not base64: {e}")
        if len(digest) != HASH_SIZE:
            fail(f"{where}: a proof hash is {len(digest)} bytes, not {HASH_SIZE}")
        proof.append(digest)
    return seq, proof
