"""Step 6 of the bundle verifier: every entry's inclusion proof, from ``proofs.jsonl``.

The verifier reads ``events.jsonl`` and hands each entry's hash here, in order. Two
checkers do the same checks and say the same things:

- :class:`ProofChecker` reads the proof lines in step with the entries, in this process;
- :class:`ProofWorker` runs a ProofChecker in a process of its own, which reads the
  bundle itself and is sent the entries' hashes in batches. Checking the proofs costs
  about as much as checking the entries, so for a large bundle the two run side by side
  on two cores. Its failures come later (at :meth:`ProofWorker.finish`), but the first
  failing entry is still the one reported: the verifier compares where each side failed.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, NoReturn

from ledger import merkle
from ledger.bundle import EVENTS, PROOFS, BundleVerificationError, check_proof

#: Entries' hashes sent to the worker at a time.
BATCH: Final = 4096


@dataclass(frozen=True, slots=True)
class ProofFailure:
    """Where the proofs failed: the number of entries whose proofs were all shown
    before it (so the entry index of the failure), and what failed."""

    checked: int
    message: str


class ProofChecker:
    """Checks the proof of each entry handed to :meth:`check`, reading ``proofs.jsonl``
    in step; raises :class:`BundleVerificationError` at the first failure."""

    def __init__(self, stream: Iterator[tuple[int, bytes]], size: int, root: bytes) -> None:
        from ledger.bundle_verify import ProofParser

        self._lines = stream
        self._parser = ProofParser()
        self._tree = merkle.InclusionVerifier(size, root)
        self.checked = 0

    def check(self, seq: int, entry_hash: bytes) -> None:
        """Check entry ``seq``'s proof, the next line's."""
        line = next(self._lines, None)
        if line is None:
            raise BundleVerificationError(f"{PROOFS}: no inclusion proof for entry {seq}")
        proof_seq, proof = self._parser.parse(*line)
        if proof_seq != seq:
            raise BundleVerificationError(
                f"{PROOFS}: line {line[0]}: a proof for entry {proof_seq} where the one for "
                f"entry {seq} belongs"
            )
        check_proof(seq, entry_hash, proof, self._tree)
        self.checked += 1

    def finish(self) -> None:
        """After the last entry: no proof line may be left."""
        extra = next(self._lines, None)
        if extra is not None:
            raise BundleVerificationError(
                f"{PROOFS}: line {extra[0]}: a proof for no entry of {EVENTS}"
            )


class ProofWorker:
    """A :class:`ProofChecker` in a process of its own (``python -m
    ledger.bundle_proofs``) over the bundle at ``path``. Use as a context manager;
    leaving it stops the process.

    The protocol, on the process's standard input: frames of a 4-byte big-endian count
    followed by that many (8-byte seq, 32-byte entry hash) pairs; then the count
    ``FINISH`` and one byte, 1 when every entry was sent (no proof line may be left).
    The process answers with one JSON line: ``checked``, ``failure`` (a message or
    null) and ``sha256`` (of the whole of proofs.jsonl, or "" if it could not be read).
    """

    def __init__(self, path: Path, size: int, root: bytes) -> None:
        self._args = [sys.executable, "-m", __name__, str(path), str(size), root.hex()]
        self._process: subprocess.Popen[bytes] | None = None
        self._batch: list[bytes] = []

    def __enter__(self) -> ProofWorker:
        self._process = subprocess.Popen(  # noqa: S603 (this interpreter, this module)
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
            raise RuntimeError("ProofWorker is used as a context manager")
        return self._process

    def check(self, seq: int, entry_hash: bytes) -> None:
        self._batch.append(FRAME_ENTRY.pack(seq, entry_hash))
        if len(self._batch) >= BATCH:
            self._send()

    def _send(self, tail: bytes = b"") -> None:
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
            f"{PROOFS}: the process checking the proofs stopped (exit code "
            f"{process.returncode}): {last[0]}"
        )

    def finish(self, *, complete: bool) -> tuple[ProofFailure | None, str]:
        """Wait for the proofs of the entries sent; with ``complete``, also check that
        no proof line is left. The first failure if any, and the SHA-256 of the whole
        of ``proofs.jsonl`` ("" when it could not be read to its end)."""
        self._send(FRAME_COUNT.pack(FINISH) + bytes([complete]))
        process = self._running()
        assert process.stdout is not None
        answer = process.stdout.readline()
        if not answer:
            self._stopped()
        reply = json.loads(answer)
        failure = reply["failure"]
        return (ProofFailure(reply["checked"], failure) if failure else None), reply["sha256"]


FRAME_COUNT: Final = struct.Struct(">I")
FRAME_ENTRY: Final = struct.Struct(">Q32s")
FINISH: Final = 0xFFFFFFFF


def _serve(path: str, size: int, root: bytes, requests: BinaryIO, replies: BinaryIO) -> None:
    """The worker process: check proofs as entries come, then answer the finish."""
    from ledger.bundle_verify import Lines

    failure: str | None = None
    with zipfile.ZipFile(path) as zf, zf.open(PROOFS) as stream:
        lines = Lines(PROOFS, stream)
        checker = ProofChecker(iter(lines), size, root)
        while True:
            (count,) = FRAME_COUNT.unpack(requests.read(FRAME_COUNT.size))
            if count == FINISH:
                break
            data = requests.read(count * FRAME_ENTRY.size)
            if failure is None:
                try:
                    for seq, entry_hash in FRAME_ENTRY.iter_unpack(data):
                        checker.check(seq, entry_hash)
                except BundleVerificationError as e:
                    failure = str(e)
        complete = requests.read(1) == b"\x01"
        if complete and failure is None:
            try:
                checker.finish()
            except BundleVerificationError as e:
                failure = str(e)
        try:
            digest = lines.drain()
        except BundleVerificationError as e:
            failure, digest = failure or str(e), ""
    reply = {"checked": checker.checked, "failure": failure, "sha256": digest}
    replies.write(json.dumps(reply).encode() + b"\n")
    replies.flush()


if __name__ == "__main__":
    _serve(
        sys.argv[1],
        int(sys.argv[2]),
        bytes.fromhex(sys.argv[3]),
        sys.stdin.buffer,
        sys.stdout.buffer,
    )
