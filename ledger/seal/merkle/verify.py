"""Checking Merkle proofs that come from outside: inclusion (:func:`verify_inclusion`,
and :class:`InclusionVerifier` for many neighbouring leaves of one tree) and consistency
(:func:`verify_consistency`).

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step (the comments carry the
RFC's step numbers). Proofs come from outside, so every bad input, whether a malformed hash,
impossible sizes, a path of the wrong length or a mismatch, raises
:class:`MerkleProofError` with a message meant for a person.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence

from ledger.seal.merkle.tree import EMPTY_ROOT, HASH_SIZE, MerkleProofError, node_hash


def _check_hashes(named: Mapping[str, bytes], proof: Sequence[bytes]) -> None:
    """Every hash a verifier is given must be a SHA-256 digest: a truncated or hex-encoded
    value is refused as such rather than reported later as a mismatch."""
    labelled = [*named.items(), *((f"proof hash {i}", h) for i, h in enumerate(proof))]
    for what, value in labelled:
        if len(value) != HASH_SIZE:
            raise MerkleProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves whose root
    is ``root`` (RFC 9162 §2.1.3.2); raise :class:`MerkleProofError` if it is not shown."""
    if index < 0 or size < 0:
        raise MerkleProofError(f"leaf index {index} and tree size {size} cannot be negative")
    _check_hashes({"the leaf hash": leaf_hash, "the root": root}, proof)
    # 1. If leaf_index is greater than or equal to tree_size, fail.
    if index >= size:
        raise MerkleProofError(f"leaf index {index} is outside a tree of size {size}")
    count = f"({len(proof)}) for leaf {index} of a tree of size {size}"
    # 2.-4. The loop, run to its last state.
    _, sn, r, position = deque(_inclusion_states(index, size, leaf_hash, proof), maxlen=1)[0]
    # 4. a. (the iteration stopped with hashes left over)
    if position < len(proof):
        raise MerkleProofError(f"the inclusion proof has too many hashes {count}")
    # 5. Succeed only if sn is 0 and r equals root_hash.
    if sn != 0:
        raise MerkleProofError(f"the inclusion proof has too few hashes {count}")
    if r != root:
        raise MerkleProofError(
            f"the inclusion proof does not lead to the expected root: this leaf hash is not "
            f"leaf {index} of that tree of size {size}"
        )


def _inclusion_states(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> Iterator[tuple[int, int, bytes, int]]:
    """Steps 2-4 of RFC 9162 §2.1.3.2: the loop's state ``(fn, sn, r, i)`` before it
    consumes ``proof[i]``, and last after it (``i == len(proof)``), unless step 4a stopped
    it, in which case the last state yielded has ``i < len(proof)``."""
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = index, size - 1
    # 3. Set r to hash.
    r = leaf_hash
    # 4. For each value p in the inclusion_path array:
    for position, p in enumerate(proof):
        yield fn, sn, r, position
        # a. If sn is 0, stop the iteration and fail.
        if sn == 0:
            return
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, r)
            # ii. If LSB(fn) is not set, right-shift both fn and sn equally until either
            #     LSB(fn) is set or fn is 0 (with LSB(fn) set, the loop does nothing).
            while fn != 0 and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            # Otherwise: i. Set r to HASH(0x01 || r || p).
            r = node_hash(r, p)
        # c. Finally, right-shift both fn and sn one time.
        fn, sn = fn >> 1, sn >> 1
    yield fn, sn, r, len(proof)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` leaves with root ``new_root`` starts with the tree
    of ``old_size`` leaves with root ``old_root`` (RFC 9162 §2.1.4.2); raise
    :class:`MerkleProofError` if it is not shown.

    The empty tree is a prefix of every tree, so size 0 needs an empty proof and
    :data:`EMPTY_ROOT`; equal sizes need an empty proof and equal roots; a tree never shrinks.
    """
    if old_size < 0 or new_size < 0:
        raise MerkleProofError(f"tree sizes {old_size} and {new_size} cannot be negative")
    if old_size > new_size:
        raise MerkleProofError(
            f"the old tree size {old_size} is larger than the new tree size {new_size}"
        )
    _check_hashes({"the old root": old_root, "the new root": new_root}, proof)
    if old_size == 0 or old_size == new_size:
        if proof:
            raise MerkleProofError(
                f"a consistency proof from size {old_size} to size {new_size} must be empty, "
                f"but it has {len(proof)} hashes"
            )
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise MerkleProofError("the old root is not the root of an empty tree")
        if old_size == new_size and old_root != new_root:
            raise MerkleProofError(f"the two roots of a tree of size {new_size} differ")
        return
    first, second = old_size, new_size  # the RFC's names
    count = f"({len(proof)}) for sizes {first} to {second}"
    # 1. If consistency_path is an empty array, stop and fail.
    if not proof:
        raise MerkleProofError(f"the consistency proof from size {first} to {second} is empty")
    # 2. If first is an exact power of 2, prepend first_hash to consistency_path.
    path = [old_root, *proof] if first & (first - 1) == 0 else list(proof)
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, right-shift both fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # 5. Set both fr and sr to the first value in consistency_path.
    fr = sr = path[0]
    # 6. For each subsequent value c in consistency_path:
    for c in path[1:]:
        # a. If sn is 0, stop the iteration and fail.
        if sn == 0:
            raise MerkleProofError(f"the consistency proof has too many hashes {count}")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set fr to HASH(0x01 || c || fr).
            fr = node_hash(c, fr)
            # ii. Set sr to HASH(0x01 || c || sr).
            sr = node_hash(c, sr)
            # iii. If LSB(fn) is not set, right-shift both fn and sn equally until either
            #      LSB(fn) is set or fn is 0 (with LSB(fn) set, the loop does nothing).
            while fn != 0 and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            # Otherwise: i. Set sr to HASH(0x01 || sr || c).
            sr = node_hash(sr, c)
        # c. Finally, right-shift both fn and sn one time.
        fn, sn = fn >> 1, sn >> 1
    # 7. Succeed only if fr equals first_hash, sr equals second_hash and sn is 0.
    if sn != 0:
        raise MerkleProofError(f"the consistency proof has too few hashes {count}")
    if fr != old_root:
        raise MerkleProofError(
            f"the consistency proof does not lead to the old root of the tree of size {first}"
        )
    if sr != new_root:
        raise MerkleProofError(
            f"the consistency proof does not lead to the new root: the tree of size {second} "
            f"does not extend the tree of size {first}"
        )


class InclusionVerifier:
    """Verifies many inclusion proofs against one tree (``size``, ``root``), exactly as
    :func:`verify_inclusion` does, but faster for neighbouring leaves.

    Step 4 of RFC 9162 §2.1.3.2 is a loop whose state is ``(fn, sn, r)`` plus the hashes
    not yet consumed. From equal states the remaining computation is the same, so once a
    proof reaches a state that an already verified proof passed through, with the same
    remaining hashes, it reaches the same root and succeeds. Leaves next to each other
    share all but the first few states, which makes checking the proofs of a range of
    entries close to linear in the range. Anything else (including every failure) is
    decided by :func:`verify_inclusion` itself.
    """

    def __init__(self, size: int, root: bytes) -> None:
        self.size = size
        self.root = root
        # The last verified path: its proof, and the loop's state (fn, sn, r) at each
        # point, indexed by how many of the proof's hashes were still to consume there.
        self._proof: tuple[bytes, ...] = ()
        self._states: list[tuple[int, int, bytes]] = []

    def verify(self, index: int, leaf_hash: bytes, proof: Sequence[bytes]) -> None:
        """Raise :class:`MerkleProofError` unless ``proof`` shows ``leaf_hash`` is leaf
        ``index``."""
        proof = tuple(proof)
        count = len(proof)
        states = self._states
        if states and 0 <= index < self.size and len(leaf_hash) == HASH_SIZE:
            below: list[tuple[int, int, bytes]] = []
            for fn, sn, r, position in _inclusion_states(index, self.size, leaf_hash, proof):
                left = count - position
                if left < len(states):
                    seen_fn, seen_sn, seen_r = states[left]
                    if (
                        seen_r == r
                        and seen_fn == fn
                        and seen_sn == sn
                        and (left == 0 or proof[position:] == self._proof[-left:])
                        # The hashes shared with the remembered proof were checked with it.
                        and all(len(p) == HASH_SIZE for p in proof[:position])
                    ):
                        # Remember this path: its own states below the join (more than
                        # `left` hashes to go), the remembered ones from there up.
                        below.reverse()
                        states[left + 1 :] = below
                        self._proof = proof
                        return
                below.append((fn, sn, r))
        verify_inclusion(index, self.size, leaf_hash, proof, self.root)
        self._proof = proof
        self._states = [
            (fn, sn, r)
            for fn, sn, r, _ in reversed(
                list(_inclusion_states(index, self.size, leaf_hash, proof))
            )
        ]
