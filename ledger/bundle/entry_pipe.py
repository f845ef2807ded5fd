"""A helper process fed with chain entries' hashes: the plumbing that the bundle's proof
checker (:mod:`ledger.bundle.verify_proofs`) and proof writer (:mod:`ledger.bundle.proof_writer`)
share.

The helper is ``python -m MODULE ARGS...`` with this interpreter (not multiprocessing,
so that no caller's main module is imported again). On its standard input: frames of a
4-byte big-endian count followed by that many (8-byte seq, 32-byte entry hash) pairs,
then the count :data:`FINISH` and one byte (1 when every entry was sent). It answers
with one JSON line.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final, NoReturn

from ledger.bundle.format import PROOFS, BundleVerificationError

FRAME_COUNT: Final = struct.Struct(">I")
FRAME_ENTRY: Final = struct.Struct(">Q32s")
FINISH: Final = 0xFFFFFFFF
#: Entries' hashes sent at a time.
BATCH: Final = 4096


class EntryPipe:
    """The sending side. Use as a context manager; leaving it stops the helper."""

    def __init__(self, module: str, args: list[str], doing: str) -> None:
        self._args = [sys.executable, "-m", module, *args]
        self._doing = doing  # for messages: "checking the proofs"
        self._process: subprocess.Popen[bytes] | None = None
        self._batch: list[bytes] = []

    def __enter__(self) -> EntryPipe:
        self._process = subprocess.Popen(  # noqa: S603 (this interpreter, our module)
            self._args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        return self

    def __exit__(self, *exc: object) -> None:
        process = self._running()
        if process.poll() is None:
            process.kill()
        process.communicate()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError("an EntryPipe is used as a context manager")
        return self._process

    def send(self, seq: int, entry_hash: bytes) -> None:
        self._batch.append(FRAME_ENTRY.pack(seq, entry_hash))
        if len(self._batch) >= BATCH:
            self._write()

    def _write(self, tail: bytes = b"") -> None:
        process = self._running()
        assert process.stdin is not None
        data = FRAME_COUNT.pack(len(self._batch)) + b"".join(self._batch) if self._batch else b""
        self._batch = []
        try:
            process.stdin.write(data + tail)
            if tail:
                process.stdin.flush()
        except BrokenPipeError:
            self._stopped()

    def _stopped(self) -> NoReturn:
        process = self._running()
        process.kill()
        _, err = process.communicate()
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise BundleVerificationError(
            f"{PROOFS}: the process {self._doing} stopped (exit code "
            f"{process.returncode}): {last[0]}"
        )

    def finish(self, *, complete: bool) -> dict[str, Any]:
        """Send the rest and the finish; the helper's answer."""
        self._write(FRAME_COUNT.pack(FINISH) + bytes([complete]))
        process = self._running()
        assert process.stdout is not None
        answer = process.stdout.readline()
        if not answer:
            self._stopped()
        reply: dict[str, Any] = json.loads(answer)
        self.peak_kb: int | None = reply.get("peak_kb")
        return reply


def received(requests: BinaryIO) -> Iterator[list[tuple[int, bytes]]]:
    """The helper's side: each batch of (seq, entry hash) as it comes, until the finish
    (after which :func:`complete` reads whether every entry was sent)."""
    while True:
        (count,) = FRAME_COUNT.unpack(requests.read(FRAME_COUNT.size))
        if count == FINISH:
            return
        yield [
            (seq, bytes(h))
            for seq, h in FRAME_ENTRY.iter_unpack(requests.read(count * FRAME_ENTRY.size))
        ]


def complete(requests: BinaryIO) -> bool:
    return requests.read(1) == b"\x01"


def answer(replies: BinaryIO, reply: dict[str, Any]) -> None:
    """Send the helper's answer, with its peak resident memory (``peak_kb``, from
    /proc where there is one) so that the caller can account for it."""
    replies.write(json.dumps({**reply, "peak_kb": _peak_kb()}).encode() + b"\n")
    replies.flush()


def _peak_kb() -> int | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None
