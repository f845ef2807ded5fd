"""A community's log seal: the Merkle tree over its chain, the checkpoints its log key
signs, the cosignatures of its committee and witnesses, and proofs.

**What a leaf is.** Chain entry ``seq`` is leaf ``seq - 1`` of the community's RFC 6962
tree, and the leaf's data is the entry's 32-byte chain hash (:mod:`ledger.chain.hashing`), so

    leaf_hash(seq) = SHA-256(0x00 || entry_hash(seq))

The entry hash covers the stored bytes of the event and, through ``prev_hash``, every
entry before it. A tree of size ``n`` covers entries ``1..n``. To check that an event is
in a signed checkpoint, recompute its entry hash from its stored form, hash it as a leaf
and verify the inclusion proof against the checkpoint's root.

**Growing the tree.** :meth:`CommunityLog.update_tree` reads the entries not yet in the
tree, checks each one's hash and link as the verifier does (a broken chain is never
sealed), and stores the subtree hashes they complete, in bounded batches under the
community's seal lock. A checkpoint covers only entries already in the tree.

**Signing.** :meth:`CommunityLog.sign_checkpoint` refuses to sign a checkpoint that is
inconsistent with the last one this key signed, as the signer itself remembers it
(:mod:`ledger.seal.signer_state`, a file beside the key, outside the database): the tree's
root at that size, recomputed from the stored nodes, must equal the signed root, and a
consistency proof between the two must verify. An operator who rewrites the chain,
rebuilds the tree and deletes every stored checkpoint therefore cannot get the key
holder to sign the new history: the refusal says the database lost or changed signed
history.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from ledger.chain.hashing import entry_hash, genesis_hash
from ledger.chain.verify import ChainIntegrityError, Defect
from ledger.errors import InvalidInputError, NotFoundError, VerificationError
from ledger.seal.checkpoint import Checkpoint, parse_checkpoint, sign_checkpoint
from ledger.seal.cosignatures import SignedCheckpoints, now_iso
from ledger.seal.merkle import (
    append_leaves,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_nodes,
    tree_root,
    verify_consistency,
)
from ledger.seal.note import NoteSigner, parse_note
from ledger.seal.signer_state import SignedHead, SignerState, SignerStateError
from ledger.store.base import RawRow, StoredCheckpoint

log = logging.getLogger("gongkai.seal")

TREE_BATCH: Final = 2_000


class InconsistentCheckpointError(VerificationError):
    """Signing would contradict a checkpoint this log signed before."""


class SignedHistoryLostError(InconsistentCheckpointError):
    """The tree is shorter than a checkpoint the log key signed."""


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Chain entry ``seq`` in the tree of a signed checkpoint."""

    seq: int
    leaf_index: int
    tree_size: int
    entry_hash: bytes
    leaf_hash: bytes
    hashes: tuple[bytes, ...]
    checkpoint: str


def check_origin(origin: str, community_id: str) -> str:
    """A community's origin names it: ``<host>/<community>``, so that one community's
    key can never sign another's checkpoints by mistake."""
    if not origin.endswith(f"/{community_id}") or len(origin) <= len(community_id) + 1:
        raise InvalidInputError(
            f"the log key's name {origin!r} must be the community's origin, "
            f"'<host>/{community_id}', e.g. 'gongkai.example/{community_id}'",
            field="key",
        )
    return origin


class CommunityLog(SignedCheckpoints):
    """One community's tree, checkpoints and cosignatures."""

    # --- the tree --------------------------------------------------------------------

    def update_tree(
        self, *, batch: int = TREE_BATCH, on_progress: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        """Add the chain entries not yet in the tree, up to the chain's head as it was
        when called (so that under steady writes it returns, and a checkpoint gets
        signed); returns the (old, new) size."""
        target = self.seal.chain_length()
        start: int | None = None
        while True:
            with self.seal.locked() as tx:
                size = tx.tree_size()
                if start is None:
                    start = size
                if size >= target:
                    return start, size
                limit = min(batch, target - size)
                rows = tx.chain_rows(max(size - 1, 0), limit + (1 if size else 0))
                if size:
                    prev = self._last_leaf_entry(size, rows, tx.read_nodes([(0, size - 1)]))
                    rows = rows[1:]
                else:
                    prev = genesis_hash(self.community_id)
                if not rows:
                    return start, size
                leaves = self._checked_leaves(size, prev, rows)
                frontier = tx.read_nodes(root_nodes(size))
                tx.insert_nodes(append_leaves(size, frontier, leaves))
            if on_progress is not None:
                on_progress(size + len(leaves))

    def _last_leaf_entry(
        self, size: int, rows: Sequence[RawRow], last_leaf: dict[tuple[int, int], bytes]
    ) -> bytes:
        """The hash of entry ``size`` (the tree's last leaf), checked against the leaf."""
        if not rows or rows[0][0] != size:
            raise ChainIntegrityError(
                self.community_id,
                size,
                Defect.DELETED,
                f"the tree has {size} leaves but the chain has no entry {size}",
            )
        digest = rows[0][2]
        if leaf_hash(digest) != last_leaf[(0, size - 1)]:
            raise ChainIntegrityError(
                self.community_id,
                size,
                Defect.EDITED,
                "the entry's hash is not the one already in the Merkle tree",
            )
        return digest

    def _checked_leaves(self, size: int, prev: bytes, rows: Sequence[RawRow]) -> list[bytes]:
        leaves = []
        for expected, (seq, row_prev, digest, oid, version, topic, state) in enumerate(
            rows, start=size + 1
        ):
            if seq != expected:
                raise ChainIntegrityError(
                    self.community_id, expected, Defect.DELETED, f"entry {expected} is missing"
                )
            if row_prev != prev:
                raise ChainIntegrityError(
                    self.community_id, seq, Defect.EDITED, "prev_hash does not link"
                )
            try:
                recomputed = entry_hash(seq, row_prev, oid, version, topic, state)
            except (ValueError, struct.error):  # a field out of range: not what was written
                recomputed = b""
            if recomputed != digest or len(oid) != 16:
                raise ChainIntegrityError(
                    self.community_id, seq, Defect.EDITED, "stored hash does not match content"
                )
            leaves.append(leaf_hash(digest))
            prev = digest
        return leaves

    def root(self, size: int | None = None) -> tuple[int, bytes]:
        """The tree's size and root (at ``size`` if given)."""
        current = self.seal.tree_size()
        size = current if size is None else size
        if not 0 <= size <= current:
            raise NotFoundError(f"the tree of {self.community_id!r} has {current} leaves")
        return size, tree_root(size, self.seal.read_nodes)

    # --- checkpoints -----------------------------------------------------------------

    def sign_checkpoint(
        self, signer: NoteSigner, state: SignerState, *, update: bool = True
    ) -> StoredCheckpoint:
        """Sign the current tree; returns the new checkpoint, or the latest one if the
        tree has not grown since.

        The signer's own memory, ``state`` (the latest checkpoint this key signed, kept
        beside the key and never in the database), decides what may be signed: the tree
        must be a consistency-proven extension of it, whatever the database says. A
        database that has lost or changed signed history is refused with
        :class:`SignedHistoryLostError` or :class:`InconsistentCheckpointError`.
        """
        origin = check_origin(signer.name, self.community_id)
        # 1. The state is this key's: same name and key ID, and its note verifies.
        if state.verifier.name != signer.name or state.verifier.key_id != signer.key_id:
            raise SignerStateError(f"{state.path} is the state of another key than {signer.name}")
        if update:
            self.update_tree()
        with self.seal.locked() as tx:
            # Read under the lock: another signer of this key saves its state there too.
            head = state.load()
            size = tx.tree_size()
            root = tree_root(size, tx.read_nodes)
            latest = tx.latest_checkpoint()
            # 2. A stored checkpoint later than the state counts only if this key signed
            #    it (the state file was restored from an older backup, say); the database
            #    cannot invent a later "memory" for the signer.
            if latest is not None and latest.tree_size > head.size:
                head = self._signed_by(state, latest)
            # 3. The tree must still hold the signed head, unchanged, and extend it.
            self._check_extends(head, size, root, tx.read_nodes)
            # 4. The database's own latest checkpoint is checked too.
            if latest is not None:
                self._check_consistent(latest, origin, size, root, tx.read_nodes)
            if head.size > 0 and (latest is None or latest.tree_size < head.size):
                # The database lost checkpoints this key signed: the history they cover
                # is intact (step 3), so the lost head is put back from the signer's copy.
                log.warning(
                    "%s: the database had lost the checkpoint of size %d that this key "
                    "signed; restored it from %s",
                    self.community_id,
                    head.size,
                    state.path,
                )
                latest = StoredCheckpoint(
                    head.size, head.root, head.note, f"{now_iso()} (restored from signer state)"
                )
                tx.insert_checkpoint(latest)
            if latest is not None and latest.tree_size == size:
                return latest
            note = str(sign_checkpoint(Checkpoint(origin, size, root), signer))
            stored = StoredCheckpoint(size, root, note, now_iso())
            tx.insert_checkpoint(stored)
            # 5. The state moves before the transaction commits: a crash in between
            #    leaves the state ahead of the database, which step 4 repairs next time;
            #    never a signature the state does not know.
            state.save(note)
            return stored

    def _signed_by(self, state: SignerState, stored: StoredCheckpoint) -> SignedHead:
        try:
            head = state.parse(stored.note)
        except SignerStateError as e:
            raise InconsistentCheckpointError(
                f"the database holds a checkpoint of size {stored.tree_size} of "
                f"{self.community_id!r} that this log key did not sign: {e}; refusing to sign"
            ) from e
        if head.size != stored.tree_size or head.root != stored.root:
            raise InconsistentCheckpointError(
                f"the stored checkpoint of size {stored.tree_size} does not match its note"
            )
        return head

    def _check_extends(
        self,
        head: SignedHead,
        size: int,
        root: bytes,
        read: Callable[[Sequence[tuple[int, int]]], dict[tuple[int, int], bytes]],
    ) -> None:
        if size < head.size:
            raise SignedHistoryLostError(
                f"the database has lost signed history of {self.community_id!r}: this log "
                f"key signed a checkpoint of size {head.size}, but the tree has only {size} "
                "leaves; refusing to sign"
            )
        # 1. The root of the tree at the signed size must be the signed root.
        if head.size and tree_root(head.size, read) != head.root:
            raise InconsistentCheckpointError(
                f"the database has changed signed history of {self.community_id!r}: the "
                f"tree's root at size {head.size} is not the one this log key signed; "
                "refusing to sign"
            )
        # 2. And a consistency proof from it to the new tree must verify.
        if 0 < head.size < size:
            proof = consistency_proof(head.size, size, read)
            verify_consistency(head.size, size, head.root, root, proof)

    def _check_consistent(
        self,
        latest: StoredCheckpoint,
        origin: str,
        size: int,
        root: bytes,
        read: Callable[[Sequence[tuple[int, int]]], dict[tuple[int, int], bytes]],
    ) -> None:
        signed = parse_checkpoint(parse_note(latest.note).text)
        if signed.origin != origin:
            raise InconsistentCheckpointError(
                f"checkpoints of {self.community_id!r} were signed for origin "
                f"{signed.origin!r}; this key signs for {origin!r}"
            )
        if signed.root != latest.root or signed.size != latest.tree_size:
            raise InconsistentCheckpointError(
                f"the stored checkpoint of size {latest.tree_size} does not match its note"
            )
        if latest.tree_size > size:
            raise InconsistentCheckpointError(
                f"the tree has {size} leaves but a checkpoint of size {latest.tree_size} "
                "was signed: the log was cut short"
            )
        # 1. The root of the stored tree at the signed size must be the signed root.
        if tree_root(latest.tree_size, read) != latest.root:
            raise InconsistentCheckpointError(
                f"the tree's root at size {latest.tree_size} is not the one signed then: "
                "the log was rewritten; refusing to sign"
            )
        # 2. And a consistency proof from it to the new tree must verify.
        if latest.tree_size < size:
            proof = consistency_proof(latest.tree_size, size, read)
            verify_consistency(latest.tree_size, size, latest.root, root, proof)

    # --- proofs ------------------------------------------------------------------------

    def inclusion(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        """The proof that chain entry ``seq`` is in the latest (or the given) checkpoint."""
        checkpoint = self.latest_checkpoint() if tree_size is None else self.checkpoint(tree_size)
        if not 1 <= seq <= checkpoint.tree_size:
            raise NotFoundError(
                f"entry {seq} is not covered by the checkpoint of size {checkpoint.tree_size}"
                + ("; sign a newer checkpoint first" if seq > checkpoint.tree_size else "")
            )
        index = seq - 1
        nodes = self.seal.read_nodes([(0, index)])
        rows = self.seal.chain_rows(seq - 1, 1)
        if not rows or rows[0][0] != seq or leaf_hash(rows[0][2]) != nodes[(0, index)]:
            raise ChainIntegrityError(
                self.community_id, seq, Defect.EDITED, "the entry is not the one in the tree"
            )
        hashes = inclusion_proof(index, checkpoint.tree_size, self.seal.read_nodes)
        return InclusionProof(
            seq,
            index,
            checkpoint.tree_size,
            rows[0][2],
            nodes[(0, index)],
            tuple(hashes),
            self.cosigned_note(checkpoint),
        )

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        current = self.seal.tree_size()
        if not 0 <= old_size <= new_size <= current:
            raise InvalidInputError(
                f"sizes must satisfy 0 <= from <= to <= {current} (the tree's size)",
                field="from",
            )
        return consistency_proof(old_size, new_size, self.seal.read_nodes)
