"""The seal over a community's chain: its Merkle tree (RFC 6962), the checkpoints its log
key signs (C2SP signed notes and checkpoints), the committee's and witnesses'
cosignatures, inclusion proofs, and the key files those signatures are made with."""
