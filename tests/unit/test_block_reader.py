"""The block reader an export uses gives exactly the proofs of a plain reader, across
many blocks and at the tree's right edge, with a bounded number of block reads."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, cast

from ledger.seal.merkle import append_leaves, inclusion_proof, leaf_hash
from ledger.store.base import Node
from ledger.store.seal import BlockReader, SealStore


class DictSeal:
    """The two reads BlockReader makes, over nodes held in a dict, counted."""

    def __init__(self, nodes: dict[Node, bytes]) -> None:
        self.nodes = nodes
        self.block_reads = 0

    def read_block(self, block: int, levels: int = 8) -> dict[Node, bytes]:
        self.block_reads += 1
        return {
            (level, idx): h
            for (level, idx), h in self.nodes.items()
            if level < levels and (idx << level) >> levels == block
        }

    def read_nodes(self, nodes: Sequence[Node]) -> dict[Node, bytes]:
        return {n: self.nodes[n] for n in nodes}


def test_block_reader_matches_a_plain_reader() -> None:
    leaves = [leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(1300)]
    nodes = dict(append_leaves(0, {}, leaves))
    seal = DictSeal(nodes)
    reader = BlockReader(cast(SealStore, cast(Any, seal)))
    for size in (1300, 1024, 777):
        for i in range(size):
            assert inclusion_proof(i, size, reader) == inclusion_proof(i, size, seal.read_nodes)
    blocks = (1300 + 255) // 256
    assert seal.block_reads <= 3 * (2 * blocks), seal.block_reads
