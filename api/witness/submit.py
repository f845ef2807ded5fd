"""The log's side of the witness protocol: ask a witness to cosign a checkpoint, with a
consistency proof from the last size it cosigned, and keep the cosignatures it returns."""

from __future__ import annotations

from api.witness.client import WitnessConflictError, WitnessRejectedError, submit_checkpoint
from ledger.seal.community_log import CommunityLog
from ledger.store.base import Cosigner, StoredCheckpoint


def _last_witnessed_size(log: CommunityLog, witnesses: list[Cosigner]) -> int:
    keys = {(w.name, w.key_id) for w in witnesses}
    sizes = [cp.tree_size for cp in log.seal.checkpoints(limit=200)]
    for cosignature in reversed(log.seal.cosignatures(sizes)):
        if (cosignature.key_name, cosignature.key_id) in keys:
            return cosignature.tree_size
    return 0


def submit_to_witness(log: CommunityLog, checkpoint: StoredCheckpoint, url: str) -> list[Cosigner]:
    """Submit ``checkpoint`` to the witness at ``url``; returns the accepted witnesses
    whose cosignatures were verified and stored. The witness must have been accepted
    with ``gongkai cosigner add --role witness`` for its cosignature to be kept."""
    witnesses = [c for c in log.cosigners() if c.role == "witness"]
    old = _last_witnessed_size(log, witnesses)
    if old > checkpoint.tree_size:
        old = 0
    for _ in range(2):
        proof = log.consistency(old, checkpoint.tree_size) if old else []
        try:
            signatures = submit_checkpoint(url, old, proof, checkpoint.note)
            break
        except WitnessConflictError as e:
            # The witness says which size it cosigned last: prove from there.
            if e.size > checkpoint.tree_size:
                raise WitnessRejectedError(
                    409,
                    f"the witness has cosigned size {e.size}, larger than this log's "
                    f"{checkpoint.tree_size}: the log looks rolled back",
                ) from None
            old = e.size
    else:
        raise WitnessRejectedError(409, "the witness kept answering with a conflict")
    stored = []
    for signature in signatures:
        cosigner, _ = log.add_cosignature(checkpoint.tree_size, signature.line())
        stored.append(cosigner)
    return stored
