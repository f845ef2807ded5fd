"""The verifier's streaming root equals the RFC 6962 root at every size."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from ledger.seal.merkle import EMPTY_ROOT, leaf_hash, root_of
from ledger.seal.verify import RunningRoot


@given(st.integers(0, 300))
def test_running_root_is_the_merkle_root_at_every_size(n: int) -> None:
    leaves = [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]
    running = RunningRoot()
    assert running.root() == EMPTY_ROOT
    for i, leaf in enumerate(leaves, start=1):
        running.append(leaf)
        assert running.size == i
        assert running.root() == root_of(leaves[:i])
