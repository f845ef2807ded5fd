"""Merkle roots and proofs (ledger.seal.merkle): known answers from an independent implementation
(transparency-dev/merkle, kept in tests/vectors/merkle_rfc6962.json), properties over
random trees grown through append_leaves, and proofs that must be refused."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import VerificationError
from ledger.seal.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    RUN_BLOCK_LEVELS,
    MerkleProofError,
    Node,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    inclusion_proofs,
    leaf_hash,
    node_hash,
    root_nodes,
    root_of,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "vectors" / "merkle_rfc6962.json").read_text()
)
LEAVES = [leaf_hash(bytes.fromhex(h)) for h in VECTORS["leaves_hex"]]
ROOTS = {int(size): bytes.fromhex(h) for size, h in VECTORS["roots"].items()}
SOME_HASH = bytes.fromhex(VECTORS["some_hash"])

# What the messages say, so that each refusal is checked for its reason.
MISMATCH = "does not lead to the"
TOO_MANY = "too many hashes"
TOO_FEW = "too few hashes"
OUTSIDE = "outside a tree"
NEGATIVE = "cannot be negative"
LENGTH = f"bytes, not {HASH_SIZE}"


class Store:
    """An in-memory node table grown only through append_leaves; it records every read."""

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self.nodes: dict[Node, bytes] = {}
        self.size = 0
        self.reads: list[list[Node]] = []
        self.append(leaf_hashes)

    def append(self, leaf_hashes: Sequence[bytes]) -> list[tuple[Node, bytes]]:
        frontier = {node: self.nodes[node] for node in root_nodes(self.size)}
        rows = append_leaves(self.size, frontier, leaf_hashes)
        for node, value in rows:
            assert node not in self.nodes, f"{node} written twice"
            self.nodes[node] = value
        self.size += len(leaf_hashes)
        return rows

    def read(self, nodes: Sequence[Node]) -> Mapping[Node, bytes]:
        self.reads.append(list(nodes))
        return {node: self.nodes[node] for node in nodes}

    def only_read(self, size: int) -> list[Node]:
        """The nodes of the single read since the last call, checked to be few, distinct
        and complete subtrees of a tree of ``size`` leaves."""
        assert len(self.reads) == 1, f"read was called {len(self.reads)} times"
        nodes = self.reads.pop()
        assert len(nodes) == len(set(nodes)), f"duplicate nodes in {nodes}"
        assert all((index + 1) << level <= size for level, index in nodes), nodes
        bound = 2 * (size - 1).bit_length() + 2 if size else 0
        assert len(nodes) <= bound, f"{len(nodes)} nodes for size {size}"
        return nodes


def complete_nodes(size: int) -> set[Node]:
    return {(level, index) for level in range(size.bit_length()) for index in range(size >> level)}


def flip(proof: Sequence[bytes], position: int, bit: int = 3) -> list[bytes]:
    changed = list(proof)
    value = bytearray(changed[position])
    value[0] ^= 1 << bit
    changed[position] = bytes(value)
    return changed


# --- known answers -------------------------------------------------------------------------


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == VECTORS["empty_root"]
    assert root_of([]) == EMPTY_ROOT
    store = Store()
    assert tree_root(0, store.read) == EMPTY_ROOT
    assert store.only_read(0) == []


@pytest.mark.parametrize("case", VECTORS["leaf_hashes"], ids=lambda c: c["data_hex"] or "empty")
def test_leaf_hash_matches_known_answer(case: dict[str, str]) -> None:
    assert leaf_hash(bytes.fromhex(case["data_hex"])).hex() == case["hash"]


@pytest.mark.parametrize("case", VECTORS["node_hashes"])
def test_node_hash_matches_known_answer(case: dict[str, str]) -> None:
    left, right = bytes.fromhex(case["left_hex"]), bytes.fromhex(case["right_hex"])
    assert node_hash(left, right).hex() == case["hash"]


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots_match_known_answers(size: int) -> None:
    assert root_of(LEAVES[:size]) == ROOTS[size]
    store = Store(LEAVES[:size])
    assert tree_root(size, store.read) == ROOTS[size]
    assert store.only_read(size) == root_nodes(size)
    # The rows stored for the tree of 8 leaves also answer for every smaller tree.
    big = Store(LEAVES)
    assert tree_root(size, big.read) == ROOTS[size]


def _case_id(case: dict[str, Any]) -> str:
    sizes = [case[k] for k in ("index", "old_size", "size", "new_size") if k in case]
    return ":".join(map(str, sizes))


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=_case_id)
def test_inclusion_proof_matches_known_answer(case: dict[str, Any]) -> None:
    index, size = case["index"], case["size"]
    expected = [bytes.fromhex(h) for h in case["proof"]]
    store = Store(LEAVES)
    assert inclusion_proof(index, size, store.read) == expected
    store.only_read(size)
    verify_inclusion(index, size, LEAVES[index], expected, ROOTS[size])


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=_case_id)
def test_consistency_proof_matches_known_answer(case: dict[str, Any]) -> None:
    old, new = case["old_size"], case["new_size"]
    expected = [bytes.fromhex(h) for h in case["proof"]]
    store = Store(LEAVES)
    assert consistency_proof(old, new, store.read) == expected
    store.only_read(new)
    verify_consistency(old, new, ROOTS[old], ROOTS[new], expected)


@pytest.mark.parametrize("case", VECTORS["inclusion_nodes"], ids=_case_id)
def test_inclusion_proof_reads_the_known_nodes(case: dict[str, Any]) -> None:
    store = Store([leaf_hash(i.to_bytes(2, "big")) for i in range(case["size"])])
    inclusion_proof(case["index"], case["size"], store.read)
    read = store.only_read(case["size"])
    assert sorted(read) == sorted(tuple(node) for node in case["nodes"])


@pytest.mark.parametrize("case", VECTORS["consistency_nodes"], ids=_case_id)
def test_consistency_proof_reads_the_known_nodes(case: dict[str, Any]) -> None:
    store = Store([leaf_hash(i.to_bytes(2, "big")) for i in range(case["new_size"])])
    consistency_proof(case["old_size"], case["new_size"], store.read)
    read = store.only_read(case["new_size"])
    assert sorted(read) == sorted(tuple(node) for node in case["nodes"])


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_every_inclusion_proof_leads_to_the_known_root(size: int) -> None:
    store = Store(LEAVES)
    for index in range(size):
        proof = inclusion_proof(index, size, store.read)
        store.only_read(size)
        verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])


def test_a_run_of_proofs_is_the_proofs_one_at_a_time() -> None:
    """inclusion_proofs works whole blocks and walks the rest; every run of every tree up
    to 70 leaves, and runs across block boundaries of larger trees, give exactly what
    inclusion_proof gives for each leaf alone."""
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(1100)]
    store = Store(leaves)
    for size in range(1, 71):
        alone = [inclusion_proof(i, size, store.read) for i in range(size)]
        for first in range(size):
            for last in (first, min(size - 1, first + 1), min(size - 1, first + 9), size - 1):
                run = list(inclusion_proofs(first, last, size, store.read))
                assert run == alone[first : last + 1], (first, last, size)
    block = 1 << RUN_BLOCK_LEVELS
    for size in (block - 1, block, block + 1, 2 * block, 2 * block + 3, 4 * block + 76):
        alone = [inclusion_proof(i, size, store.read) for i in range(size)]
        for first in (0, 1, block - 1, block, block + 7, size - 2):
            if 0 <= first < size:
                for last in (first, min(size - 1, first + block + 3), size - 1):
                    run = list(inclusion_proofs(first, last, size, store.read))
                    assert run == alone[first : last + 1], (first, last, size)


def test_a_run_of_proofs_reads_a_block_at_a_time() -> None:
    store = Store([leaf_hash(i.to_bytes(2, "big")) for i in range(1000)])
    store.reads.clear()
    proofs = list(inclusion_proofs(0, 999, 1000, store.read))
    assert len(proofs) == 1000
    # 3 complete blocks of 256 leaves, 2 reads each; then the 232 leaves after them walked,
    # one read each.
    assert len(store.reads) == 3 * 2 + 232
    read = [node for batch in store.reads for node in batch]
    # The walked leaves leave 2 frames on average (1 + the trailing ones of the index):
    # linear in the run, where proof by proof it would be n log n (about 10,000 here).
    assert len(read) < 3 * (510 + 10) + 2 * 232 + 50


@pytest.mark.parametrize(("first", "last", "size"), [(-1, 0, 4), (0, 4, 4), (3, 2, 4), (0, 0, 0)])
def test_a_run_of_proofs_outside_the_tree_is_refused(first: int, last: int, size: int) -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        next(inclusion_proofs(first, last, size, Store([]).read))


@pytest.mark.parametrize("new", sorted(ROOTS))
def test_every_consistency_proof_leads_to_the_known_roots(new: int) -> None:
    store = Store(LEAVES)
    for old in range(1, new + 1):
        proof = consistency_proof(old, new, store.read)
        store.only_read(new)
        verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


# --- the known proofs, corrupted (the probes of transparency-dev's verify_test.go) ----------


def _inclusion_probes(case: dict[str, Any]) -> list[tuple[str, tuple[Any, ...], str]]:
    i, n = case["index"], case["size"]
    proof = [bytes.fromhex(h) for h in case["proof"]]
    leaf, root = LEAVES[i], ROOTS[n]
    moved = f"{MISMATCH}|{TOO_MANY}|{TOO_FEW}|{OUTSIDE}|{NEGATIVE}"
    probes = [
        ("index - 1", (i - 1, n, leaf, proof, root), moved),
        ("index + 1", (i + 1, n, leaf, proof, root), moved),
        ("index ^ 2", (i ^ 2, n, leaf, proof, root), moved),
        ("size * 2", (i, n * 2, leaf, proof, root), TOO_FEW),
        ("size // 2", (i, n // 2, leaf, proof, root), f"{TOO_MANY}|{OUTSIDE}"),
        ("wrong leaf", (i, n, b"WrongLeaf", proof, root), f"leaf hash is 9 {LENGTH}"),
        ("empty root", (i, n, leaf, proof, EMPTY_ROOT), MISMATCH),
        ("random root", (i, n, leaf, proof, SOME_HASH), MISMATCH),
        ("trailing garbage", (i, n, leaf, [*proof, b""], root), f"is 0 {LENGTH}"),
        ("trailing root", (i, n, leaf, [*proof, root], root), TOO_MANY),
        ("preceding garbage", (i, n, leaf, [b"", *proof], root), f"hash 0 is 0 {LENGTH}"),
        ("preceding root", (i, n, leaf, [root, *proof], root), TOO_MANY),
    ]
    probes += [
        (f"proof[{k}] bit {bit}", (i, n, leaf, flip(proof, k, bit), root), MISMATCH)
        for k in range(len(proof))
        for bit in (0, 3, 7)
    ]
    if proof:
        probes.append(("removed component", (i, n, leaf, proof[:-1], root), TOO_FEW))
    if len(proof) > 1:
        inserted = [proof[0], SOME_HASH, *proof[1:]]
        probes.append(("inserted component", (i, n, leaf, inserted, root), TOO_MANY))
    return probes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(args, message, id=f"{_case_id(case)} {name}")
        for case in VECTORS["inclusion"]
        for name, args, message in _inclusion_probes(case)
    ],
)
def test_corrupted_inclusion_proof_is_refused(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(MerkleProofError, match=message):
        verify_inclusion(*args)


def _consistency_probes(case: dict[str, Any]) -> list[tuple[str, tuple[Any, ...], str]]:
    m, n = case["old_size"], case["new_size"]
    proof = [bytes.fromhex(h) for h in case["proof"]]
    r1, r2 = ROOTS[m], ROOTS[n]
    wrong = f"{MISMATCH} (old|new) root"
    any_reason = f"{MISMATCH}|{TOO_MANY}|{TOO_FEW}|is empty|larger than|must be empty"
    probes = [
        ("size1 - 1", (m - 1, n, r1, r2, proof), any_reason),
        ("size1 + 1", (m + 1, n, r1, r2, proof), any_reason),
        ("size1 ^ 2", (m ^ 2, n, r1, r2, proof), any_reason),
        ("size2 * 2", (m, n * 2, r1, r2, proof), any_reason),
        ("size2 // 2", (m, n // 2, r1, r2, proof), any_reason),
        ("wrong root1", (m, n, b"WrongRoot", r2, proof), f"old root is 9 {LENGTH}"),
        ("wrong root2", (m, n, r1, b"WrongRoot", proof), f"new root is 9 {LENGTH}"),
        ("random root1", (m, n, SOME_HASH, r2, proof), wrong),
        ("random root2", (m, n, r1, SOME_HASH, proof), wrong),
        ("swapped roots", (m, n, r2, r1, proof), wrong),
        ("empty proof", (m, n, r1, r2, []), "proof from size .* is empty"),
        ("trailing garbage", (m, n, r1, r2, [*proof, b""]), f"is 0 {LENGTH}"),
        ("trailing root1", (m, n, r1, r2, [*proof, r1]), TOO_MANY),
        ("trailing root2", (m, n, r1, r2, [*proof, r2]), TOO_MANY),
        ("preceding garbage", (m, n, r1, r2, [b"", *proof]), f"hash 0 is 0 {LENGTH}"),
        ("preceding root1", (m, n, r1, r2, [r1, *proof]), TOO_MANY),
        ("preceding root2", (m, n, r1, r2, [r2, *proof]), TOO_MANY),
        ("preceding proof[0]", (m, n, r1, r2, [proof[0], *proof]), TOO_MANY),
        ("truncated proof", (m, n, r1, r2, proof[:-1]), f"{TOO_FEW}|is empty"),
    ]
    probes += [
        (f"proof[{k}] bit {bit}", (m, n, r1, r2, flip(proof, k, bit)), wrong)
        for k in range(len(proof))
        for bit in (0, 4, 7)
    ]
    return probes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(args, message, id=f"{_case_id(case)} {name}")
        for case in VECTORS["consistency"]
        if case["proof"]
        for name, args, message in _consistency_probes(case)
    ],
)
def test_corrupted_consistency_proof_is_refused(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(MerkleProofError, match=message):
        verify_consistency(*args)


# --- refusals, one reason at a time --------------------------------------------------------

PROOF_0_8 = [bytes.fromhex(h) for h in VECTORS["inclusion"][1]["proof"]]
PROOF_6_8 = [bytes.fromhex(h) for h in VECTORS["consistency"][2]["proof"]]


def test_inclusion_of_another_entrys_leaf_hash_is_refused() -> None:
    with pytest.raises(MerkleProofError, match="this leaf hash is not leaf 0 of that tree"):
        verify_inclusion(0, 8, LEAVES[1], PROOF_0_8, ROOTS[8])


def test_inclusion_at_the_wrong_index_is_refused() -> None:
    with pytest.raises(MerkleProofError, match="is not leaf 1 of that tree of size 8"):
        verify_inclusion(1, 8, LEAVES[0], PROOF_0_8, ROOTS[8])


@pytest.mark.parametrize(("size", "message"), [(16, TOO_FEW), (4, TOO_MANY), (2, TOO_MANY)])
def test_inclusion_in_a_tree_of_the_wrong_size_is_refused(size: int, message: str) -> None:
    with pytest.raises(MerkleProofError, match=f"{message} \\(3\\) for leaf 0 of .* {size}$"):
        verify_inclusion(0, size, LEAVES[0], PROOF_0_8, ROOTS[8])


def test_inclusion_against_another_trees_root_is_refused() -> None:
    with pytest.raises(MerkleProofError, match="does not lead to the expected root"):
        verify_inclusion(0, 8, LEAVES[0], PROOF_0_8, ROOTS[7])


@pytest.mark.parametrize(("index", "size"), [(8, 8), (0, 0), (5, 3)])
def test_inclusion_of_an_index_outside_the_tree_is_refused(index: int, size: int) -> None:
    with pytest.raises(MerkleProofError, match=f"leaf index {index} is outside a tree of size"):
        verify_inclusion(index, size, LEAVES[0], [], ROOTS[1])


@pytest.mark.parametrize(("index", "size"), [(-1, 8), (0, -1)])
def test_inclusion_with_negative_numbers_is_refused(index: int, size: int) -> None:
    with pytest.raises(MerkleProofError, match=NEGATIVE):
        verify_inclusion(index, size, LEAVES[0], PROOF_0_8, ROOTS[8])


@pytest.mark.parametrize(
    ("leaf", "proof", "root", "message"),
    [
        (LEAVES[0][:31], PROOF_0_8, ROOTS[8], "the leaf hash is 31 bytes, not 32"),
        (LEAVES[0], PROOF_0_8, ROOTS[8] + b"\x00", "the root is 33 bytes, not 32"),
        (LEAVES[0], PROOF_0_8, ROOTS[8].hex().encode(), "the root is 64 bytes, not 32"),
        (LEAVES[0], [*PROOF_0_8[:2], b"\x01" * 16], ROOTS[8], "proof hash 2 is 16 bytes"),
        (LEAVES[0], [b"", *PROOF_0_8[1:]], ROOTS[8], "proof hash 0 is 0 bytes"),
    ],
    ids=["short leaf", "long root", "hex root", "short proof hash", "empty proof hash"],
)
def test_inclusion_with_bad_hash_lengths_is_refused(
    leaf: bytes, proof: list[bytes], root: bytes, message: str
) -> None:
    with pytest.raises(MerkleProofError, match=message):
        verify_inclusion(0, 8, leaf, proof, root)


def test_a_single_leaf_tree_is_its_own_root_with_an_empty_proof() -> None:
    verify_inclusion(0, 1, LEAVES[3], [], LEAVES[3])
    with pytest.raises(MerkleProofError, match=MISMATCH):
        verify_inclusion(0, 1, LEAVES[3], [], LEAVES[4])
    with pytest.raises(MerkleProofError, match=TOO_MANY):
        verify_inclusion(0, 1, LEAVES[3], [LEAVES[4]], node_hash(LEAVES[3], LEAVES[4]))


def test_merkle_proof_error_is_a_verification_error() -> None:
    assert issubclass(MerkleProofError, VerificationError)


def test_consistency_with_swapped_roots_is_refused() -> None:
    with pytest.raises(MerkleProofError, match=r"does not lead to the old root .* size 6$"):
        verify_consistency(6, 8, ROOTS[8], ROOTS[6], PROOF_6_8)


def test_consistency_with_a_forked_new_tree_is_refused() -> None:
    with pytest.raises(MerkleProofError, match="tree of size 8 does not extend the tree of size"):
        verify_consistency(6, 8, ROOTS[6], root_of([*LEAVES[:7], LEAVES[0]]), PROOF_6_8)


@pytest.mark.parametrize(("old", "new"), [(9, 8), (1, 0), (8, 7)])
def test_consistency_from_a_larger_old_tree_is_refused(old: int, new: int) -> None:
    with pytest.raises(MerkleProofError, match=f"old tree size {old} is larger than .* {new}$"):
        verify_consistency(old, new, ROOTS[8], ROOTS[7], [])


@pytest.mark.parametrize(("old", "new"), [(-1, 8), (0, -1), (-2, -1)])
def test_consistency_with_negative_sizes_is_refused(old: int, new: int) -> None:
    with pytest.raises(MerkleProofError, match=NEGATIVE):
        verify_consistency(old, new, EMPTY_ROOT, ROOTS[8], [])


def test_consistency_from_the_empty_tree() -> None:
    verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(MerkleProofError, match="from size 0 to size 8 must be empty, but it"):
        verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [EMPTY_ROOT])
    with pytest.raises(MerkleProofError, match="from size 0 to size 0 must be empty"):
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    with pytest.raises(MerkleProofError, match="old root is not the root of an empty tree"):
        verify_consistency(0, 8, ROOTS[1], ROOTS[8], [])
    with pytest.raises(MerkleProofError, match="two roots of a tree of size 0 differ"):
        verify_consistency(0, 0, EMPTY_ROOT, ROOTS[1], [])


def test_consistency_between_equal_sizes() -> None:
    verify_consistency(8, 8, ROOTS[8], ROOTS[8], [])
    with pytest.raises(MerkleProofError, match="two roots of a tree of size 8 differ"):
        verify_consistency(8, 8, ROOTS[8], ROOTS[7], [])
    with pytest.raises(MerkleProofError, match="from size 8 to size 8 must be empty"):
        verify_consistency(8, 8, ROOTS[8], ROOTS[8], [ROOTS[8]])


@pytest.mark.parametrize(
    ("old_root", "new_root", "proof", "message"),
    [
        (ROOTS[6][:31], ROOTS[8], PROOF_6_8, "the old root is 31 bytes, not 32"),
        (ROOTS[6], ROOTS[8] * 2, PROOF_6_8, "the new root is 64 bytes, not 32"),
        (ROOTS[6], ROOTS[8], [*PROOF_6_8[:1], b"x", *PROOF_6_8[2:]], "proof hash 1 is 1 bytes"),
    ],
    ids=["short old root", "long new root", "short proof hash"],
)
def test_consistency_with_bad_hash_lengths_is_refused(
    old_root: bytes, new_root: bytes, proof: list[bytes], message: str
) -> None:
    with pytest.raises(MerkleProofError, match=message):
        verify_consistency(6, 8, old_root, new_root, proof)


def test_consistency_checks_hash_lengths_even_when_nothing_is_to_prove() -> None:
    with pytest.raises(MerkleProofError, match="new root is 0 bytes"):
        verify_consistency(0, 8, EMPTY_ROOT, b"", [])


# --- the generators' own argument checks ---------------------------------------------------


def test_generators_refuse_impossible_arguments() -> None:
    store = Store(LEAVES)
    with pytest.raises(ValueError, match="leaf index 8 is not in a tree of size 8"):
        inclusion_proof(8, 8, store.read)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(-1, 8, store.read)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(0, 0, store.read)
    with pytest.raises(ValueError, match="from size 8 to size 7"):
        consistency_proof(8, 7, store.read)
    with pytest.raises(ValueError, match="from size -1 to size 7"):
        consistency_proof(-1, 7, store.read)
    with pytest.raises(ValueError, match=NEGATIVE):
        tree_root(-1, store.read)
    with pytest.raises(ValueError, match=NEGATIVE):
        root_nodes(-1)
    assert store.reads == []


def test_append_leaves_refuses_a_bad_frontier_or_leaf() -> None:
    with pytest.raises(ValueError, match=r"frontier of a tree of size 3 lacks \[\(0, 2\)\]"):
        append_leaves(3, {(1, 0): ROOTS[2]}, [LEAVES[3]])
    with pytest.raises(ValueError, match="leaf hash 1 is 31 bytes"):
        append_leaves(0, {}, [LEAVES[0], LEAVES[1][:31]])
    with pytest.raises(ValueError, match=NEGATIVE):
        append_leaves(-1, {}, [])


def test_a_node_missing_from_the_store_is_reported() -> None:
    def forgetful(nodes: Sequence[Node]) -> Mapping[Node, bytes]:
        return {}

    with pytest.raises(KeyError, match="no hash for"):
        tree_root(3, forgetful)


def test_root_nodes_has_one_node_per_set_bit() -> None:
    assert root_nodes(0) == []
    assert root_nodes(1) == [(0, 0)]
    assert root_nodes(8) == [(3, 0)]
    assert root_nodes(13) == [(3, 0), (2, 2), (0, 12)]


# --- properties over random trees ----------------------------------------------------------


@st.composite
def grown_trees(draw: st.DrawFn, max_size: int = 600) -> tuple[list[bytes], list[int]]:
    """Distinct random leaf hashes and the batch sizes they are appended in."""
    size = draw(st.integers(0, max_size))
    salt = draw(st.binary(max_size=8))
    leaves = [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]
    cuts = sorted(draw(st.lists(st.integers(0, size), max_size=10)))
    batches = [b - a for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
    return leaves, batches


def _grow(leaves: list[bytes], batches: list[int]) -> Store:
    store = Store()
    for batch in batches:
        before = store.size
        rows = store.append(leaves[before : before + batch])
        # Exactly the nodes that became complete, each after its two children.
        assert {node for node, _ in rows} == complete_nodes(store.size) - complete_nodes(before)
        assert len(rows) == len({node for node, _ in rows})
        seen: set[Node] = set()
        for (level, index), _ in rows:
            if level:
                assert {(level - 1, 2 * index), (level - 1, 2 * index + 1)} <= (
                    seen | complete_nodes(before)
                )
            seen.add((level, index))
        assert tree_root(store.size, store.read) == root_of(leaves[: store.size])
        store.only_read(store.size)
    return store


@settings(max_examples=60, deadline=None)
@given(grown_trees())
def test_stored_nodes_do_not_depend_on_batching(tree: tuple[list[bytes], list[int]]) -> None:
    leaves, batches = tree
    store = _grow(leaves, batches)
    assert set(store.nodes) == complete_nodes(len(leaves))
    assert store.nodes == Store(leaves).nodes


def _sizes_and_indexes(data: st.DataObject, n: int, count: int) -> list[tuple[int, int]]:
    """(index, size) pairs: all of them for a small tree, else a sample with the edges."""
    if n <= 40:
        return [(i, m) for m in range(1, n + 1) for i in range(m)]
    pairs = [(0, n), (n - 1, n), (0, 1)]
    for _ in range(count):
        m = data.draw(st.integers(1, n))
        pairs.append((data.draw(st.integers(0, m - 1)), m))
    return pairs


@settings(max_examples=60, deadline=None)
@given(grown_trees(), st.data())
def test_every_inclusion_proof_verifies(
    tree: tuple[list[bytes], list[int]], data: st.DataObject
) -> None:
    leaves, batches = tree
    store = _grow(leaves, batches)
    roots = {m: root_of(leaves[:m]) for m in range(len(leaves) + 1)}
    for index, size in _sizes_and_indexes(data, len(leaves), 25):
        proof = inclusion_proof(index, size, store.read)
        assert len(store.only_read(size)) >= len(proof)
        verify_inclusion(index, size, leaves[index], proof, roots[size])


def _old_and_new_sizes(data: st.DataObject, n: int, count: int) -> list[tuple[int, int]]:
    if n <= 30:
        return [(m, k) for k in range(n + 1) for m in range(k + 1)]
    pairs = [(0, n), (1, n), (n - 1, n), (n, n)]
    for _ in range(count):
        k = data.draw(st.integers(0, n))
        pairs.append((data.draw(st.integers(0, k)), k))
    return pairs


@settings(max_examples=60, deadline=None)
@given(grown_trees(), st.data())
def test_every_consistency_proof_verifies(
    tree: tuple[list[bytes], list[int]], data: st.DataObject
) -> None:
    leaves, batches = tree
    store = _grow(leaves, batches)
    roots = {m: root_of(leaves[:m]) for m in range(len(leaves) + 1)}
    for old, new in _old_and_new_sizes(data, len(leaves), 25):
        proof = consistency_proof(old, new, store.read)
        store.only_read(new)
        assert (proof == []) == (old in (0, new))
        verify_consistency(old, new, roots[old], roots[new], proof)


@settings(max_examples=80, deadline=None)
@given(grown_trees(max_size=300), st.data())
def test_altered_inclusion_proofs_are_refused(
    tree: tuple[list[bytes], list[int]], data: st.DataObject
) -> None:
    leaves, _ = tree
    n = len(leaves)
    if n < 2:
        return
    store = Store(leaves)
    size = data.draw(st.integers(2, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(index, size, store.read)
    root = tree_root(size, store.read)
    leaf = leaves[index]

    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    bit = data.draw(st.integers(0, 8 * HASH_SIZE - 1), label="bit")
    altered = list(proof)
    altered[position] = (int.from_bytes(proof[position], "big") ^ (1 << bit)).to_bytes(32, "big")
    with pytest.raises(MerkleProofError, match=MISMATCH):
        verify_inclusion(index, size, leaf, altered, root)

    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
    with pytest.raises(MerkleProofError, match=MISMATCH):
        verify_inclusion(index, size, leaves[other], proof, root)
    with pytest.raises(MerkleProofError, match=f"{MISMATCH}|{TOO_MANY}|{TOO_FEW}"):
        verify_inclusion(other, size, leaf, proof, root)
    with pytest.raises(MerkleProofError, match=TOO_FEW):
        verify_inclusion(index, size * 2, leaf, proof, root)
    with pytest.raises(MerkleProofError, match=f"{TOO_MANY}|{OUTSIDE}"):
        verify_inclusion(index, size // 2, leaf, proof, root)
    with pytest.raises(MerkleProofError, match=TOO_FEW):
        verify_inclusion(index, size, leaf, proof[:-1], root)
    extra = data.draw(st.sampled_from([root, leaf, SOME_HASH]), label="extra")
    at = data.draw(st.integers(0, len(proof)), label="at")
    with pytest.raises(MerkleProofError, match=TOO_MANY):
        verify_inclusion(index, size, leaf, [*proof[:at], extra, *proof[at:]], root)


@settings(max_examples=80, deadline=None)
@given(grown_trees(max_size=300), st.data())
def test_altered_consistency_proofs_are_refused(
    tree: tuple[list[bytes], list[int]], data: st.DataObject
) -> None:
    leaves, _ = tree
    n = len(leaves)
    if n < 2:
        return
    store = Store(leaves)
    new = data.draw(st.integers(2, n), label="new")
    old = data.draw(st.integers(1, new - 1), label="old")
    proof = consistency_proof(old, new, store.read)
    old_root, new_root = tree_root(old, store.read), tree_root(new, store.read)

    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    bit = data.draw(st.integers(0, 8 * HASH_SIZE - 1), label="bit")
    altered = list(proof)
    altered[position] = (int.from_bytes(proof[position], "big") ^ (1 << bit)).to_bytes(32, "big")
    with pytest.raises(MerkleProofError, match=f"{MISMATCH} (old|new) root"):
        verify_consistency(old, new, old_root, new_root, altered)

    with pytest.raises(MerkleProofError, match=f"{MISMATCH} (old|new) root"):
        verify_consistency(old, new, new_root, old_root, proof)
    with pytest.raises(MerkleProofError, match=f"{TOO_FEW}|is empty"):
        verify_consistency(old, new, old_root, new_root, proof[:-1])
    extra = data.draw(st.sampled_from([old_root, new_root, SOME_HASH]), label="extra")
    at = data.draw(st.integers(0, len(proof)), label="at")
    with pytest.raises(MerkleProofError, match=TOO_MANY):
        verify_consistency(old, new, old_root, new_root, [*proof[:at], extra, *proof[at:]])
    with pytest.raises(MerkleProofError, match="larger than"):
        verify_consistency(new, old, new_root, old_root, proof)
