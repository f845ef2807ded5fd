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

Known-answer vectors (from transparency-dev/merkle) are kept in
``tests/vectors/merkle_rfc6962.json``.
"""

from __future__ import annotations

import hashlib
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
