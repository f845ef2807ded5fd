"""Checks a community's signed checkpoints against its chain, from the raw rows.

The chain verifier (:mod:`ledger.chain.verify`) catches any edit that leaves a hash or a link
wrong. An administrator who rewrites an entry *and every hash after it*, and rebuilds
the Merkle tree, leaves a chain that is consistent with itself; what such a rewrite
cannot fix is the checkpoints signed before it, with a key that is not in the database.
This module recomputes the tree root at every checkpoint's size from the chain's entry
hashes (:mod:`ledger.seal.community_log` defines the leaves) and compares it with the signed root:

1. each stored checkpoint's note parses, and its body's size and root are the row's;
2. with the log's verifier key, each note carries a valid signature by it (without one,
   a rewritten database could carry checkpoints signed by a key of the rewriter's);
3. the root of the first ``size`` entries, computed in one streaming pass with constant
   memory, equals the signed root; a log shorter than a checkpoint was cut short.

The first checkpoint that fails is named.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ledger.errors import FormatError, VerificationError
from ledger.seal.checkpoint import open_checkpoint, parse_checkpoint
from ledger.seal.merkle import EMPTY_ROOT, leaf_hash, node_hash
from ledger.seal.note import NoteVerifier, parse_note
from ledger.store.backend import Store
from ledger.store.base import RawRow, StoredCheckpoint


class CheckpointMismatchError(VerificationError):
    """A signed checkpoint that the stored log no longer matches."""

    def __init__(self, community_id: str, checkpoint: StoredCheckpoint, detail: str) -> None:
        super().__init__(
            f"{community_id}: checkpoint of size {checkpoint.tree_size} signed at "
            f"{checkpoint.signed_at}: {detail}"
        )
        self.community_id = community_id
        self.tree_size = checkpoint.tree_size
        self.signed_at = checkpoint.signed_at
        self.detail = detail


@dataclass(frozen=True, slots=True)
class VerifiedCheckpoints:
    """How many checkpoints match the log, the latest size, and whether their
    signatures were checked (and with which key)."""

    count: int
    latest_size: int
    signed_by: str | None


class RunningRoot:
    """The RFC 6962 root of a growing list of leaves, in O(log n) memory: the roots of
    the complete subtrees along the right edge, as the binary decomposition of n."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []
        self.size = 0

    def append(self, leaf: bytes) -> None:
        width, digest = 1, leaf
        while self._stack and self._stack[-1][0] == width:
            left = self._stack.pop()[1]
            width, digest = width * 2, node_hash(left, digest)
        self._stack.append((width, digest))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest


def _check_note(
    community_id: str, checkpoint: StoredCheckpoint, log_keys: Sequence[NoteVerifier]
) -> None:
    # Steps 1 and 2.
    try:
        if log_keys:
            body = open_checkpoint(checkpoint.note, log_keys).checkpoint
        else:
            body = parse_checkpoint(parse_note(checkpoint.note).text)
    except VerificationError as e:
        raise CheckpointMismatchError(community_id, checkpoint, f"signature: {e}") from None
    except FormatError as e:
        raise CheckpointMismatchError(community_id, checkpoint, f"malformed note: {e}") from None
    if body.size != checkpoint.tree_size or body.root != checkpoint.root:
        raise CheckpointMismatchError(
            community_id, checkpoint, "the stored size or root differs from the signed note"
        )


def verify_checkpoints_against(
    community_id: str,
    checkpoints: Sequence[StoredCheckpoint],
    rows: Iterable[RawRow],
    *,
    log_keys: Sequence[NoteVerifier] = (),
) -> VerifiedCheckpoints:
    """Check ``checkpoints`` against the chain ``rows`` (in ``seq`` order, already
    verified as a chain); raises :class:`CheckpointMismatchError` at the first bad one."""
    pending = sorted(checkpoints, key=lambda c: c.tree_size)
    for checkpoint in pending:
        _check_note(community_id, checkpoint, log_keys)
    running = RunningRoot()
    waiting = iter(pending)
    current = next(waiting, None)
    # Step 3.
    while current is not None and current.tree_size == 0:
        if current.root != EMPTY_ROOT:
            raise CheckpointMismatchError(community_id, current, "an empty tree has another root")
        current = next(waiting, None)
    for row in rows:
        if current is None:
            break
        running.append(leaf_hash(row[2]))
        while current is not None and current.tree_size == running.size:
            if running.root() != current.root:
                raise CheckpointMismatchError(
                    community_id,
                    current,
                    f"the root of the first {current.tree_size} entries is "
                    f"{running.root().hex()}, not the signed {current.root.hex()}: "
                    "entries up to it were rewritten",
                )
            current = next(waiting, None)
    if current is not None:
        raise CheckpointMismatchError(
            community_id,
            current,
            f"the log has only {running.size} entries: it was cut short after it was signed",
        )
    signer = log_keys[0].vkey if log_keys else None
    return VerifiedCheckpoints(len(pending), pending[-1].tree_size if pending else 0, signer)


def verify_checkpoints(
    store: Store, community_id: str, *, log_keys: Sequence[NoteVerifier] = ()
) -> VerifiedCheckpoints:
    """Every stored checkpoint of ``community_id`` against its stored chain."""
    checkpoints = store.seal(community_id).checkpoints(limit=1 << 30)
    if not checkpoints:
        return VerifiedCheckpoints(0, 0, None)
    rows = store.chain_rows(community_id)
    try:
        return verify_checkpoints_against(community_id, checkpoints, rows, log_keys=log_keys)
    finally:
        rows.close()  # it stops at the last checkpoint: release the read now
