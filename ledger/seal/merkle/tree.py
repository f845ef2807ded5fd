"""Merkle trees over the ledger (RFC 6962 / RFC 9162): roots, proofs and their checks.

The hash chain (:mod:`ledger.chain.hashing`) lets whoever holds a community's whole history check
every entry. A Merkle tree over the same entries lets a resident check one thing with a few
hashes instead: that an entry is in the record the committee published (an *inclusion
proof*), or that today's record still holds yesterday's unchanged, with only new entries
after it (a *consistency proof*). Both are O(log n) hashes.

Hashing is RFC 6962 §2.1 exactly, so that standard transparency-log tools can check us::

    leaf      = SHA-256( 0x00 || data )
    node      = SHA-256( 0x01 || left || right )
    MTH({})   = SHA-256( "" )
    MTH(D[n]) = node( MTH(D[0:k]), MTH(D[k:n]) ),  k the largest power of two < n

Storage. In a tree that only grows, a *complete* subtree never changes: once the leaves
[index·2^level, (index+1)·2^level) are all present, that subtree's hash is fixed. The store
keeps one row per complete subtree, named ``Node = (level, index)``, and
:func:`append_leaves` returns exactly the rows a batch of new leaves completes, so the
table is append-only like the rest of the ledger. Every ``MTH(...)`` that the RFC 6962
PATH and SUBPROOF recursions ask for covers either a complete subtree or a range that runs
to the right edge of the tree, and such a range is one complete subtree per set bit of its
length. So a root or a proof is worked out from O(log n) rows fetched in a single read.

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step (the comments carry the
RFC's step numbers). Proofs come from outside, so every bad input, whether a malformed hash,
impossible sizes, a path of the wrong length or a mismatch, raises
:class:`MerkleProofError` with a message meant for a person.

Known-answer vectors (from transparency-dev/merkle) are kept in
``tests/vectors/merkle_rfc6962.json``.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final, TypeAlias

from ledger.errors import VerificationError

HASH_SIZE: Final = 32
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"
EMPTY_ROOT: Final[bytes] = hashlib.sha256(b"").digest()

Node: TypeAlias = tuple[int, int]
"""``(level, index)``: the complete subtree over leaves [index << level, (index + 1) << level).
Level 0 nodes are the leaf hashes themselves."""

NodeReader: TypeAlias = Callable[[Sequence[Node]], Mapping[Node, bytes]]
"""A batch read of stored complete-subtree hashes; it returns every node asked for. The
functions below call it exactly once each, sometimes with an empty list (e.g. the root of
an empty tree), which a store should answer without a query."""


class MerkleProofError(VerificationError):
    """A Merkle proof does not prove what it was offered for: impossible sizes, hashes of
    the wrong length, a path of the wrong length, or hashes that lead to another root."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """RFC 6962's k for n > 1: the largest power of two strictly smaller than n."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes held in memory (:data:`EMPTY_ROOT` for none).

    Written straight from the RFC 6962 definition, not from stored nodes, so that it can
    serve as the reference the store-backed functions are tested against.
    """

    def mth(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaf_hashes[start]
        k = _split(end - start)
        return node_hash(mth(start, start + k), mth(start + k, end))

    return mth(0, len(leaf_hashes)) if leaf_hashes else EMPTY_ROOT


def _span(start: int, end: int) -> list[Node]:
    """The complete subtrees making up [start, end), largest (leftmost) first.

    Only for the ranges the RFC recursions produce: there ``start`` is a multiple of a power
    of two at least ``end - start``, so each set bit of the length is one aligned subtree.
    """
    nodes: list[Node] = []
    length = end - start
    for level in reversed(range(length.bit_length())):
        if length >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def root_nodes(size: int) -> list[Node]:
    """The complete subtrees making up a tree of ``size`` leaves, largest (leftmost) first:
    one per set bit of ``size``. Their hashes are the frontier that :func:`append_leaves`
    needs and from which :func:`tree_root` folds the root."""
    if size < 0:
        raise ValueError(f"a tree size cannot be negative, got {size}")
    return _span(0, size)


def _fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from the hashes of its :func:`_span`. The RFC splits the largest
    power of two off the left first, so the root is node(h0, node(h1, ... node(hx, hy)))."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for value in reversed(hashes[:-1]):
        result = node_hash(value, result)
    return result


def _roots(ranges: Sequence[tuple[int, int]], read: NodeReader) -> list[bytes]:
    """MTH of each range, from one call to ``read`` with every node needed, once each."""
    spans = [_span(start, end) for start, end in ranges]
    wanted = list(dict.fromkeys(node for span in spans for node in span))
    stored = read(wanted)
    missing = [node for node in wanted if node not in stored]
    if missing:
        raise KeyError(f"the node reader returned no hash for {missing}")
    return [_fold([stored[node] for node in span]) for span in spans]


def tree_root(size: int, read: NodeReader) -> bytes:
    """MTH of the first ``size`` leaves, from the stored hashes of :func:`root_nodes`."""
    if size < 0:
        raise ValueError(f"a tree size cannot be negative, got {size}")
    return _roots([(0, size)], read)[0]


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(index, D[size]): the audit path, the leaf's sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    # Walked from the root down, the sibling ranges come out top first, hence the reversal.
    siblings = [sibling for _, sibling in _descent(index, 0, size)]
    return _roots(siblings[::-1], read)


def _descent(
    index: int, start: int, end: int
) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    """The turns of the RFC 6962 PATH recursion for leaf ``index`` from the range
    [start, end) down to the leaf: at each, the range the leaf is in below the split and
    the range beside it, as (start, end) pairs.

    PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])      if m < k
                  = PATH(m - k, D[k:n]) : MTH(D[0:k])  if m >= k
    """
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            yield (start, start + k), (start + k, end)
            end = start + k
        else:
            yield (start + k, end), (start, start + k)
            start += k


#: inclusion_proofs works a block of 2^8 leaves at a time.
RUN_BLOCK_LEVELS: Final = 8


def inclusion_proofs(first: int, last: int, size: int, read: NodeReader) -> Iterator[list[bytes]]:
    """PATH(index, D[size]) for each index from ``first`` to ``last`` in turn: the proofs
    :func:`inclusion_proof` gives, worked out for a run of neighbouring leaves at once.

    An aligned block of 2^8 leaves that the tree holds in full is a complete subtree, so
    the path of each of its leaves begins with the 8 siblings inside the block, node
    ``(level, (index >> level) ^ 1)`` at each level below 8, and goes on as the path of
    the block's first leaf does above it. A block costs two calls to ``read`` (its nodes
    below level 8, and that path) instead of one per leaf. The leaves after the last
    complete block are walked as :func:`_walked_proofs` does.
    """
    if not 0 <= first <= last < size:
        raise ValueError(f"leaves {first}..{last} are not in a tree of size {size}")
    levels = RUN_BLOCK_LEVELS
    index = first
    while index <= last and (index >> levels) + 1 << levels <= size:
        start = index >> levels << levels
        end = start + (1 << levels)
        above = inclusion_proof(start, size, read)[levels:]
        inside = read(
            [(level, i) for level in range(levels) for i in range(start >> level, end >> level)]
        )
        for leaf in range(index, min(end - 1, last) + 1):
            path = [inside[level, leaf >> level ^ 1] for level in range(levels)]
            path += above
            yield path
        index = end
    if index <= last:
        yield from _walked_proofs(index, last, size, read)


def _walked_proofs(first: int, last: int, size: int, read: NodeReader) -> Iterator[list[bytes]]:
    """:func:`inclusion_proofs` for any run of leaves.

    Walked from the root down, the PATH recursion for a leaf and for the next one take the
    same turns until the split that separates them, and half of all neighbours are
    separated only at the lowest level. So the walk is kept as a stack of frames, one per
    turn, each the range the leaf is in and the hash of the range beside it; the next
    leaf pops only the frames it left and walks down from there, with one call to
    ``read`` for the new siblings.
    """
    # (start, end, sibling's MTH): the leaf is in [start, end) below this turn.
    frames: list[tuple[int, int, bytes]] = []
    for index in range(first, last + 1):
        while frames and not frames[-1][0] <= index < frames[-1][1]:
            frames.pop()
        start, end = (frames[-1][0], frames[-1][1]) if frames else (0, size)
        steps = list(_descent(index, start, end))
        turns = [inside for inside, _ in steps]
        hashes = _roots([sibling for _, sibling in steps], read)
        frames.extend((s, e, h) for (s, e), h in zip(turns, hashes, strict=True))
        yield [frame[2] for frame in reversed(frames)]


def consistency_proof(old_size: int, new_size: int, read: NodeReader) -> list[bytes]:
    """RFC 6962 §2.1.2 PROOF(old_size, D[new_size]); empty when there is nothing to prove
    (``old_size`` 0 or equal to ``new_size``)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    # PROOF(m, D[n]) = SUBPROOF(m, D[n], true), and SUBPROOF(m, D[start:end], b) is
    #   []  (b true) or [MTH(D[start:end])]  (b false)                   if m = end - start
    #   SUBPROOF(m, D[start:start+k], b) : MTH(D[start+k:end])           if m <= k
    #   SUBPROOF(m - k, D[start+k:end], false) : MTH(D[start:start+k])   otherwise.
    # b stays true while the range starts at leaf 0: a recursion that then ends on D[0:m] has
    # reached the old tree itself, whose root the verifier already has. Below, m stays
    # absolute (m - start in the RFC's terms), and the ranges come out top first.
    ranges: list[tuple[int, int]] = []
    if 0 < old_size < new_size:
        start, end, b = 0, new_size, True
        while old_size != end:
            k = _split(end - start)
            if old_size <= start + k:
                ranges.append((start + k, end))
                end = start + k
            else:
                ranges.append((start, start + k))
                start, b = start + k, False
        if not b:
            ranges.append((start, end))
    return _roots(ranges[::-1], read)


def append_leaves(
    size: int, frontier: Mapping[Node, bytes], leaf_hashes: Sequence[bytes]
) -> list[tuple[Node, bytes]]:
    """The nodes that become complete when ``leaf_hashes`` are appended to a tree of ``size``
    leaves whose :func:`root_nodes` hashes are in ``frontier``.

    Every new node comes exactly once (the new leaves at level 0 included), each after its
    two children. A store persists these rows; no stored row ever changes.
    """
    if size < 0:
        raise ValueError(f"a tree size cannot be negative, got {size}")
    for position, value in enumerate(leaf_hashes):
        if len(value) != HASH_SIZE:
            raise ValueError(f"leaf hash {position} is {len(value)} bytes, not {HASH_SIZE}")
    roots = root_nodes(size)
    missing = [node for node in roots if node not in frontier]
    if missing:
        raise ValueError(f"the frontier of a tree of size {size} lacks {missing}")
    # The stack holds the hashes of the current root nodes, left to right, as a binary
    # counter holds its set bits: a new leaf merges the equal-sized subtrees at the right
    # end like a carry, and each merge completes one parent.
    stack = [frontier[node] for node in roots]
    rows: list[tuple[Node, bytes]] = []
    for leaf_index, value in enumerate(leaf_hashes, start=size):
        level, index = 0, leaf_index
        rows.append(((level, index), value))
        # An odd index is a right child; its left sibling is the last subtree on the stack.
        while index & 1:
            value = node_hash(stack.pop(), value)
            level, index = level + 1, index >> 1
            rows.append(((level, index), value))
        stack.append(value)
    return rows


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
