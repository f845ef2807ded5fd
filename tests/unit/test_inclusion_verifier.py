"""The path-remembering verifier decides every proof exactly as verify_inclusion does:
the same proofs pass, and every mutated one fails, whatever came before it."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.seal.merkle import (
    InclusionVerifier,
    MerkleProofError,
    append_leaves,
    inclusion_proof,
    leaf_hash,
    root_of,
    verify_inclusion,
)


def tree(n: int) -> tuple[list[bytes], dict[tuple[int, int], bytes], bytes]:
    leaves = [leaf_hash(hashlib.sha256(i.to_bytes(4, "big")).digest()) for i in range(n)]
    return leaves, dict(append_leaves(0, {}, leaves)), root_of(leaves)


def accepts(check: object, *args: object) -> bool:
    try:
        check(*args)  # type: ignore[operator]
    except MerkleProofError:
        return False
    return True


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_same_verdicts_as_verify_inclusion(n: int, data: st.DataObject) -> None:
    leaves, nodes, root = tree(n)
    checker = InclusionVerifier(n, root)
    indices = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=40))
    start = data.draw(st.integers(0, n - 1))
    indices += list(range(start, min(n, start + 40)))  # a run of neighbours
    for i in indices:
        proof = inclusion_proof(i, n, lambda want: {k: nodes[k] for k in want})
        checker.verify(i, leaves[i], proof)
        mutations: list[tuple[int, bytes, list[bytes]]] = [
            (i, leaves[(i + 1) % n], proof) if n > 1 else (i, bytes(32), proof),
            (i + 1, leaves[i], proof),
            (i, leaves[i], proof[:-1]),
            (i, leaves[i], [*proof, bytes(32)]),
        ]
        for k in range(len(proof)):
            flipped = bytearray(proof[k])
            flipped[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
            mutations.append((i, leaves[i], [*proof[:k], bytes(flipped), *proof[k + 1 :]]))
        for index, leaf, bad in mutations:
            expected = accepts(verify_inclusion, index, n, leaf, bad, root)
            assert accepts(checker.verify, index, leaf, bad) == expected, (index, n)


def test_a_failure_names_what_failed() -> None:
    leaves, nodes, root = tree(10)
    checker = InclusionVerifier(10, root)
    good = inclusion_proof(3, 10, lambda want: {k: nodes[k] for k in want})
    checker.verify(3, leaves[3], good)
    with pytest.raises(MerkleProofError, match="does not lead to the expected root"):
        checker.verify(4, leaves[3], inclusion_proof(4, 10, lambda w: {k: nodes[k] for k in w}))
    with pytest.raises(MerkleProofError, match="outside a tree"):
        checker.verify(10, leaves[3], good)
