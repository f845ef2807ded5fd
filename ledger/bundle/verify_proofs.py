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

import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ledger.bundle.entry_pipe import EntryPipe, answer, complete, received
from ledger.bundle.format import EVENTS, PROOFS, BundleVerificationError, check_proof
from ledger.bundle.verify_lines import ProofParser
from ledger.bundle.verify_parse import Lines
from ledger.seal import merkle


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
    ledger.bundle.verify_proofs``, fed through an
    :class:`~ledger.bundle.entry_pipe.EntryPipe`) over the bundle at ``path``. Its
    answer: ``checked``, ``failure`` (a message or null) and ``sha256`` (of the whole of
    proofs.jsonl, or "" if it could not be read). Use as a context manager; leaving it
    stops the process."""

    def __init__(self, path: Path, size: int, root: bytes) -> None:
        self._pipe = EntryPipe(__name__, [str(path), str(size), root.hex()], "checking the proofs")

    def __enter__(self) -> ProofWorker:
        self._pipe.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._pipe.__exit__()

    def check(self, seq: int, entry_hash: bytes) -> None:
        self._pipe.send(seq, entry_hash)

    def finish(self, *, complete: bool) -> tuple[ProofFailure | None, str]:
        """Wait for the proofs of the entries sent; with ``complete``, also check that
        no proof line is left. The first failure if any, and the SHA-256 of the whole
        of ``proofs.jsonl`` ("" when it could not be read to its end)."""
        reply = self._pipe.finish(complete=complete)
        failure = reply["failure"]
        return (ProofFailure(reply["checked"], failure) if failure else None), reply["sha256"]


def _serve(path: str, size: int, root: bytes, requests: BinaryIO, replies: BinaryIO) -> None:
    """The worker process: check proofs as entries come, then answer the finish."""
    failure: str | None = None
    with zipfile.ZipFile(path) as zf, zf.open(PROOFS) as stream:
        lines = Lines(PROOFS, stream)
        checker = ProofChecker(iter(lines), size, root)
        for batch in received(requests):
            if failure is None:
                try:
                    for seq, entry_hash in batch:
                        checker.check(seq, entry_hash)
                except BundleVerificationError as e:
                    failure = str(e)
        if complete(requests) and failure is None:
            try:
                checker.finish()
            except BundleVerificationError as e:
                failure = str(e)
        try:
            digest = lines.drain()
        except BundleVerificationError as e:
            failure, digest = failure or str(e), ""
    answer(replies, {"checked": checker.checked, "failure": failure, "sha256": digest})


if __name__ == "__main__":
    _serve(
        sys.argv[1],
        int(sys.argv[2]),
        bytes.fromhex(sys.argv[3]),
        sys.stdin.buffer,
        sys.stdout.buffer,
    )
