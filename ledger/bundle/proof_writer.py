"""The writer's side of proofs.jsonl for a long range: a process of its own that reads
the community's Merkle tree from the store, works out each entry's inclusion proof,
checks it against the checkpoint and writes its line, while the exporting process reads,
checks and writes the entries. Both are Python-bound, so on two cores they take about
half the time one process does.

The exporting process sends each entry's hash once the entry passed its own checks; the
proof is checked against that hash, so the bundle written is one that verifies, as
:func:`ledger.bundle.write.write_bundle` promises. The protocol is
:mod:`ledger.bundle.entry_pipe`'s, answered with ``count``, ``sha256`` of the file written, and
``failure`` (a message or null).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO

from ledger.bundle.entry_pipe import EntryPipe, answer, complete, received
from ledger.bundle.format import PROOFS, BundleVerificationError, ProofLines, check_proof
from ledger.seal import merkle


class ProofWriterProcess:
    """Writes proofs.jsonl for entries ``first..last`` of ``community_id`` in the tree of
    ``size`` leaves with ``root``, in a process of its own fed through an
    :class:`~ledger.bundle.entry_pipe.EntryPipe`. Use as a context manager; leaving it stops
    the process and removes its file."""

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
        args = [store_url, community_id, str(first), str(last), str(size), root.hex(), name]
        self._pipe = EntryPipe(__name__, args, "writing the proofs")

    def __enter__(self) -> ProofWriterProcess:
        self._pipe.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._pipe.__exit__()
        finally:
            self.path.unlink(missing_ok=True)

    def add(self, seq: int, entry_hash: bytes) -> None:
        """Entry ``seq`` passed its checks; its proof goes next in the file."""
        self._pipe.send(seq, entry_hash)

    def finish(self) -> tuple[str, int]:
        """Wait for the last proof: the SHA-256 of the file and the number of proofs.
        Raises :class:`BundleVerificationError` if a proof did not check."""
        reply = self._pipe.finish(complete=True)
        self.peak_kb: int | None = reply.get("peak_kb")
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
        reader = BlockReader(store.seal(community_id))
        proofs = merkle.inclusion_proofs(first - 1, last - 1, size, reader)
        tree = merkle.InclusionVerifier(size, root)
        lines = ProofLines()
        pending: list[bytes] = []
        for batch in received(requests):
            if failure is not None:
                continue
            try:
                for seq, entry_hash in batch:
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
            chunk = b"".join(pending)
            out.write(chunk)
            digest.update(chunk)
            pending.clear()
        complete(requests)
    answer(replies, {"count": count, "sha256": digest.hexdigest(), "failure": failure})


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
