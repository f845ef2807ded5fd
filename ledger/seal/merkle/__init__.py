"""Merkle trees over the ledger (RFC 6962 / RFC 9162): the tree, its roots and proofs
as the store keeps them (:mod:`.tree`), and the checks of proofs that come from outside
(:mod:`.verify`). Import the names below from here, or the package as ``merkle``."""

from ledger.seal.merkle.tree import (
    EMPTY_ROOT,
    HASH_SIZE,
    LEAF_PREFIX,
    NODE_PREFIX,
    RUN_BLOCK_LEVELS,
    MerkleProofError,
    Node,
    NodeReader,
    append_leaves,
    consistency_proof,
    inclusion_proof,
    inclusion_proofs,
    leaf_hash,
    node_hash,
    root_nodes,
    root_of,
    tree_root,
)
from ledger.seal.merkle.verify import InclusionVerifier, verify_consistency, verify_inclusion

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "RUN_BLOCK_LEVELS",
    "InclusionVerifier",
    "MerkleProofError",
    "Node",
    "NodeReader",
    "append_leaves",
    "consistency_proof",
    "inclusion_proof",
    "inclusion_proofs",
    "leaf_hash",
    "node_hash",
    "root_nodes",
    "root_of",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]
