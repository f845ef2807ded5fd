"""The streamed members of a bundle: ``events.jsonl`` and ``proofs.jsonl`` checked
and written entry by entry, ``attachments-missing.txt`` line by line, each through a
:class:`Chunked` writer that hashes as it goes, so that memory does not grow with the
range. Also the fixed ZIP entry headers (:func:`zipinfo`) every member is written with."""

from __future__ import annotations

import hashlib
import queue
import stat
import threading
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Final

from ledger.bundle.contents import BundleContents, ProofWriter
from ledger.bundle.format import (
    PROOFS,
    SHA256_HEX,
    BundleVerificationError,
    ProofLines,
    check_entry,
    check_proof,
    event_line,
)
from ledger.seal import merkle
from ledger.seal.checkpoint import Checkpoint


def write_entries(
    contents: BundleContents, checkpoint: Checkpoint, events: IO[bytes], proofs: IO[bytes]
) -> tuple[str, str, int]:
    """Check and write every entry; the SHA-256 of both files and the count."""
    with Chunked(events) as events_out, Chunked(proofs) as proofs_out:
        writer = (
            contents.proofs
            if isinstance(contents.proofs, ProofWriter)
            else _ProofsHere(contents.proofs, checkpoint, proofs_out)
        )
        return _write_lines(contents, writer, events_out)


def _write_lines(
    contents: BundleContents, writer: ProofWriter | _ProofsHere, events_out: Chunked
) -> tuple[str, str, int]:
    """Check each entry and write its line; ``writer`` checks and writes its proof."""
    prev: bytes | None = None
    seq = contents.first_seq - 1
    for row in contents.rows:
        seq += 1
        if seq > contents.last_seq:
            raise ValueError(f"rows go past last_seq {contents.last_seq}")
        check_entry(contents.community_id, row, seq, prev)
        writer.add(seq, row[2])
        prev = row[2]
        events_out.write(event_line(row))
    if seq != contents.last_seq:
        raise ValueError(f"rows end at {seq}, before last_seq {contents.last_seq}")
    proofs_digest, proofs = writer.finish()
    count = seq - contents.first_seq + 1
    if proofs != count:
        raise BundleVerificationError(
            f"{PROOFS}: {proofs} proofs were written for {count} entries"
        )
    return events_out.close(), proofs_digest, count


class _ProofsHere:
    """The proofs given with the contents, checked and written in this process (the
    in-process counterpart of a :class:`ProofWriter`)."""

    def __init__(
        self, proofs: Iterable[Sequence[bytes]], checkpoint: Checkpoint, out: Chunked
    ) -> None:
        self._proofs = iter(proofs)
        self._tree = merkle.InclusionVerifier(checkpoint.size, checkpoint.root)
        self._lines = ProofLines()
        self._out = out
        self._count = 0

    def add(self, seq: int, entry_hash: bytes) -> None:
        proof = next(self._proofs, None)
        if proof is None:
            raise ValueError("rows and proofs are not aligned: fewer proofs than rows")
        check_proof(seq, entry_hash, proof, self._tree)
        self._out.write(self._lines.line(seq, proof))
        self._count += 1

    def finish(self) -> tuple[str, int]:
        if next(self._proofs, None) is not None:
            raise ValueError("rows and proofs are not aligned: more proofs than rows")
        return self._out.close(), self._count


class Chunked:
    """Lines gathered into large writes, hashed, and written by a thread of its own.

    A ZIP member's stream deflates and checksums on every call, which costs more than the
    work per line itself, hence the large writes; and deflate, CRC-32 and SHA-256 all let
    other Python threads run, so the thread writing them keeps a second core busy while
    the caller makes the next lines. Use as a context manager: leaving it, even on an
    error, stops the thread."""

    LIMIT: Final = 1 << 20

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._digest = hashlib.sha256()
        self._pending: list[bytes] = []
        self._size = 0
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bundle-writer", daemon=True)

    def __enter__(self) -> Chunked:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._failure is None:
                try:
                    self._digest.update(chunk)
                    self._out.write(chunk)
                except BaseException as e:  # handed to the caller's thread by close()
                    self._failure = e

    def write(self, line: bytes) -> None:
        self._pending.append(line)
        self._size += len(line)
        if self._size >= self.LIMIT:
            self._flush()

    def _flush(self) -> None:
        if self._failure is not None:
            raise self._failure
        self._chunks.put(b"".join(self._pending))
        self._pending.clear()
        self._size = 0

    def close(self) -> str:
        """Write what is left and wait for it; the SHA-256 (hex) of everything written."""
        self._flush()
        self.__exit__()
        if self._failure is not None:
            raise self._failure
        return self._digest.hexdigest()


def write_missing(
    contents: BundleContents, attachments: Mapping[str, bytes | Path], out: IO[bytes]
) -> tuple[str, int]:
    """Stream ``attachments_missing`` into its file; its SHA-256 and the count."""
    with Chunked(out) as lines:
        return _write_missing_lines(contents, attachments, lines)


def _write_missing_lines(
    contents: BundleContents, attachments: Mapping[str, bytes | Path], lines: Chunked
) -> tuple[str, int]:
    count = 0
    previous = ""
    for name in contents.attachments_missing:
        if not SHA256_HEX.fullmatch(name):
            raise ValueError(f"missing attachment {name!r} is not a SHA-256 in lowercase hex")
        if name <= previous:
            raise ValueError("attachments_missing must be in ascending order without repeats")
        if name in attachments:
            raise ValueError(f"attachment {name} is both included and listed as missing")
        lines.write(f"{name}\n".encode("ascii"))
        previous = name
        count += 1
    return lines.close(), count


#: Deflate level of the streamed members: level 1 deflates this JSON twice as fast as the
#: default 6 for a bundle about 15% larger, and these members are most of the export's time.
STREAM_LEVEL: Final = 1


def zipinfo(name: str, stamp: datetime, level: int | None = None) -> zipfile.ZipInfo:
    year = max(stamp.year, 1980)  # the ZIP format starts in 1980
    info = zipfile.ZipInfo(
        name, date_time=(year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    )
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so that the mode below means what it says
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    if level is not None:
        # ZipFile.open(ZipInfo, "w") takes the level from this attribute, which the
        # stubs leave out (3.13 names it compress_level and keeps this name as an alias).
        setattr(info, "_compresslevel", level)  # noqa: B010
    return info
