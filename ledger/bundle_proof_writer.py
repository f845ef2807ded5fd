"""The writer's side of proofs.jsonl for a long range: a process of its own that reads
the community's Merkle tree from the store, works out each entry's inclusion proof,
checks it against the checkpoint and writes its line, while the exporting process reads,
checks and writes the entries. Both are Python-bound, so on two cores they take about
half the time one process does.

The exporting process sends each entry's hash once the entry passed its own checks; the
proof is checked against that hash, so the bundle written is one that verifies, as
:func:`ledger.bundle.write_bundle` promises. The protocol is that of
:mod:`ledger.bundle_proofs` (frames of (seq, entry hash), then a finish), answered with
one JSON line: ``count``, ``sha256`` of the file written, and ``failure`` (a message or
null).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, BinaryIO, NoReturn

from ledger import merkle
from ledger.bundle import PROOFS, BundleVerificationError, ProofLines, check_proof
from ledger.bundle_proofs import BATCH, FINISH, FRAME_COUNT, FRAME_ENTRY


class ProofWriterProcess:
    """Writes proofs.jsonl for entries ``first..last`` of ``community_id`` in the tree of
    ``size`` leaves with ``root``, in a process of its own. Use as a context manager;
    leaving it stops the process and removes its file."""

    def __init__(
        self,
        store_url: str,
        community_id: str,
        first: int,
        last: int,
        size: int,
        root: bytes,
        directory: Path,
    ) -> None:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".proofs.", suffix=".tmp")
        os.close(fd)
        self.path = Path(name)
        self._args = [sys.executable, "-m", __name__, store_url, community_id]
        self._args += [str(first), str(last), str(size), root.hex(), name]
        self._process: subprocess.Popen[bytes] | None = None
        self._batch: list[bytes] = []

    def __enter__(self) -> ProofWriterProcess:
        self._process = subprocess.Popen(  # noqa: S603 (this interpreter, this module)
            self._args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        return self

    def __exit__(self, *exc: object) -> None:
        process = self._running()
        if process.poll() is None:
            process.kill()
        process.communicate()
        self.path.unlink(missing_ok=True)

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError("ProofWriterProcess is used as a context manager")
        return self._process

    def add(self, seq: int, entry_hash: bytes) -> None:
        """Entry ``seq`` passed its checks; its proof goes next in the file."""
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
            f"{PROOFS}: the process writing the proofs stopped (exit code "
            f"{process.returncode}): {last[0]}"
        )

    def finish(self) -> tuple[str, int]:
        """Wait for the last proof: the SHA-256 of the file and the number of proofs.
        Raises :class:`BundleVerificationError` if a proof did not check."""
        self._send(FRAME_COUNT.pack(FINISH) + b"\x01")
        process = self._running()
        assert process.stdout is not None
        answer = process.stdout.readline()
        if not answer:
            self._stopped()
        reply = json.loads(answer)
        if reply["failure"]:
            raise BundleVerificationError(reply["failure"])
        return str(reply["sha256"]), int(reply["count"])


def _serve(
    store_url: str,
    community_id: str,
    first: int,
    last: int,
    size: int,
    root: bytes,
    out_path: str,
    requests: BinaryIO,
    replies: BinaryIO,
) -> None:
    from ledger.store import open_store
    from ledger.store.seal import BlockReader

    failure: str | None = None
    count = 0
    digest = hashlib.sha256()
    with open_store(store_url) as store, Path(out_path).open("wb") as out:
        proofs = merkle.inclusion_proofs(
            first - 1, last - 1, size, BlockReader(store.seal(community_id))
        )
        tree = merkle.InclusionVerifier(size, root)
        lines = ProofLines()
        pending: list[bytes] = []
        while True:
            (frame,) = FRAME_COUNT.unpack(requests.read(FRAME_COUNT.size))
            if frame == FINISH:
                break
            data = requests.read(frame * FRAME_ENTRY.size)
            if failure is not None:
                continue
            try:
                for seq, entry_hash in FRAME_ENTRY.iter_unpack(data):
                    if seq != first + count or seq > last:
                        raise BundleVerificationError(
                            f"{PROOFS}: entry {seq} came where entry {first + count} belongs"
                        )
                    proof = next(proofs)
                    check_proof(seq, entry_hash, proof, tree)
                    pending.append(lines.line(seq, proof))
                    count += 1
            except BundleVerificationError as e:
                failure = str(e)
            _flush(pending, out, digest)
        requests.read(1)
        _flush(pending, out, digest)
    reply = {"count": count, "sha256": digest.hexdigest(), "failure": failure}
    replies.write(json.dumps(reply).encode() + b"\n")
    replies.flush()


def _flush(pending: list[bytes], out: IO[bytes], digest: hashlib._Hash) -> None:
    chunk = b"".join(pending)
    out.write(chunk)
    digest.update(chunk)
    pending.clear()


if __name__ == "__main__":
    _serve(
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        int(sys.argv[4]),
        int(sys.argv[5]),
        bytes.fromhex(sys.argv[6]),
        sys.argv[7],
        sys.stdin.buffer,
        sys.stdout.buffer,
    )
