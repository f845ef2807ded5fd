"""Strict reading of a bundle's files, for :mod:`ledger.bundle.verify`: JSON that
allows no duplicate keys and no NaN, the typed fields every file's objects are made of,
the manifest, and the splitting of the streamed files into bounded lines (whose entries
:mod:`ledger.bundle.verify_lines` reads).

Everything here raises :class:`~ledger.bundle.format.BundleVerificationError` naming the
file and the line; the checks of what the parsed values must be live in the verifier."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any, Final, NoReturn

from ledger.bundle.format import (
    FORMAT,
    MANIFEST,
    MANIFEST_SIG,
    SHA256_HEX,
    BundleRange,
    BundleVerificationError,
)
from ledger.errors import GongkaiError
from ledger.store.base import check_community_id

MAX_LINE: Final = 64 << 20  # one line of events.jsonl or proofs.jsonl
_ISO_UTC: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


_HEX32: Final = re.compile(r"[0-9a-f]{32}")


_MAX_U64: Final = (1 << 64) - 1


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
