"""Strict reading of a bundle's files, for :mod:`ledger.bundle.verify`: JSON that
allows no duplicate keys and no NaN, the manifest's fields and types, and the lines of
``events.jsonl`` and ``proofs.jsonl`` with their bounds.

Everything here raises :class:`~ledger.bundle.format.BundleVerificationError` naming the
file and the line; the checks of what the parsed values must be live in the verifier."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any, Final, NoReturn

from ledger.bundle.format import (
    EVENTS,
    FORMAT,
    MANIFEST,
    MANIFEST_SIG,
    PROOFS,
    SHA256_HEX,
    BundleRange,
    BundleVerificationError,
)
from ledger.chain.hashing import HASH_SIZE
from ledger.errors import GongkaiError
from ledger.store.base import RawRow, check_community_id

MAX_LINE: Final = 64 << 20  # one line of events.jsonl or proofs.jsonl
_ISO_UTC: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


_HEX32: Final = re.compile(r"[0-9a-f]{32}")


_MAX_U64: Final = (1 << 64) - 1


_EVENT_KEYS: Final = frozenset(
    {"seq", "prev_hash", "hash", "originator_id", "originator_version", "topic"}
)


_PROOF_KEYS: Final = frozenset({"seq", "leaf_index", "hashes"})


_MANIFEST_KEYS: Final = frozenset(
    {
        "format",
        "community",
        "community_name",
        "origin",
        "range",
        "tree_size",
        "created_at",
        "attachments_missing",
        "files",
    }
)


_RANGE_KEYS: Final = frozenset({"first_seq", "last_seq", "period", "from", "to"})


# What reading a damaged ZIP member can raise.
READ_ERRORS: Final = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,  # an unsupported ZIP version or compression
    RuntimeError,  # an encrypted entry
)


def fail(message: str) -> NoReturn:
    raise BundleVerificationError(message)


@dataclass(frozen=True, slots=True)
class Manifest:
    community: str
    community_name: str
    origin: str
    range: BundleRange
    tree_size: int
    created_at: datetime
    attachments_missing: int
    files: dict[str, str]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("a key appears twice in an object")
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


# One decoder: json.loads with these arguments would build a new one for every line.
_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_constant=_reject_constant
)


def _json(where: str, data: bytes) -> Any:
    try:
        return _DECODER.decode(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        fail(f"{where}: not valid JSON: {e}")


def check_digest(name: str, actual: str, listed: str) -> None:
    if actual != listed:
        fail(f"{name}: its SHA-256 {actual} does not match {MANIFEST} ({listed})")


class Lines:
    """The numbered lines of a JSON-lines member (without their newlines), read a large
    chunk at a time (ZipExtFile.readline costs more than parsing the line) and hashed
    on the way, so that one read of the member serves steps 3, 5 and 6."""

    CHUNK: Final = 1 << 20

    def __init__(self, name: str, stream: IO[bytes]) -> None:
        self.name = name
        self._digest = hashlib.sha256()
        self._stream = stream

    def _read(self) -> bytes:
        try:
            chunk = self._stream.read(self.CHUNK)
        except READ_ERRORS as e:
            fail(f"{self.name}: cannot be read: {e}")
        self._digest.update(chunk)
        return chunk

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        lineno = 0
        rest = b""
        while chunk := self._read():
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                lineno += 1
                if len(line) >= MAX_LINE:
                    fail(f"{self.name}: line {lineno} is longer than {MAX_LINE} bytes")
                yield lineno, line
            if len(rest) >= MAX_LINE:
                fail(f"{self.name}: line {lineno + 1} is longer than {MAX_LINE} bytes")
        if rest:
            fail(f"{self.name}: line {lineno + 1} does not end with a newline")

    def sha256(self) -> str:
        """The SHA-256 of what was read: all of the member once it was read to its end."""
        return self._digest.hexdigest()

    def drain(self) -> str:
        """Read the rest of the member; the SHA-256 of all of it."""
        while self._read():
            pass
        return self.sha256()


def _json_line(name: str, lineno: int, line: bytes) -> dict[str, Any]:
    obj = _json(f"{name}: line {lineno}", line)
    if not isinstance(obj, dict):
        fail(f"{name}: line {lineno} is not a JSON object")
    return obj


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


def _int(where: str, value: Any, low: int = 0, high: int = _MAX_U64) -> int:
    if type(value) is not int or not low <= value <= high:
        fail(f"{where}: expected an integer from {low} to {high}, got {value!r}")
    return value


def _str(where: str, value: Any) -> str:
    if not isinstance(value, str):
        fail(f"{where}: expected a string, got {value!r}")
    return value


def _hex(where: str, value: Any, pattern: re.Pattern[str] = SHA256_HEX) -> bytes:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        fail(f"{where}: expected lowercase hex, got {value!r}")
    return bytes.fromhex(value)


def _keys(where: str, obj: dict[str, Any], expected: frozenset[str]) -> None:
    if set(obj) != expected:
        missing = sorted(expected - set(obj))
        extra = sorted(set(obj) - expected)
        fail(f"{where}: fields missing {missing}, unexpected {extra}")


def _date(where: str, value: Any) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(_str(where, value))
    except ValueError:
        fail(f"{where}: not an ISO date: {value!r}")


def parse_manifest(data: bytes) -> Manifest:
    obj = _json(MANIFEST, data)
    if not isinstance(obj, dict):
        fail(f"{MANIFEST}: not a JSON object")
    if obj.get("format") != FORMAT:
        fail(f"{MANIFEST}: format {obj.get('format')!r} is not {FORMAT!r}")
    _keys(MANIFEST, obj, _MANIFEST_KEYS)
    community = _str(f"{MANIFEST}: community", obj["community"])
    try:
        check_community_id(community)
    except GongkaiError as e:
        fail(f"{MANIFEST}: {e}")
    rng = obj["range"]
    if not isinstance(rng, dict):
        fail(f"{MANIFEST}: range is not an object")
    _keys(f"{MANIFEST}: range", rng, _RANGE_KEYS)
    first = _int(f"{MANIFEST}: first_seq", rng["first_seq"], 1)
    last = _int(f"{MANIFEST}: last_seq", rng["last_seq"], first)
    period = rng["period"]
    if period is not None:
        _str(f"{MANIFEST}: period", period)
    tree_size = _int(f"{MANIFEST}: tree_size", obj["tree_size"], last)
    created = _str(f"{MANIFEST}: created_at", obj["created_at"])
    try:
        if not _ISO_UTC.fullmatch(created):
            raise ValueError(created)
        created_at = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        fail(f"{MANIFEST}: created_at {created!r} is not YYYY-MM-DDTHH:MM:SSZ")
    missing = _int(f"{MANIFEST}: attachments_missing", obj["attachments_missing"])
    files = obj["files"]
    if not isinstance(files, dict):
        fail(f"{MANIFEST}: files is not an object")
    for name, digest in files.items():
        _hex(f"{MANIFEST}: files[{name!r}]", digest)
        if name in (MANIFEST, MANIFEST_SIG):
            fail(f"{MANIFEST}: lists {name}, which is signed otherwise")
    return Manifest(
        community=community,
        community_name=_str(f"{MANIFEST}: community_name", obj["community_name"]),
        origin=_str(f"{MANIFEST}: origin", obj["origin"]),
        range=BundleRange(
            first,
            last,
            period,
            _date(f"{MANIFEST}: from", rng["from"]),
            _date(f"{MANIFEST}: to", rng["to"]),
        ),
        tree_size=tree_size,
        created_at=created_at,
        attachments_missing=missing,
        files=files,
    )


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
