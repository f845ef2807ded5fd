"""The witness (C2SP tlog-witness ``add-checkpoint``), without HTTP: it cosigns a
community's checkpoint only if the log signed it and it is consistent with the last one
it cosigned.

- :mod:`ledger.seal.witness.request`: the add-checkpoint request body, for both sides;
- :mod:`ledger.seal.witness.state`: the SQLite file of the latest cosigned checkpoint
  and the refusals, per origin;
- :mod:`ledger.seal.witness.witness`: the :class:`Witness` and its replies.

Import the names below from here."""

from ledger.seal.witness.request import (
    HASH_SIZE,
    MAX_PROOF_LINES,
    MAX_REQUEST_BYTES,
    MAX_TREE_SIZE,
    AddCheckpointRequest,
    format_add_checkpoint_request,
    parse_add_checkpoint_request,
)
from ledger.seal.witness.state import (
    CosignedCheckpoint,
    Refusal,
    WitnessState,
    WitnessTransaction,
    origin_hash,
)
from ledger.seal.witness.witness import (
    SIZE,
    TEXT,
    Witness,
    WitnessReply,
)

__all__ = [
    "HASH_SIZE",
    "MAX_PROOF_LINES",
    "MAX_REQUEST_BYTES",
    "MAX_TREE_SIZE",
    "SIZE",
    "TEXT",
    "AddCheckpointRequest",
    "CosignedCheckpoint",
    "Refusal",
    "Witness",
    "WitnessReply",
    "WitnessState",
    "WitnessTransaction",
    "format_add_checkpoint_request",
    "origin_hash",
    "parse_add_checkpoint_request",
]
