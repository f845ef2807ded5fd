"""The witness itself: C2SP tlog-witness ``add-checkpoint``, without HTTP.

The street disciplinary committee (街道纪工委) runs one. It is configured with the verifier
keys of the communities' logs; a log's origin is its key's name. For each origin it keeps the
latest checkpoint it cosigned, and it cosigns a new checkpoint only if it is signed by the
log and provably consistent with that one, so that a log operator who rewrites history or
shows different histories to different people is caught: the witness refuses, and keeps the
signed evidence.

:class:`Witness` answers the protocol with a :class:`WitnessReply` (status, content type,
body) that the HTTP app and the offline command pass on unchanged; what it keeps is in
:mod:`ledger.seal.witness.state`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import FormatError, GongkaiError, InvalidInputError
from ledger.seal.checkpoint import Checkpoint, parse_checkpoint
from ledger.seal.keys import KeyKind, PrivateKey
from ledger.seal.merkle import EMPTY_ROOT, MerkleProofError, verify_consistency
from ledger.seal.note import (
    SIG_ED25519,
    CosignatureSigner,
    Note,
    NoteVerificationError,
    NoteVerifier,
    Signature,
    cosignature_timestamp,
    open_note,
    parse_note,
)
from ledger.seal.witness.request import (
    MAX_TREE_SIZE,
    AddCheckpointRequest,
    parse_add_checkpoint_request,
)
from ledger.seal.witness.state import WitnessState, WitnessTransaction

TEXT = "text/plain; charset=utf-8"
SIZE = "text/x.tlog.size"
"""The content type of a 409 answer, whose body is the latest cosigned size and a newline."""

_ORIGIN_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class WitnessReply:
    """An answer of the protocol: ``body`` goes out as is with ``status`` and
    ``content_type``; ``reason`` says in words why (the body too, except for 409, whose
    body must be the size line alone)."""

    status: int
    content_type: str
    body: bytes
    reason: str = ""

    @classmethod
    def refuse(cls, status: int, reason: str) -> WitnessReply:
        return cls(status, TEXT, (reason + "\n").encode("utf-8"), reason)


class _RefusedError(GongkaiError):
    """Internal: leave the transaction with a refusal (a 4xx reply)."""

    def __init__(self, reply: WitnessReply, *, evidence: bool = False) -> None:
        super().__init__(reply.reason)
        self.reply = reply
        self.evidence = evidence


class Witness:
    """Cosigns checkpoints of the configured logs that are consistent with the last one it
    cosigned for each origin (C2SP tlog-witness, cosignatures per C2SP tlog-cosignature
    Ed25519 v1, signature type 0x04)."""

    def __init__(
        self,
        key: PrivateKey,
        logs: Sequence[NoteVerifier],
        state_path: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if key.kind is not KeyKind.COSIGNER:
            raise InvalidInputError(
                f"the witness key {key.name} is a {key.kind} key, not a cosigner key", field="key"
            )
        if not logs:
            raise InvalidInputError("a witness needs the verifier key of at least one log")
        self.name = key.name
        self.vkey = key.vkey
        self.verifier = key.verifier()
        self._signer = CosignatureSigner(key.seed, key.name, clock=clock)
        self._clock = clock
        self._logs: dict[str, list[NoteVerifier]] = {}
        for verifier in logs:
            if verifier.sig_type != SIG_ED25519:
                raise InvalidInputError(
                    f"log key {verifier.name} is of signature type 0x{verifier.sig_type:02x}; "
                    "a log signs its checkpoints with an Ed25519 (0x01) key",
                    field="logs",
                )
            # The log's key name SHOULD match the origin (tlog-checkpoint): it is the origin.
            self._logs.setdefault(verifier.name, []).append(verifier)
        self.state = WitnessState(state_path)

    @property
    def origins(self) -> list[str]:
        return sorted(self._logs)

    def add_checkpoint(self, body: bytes) -> WitnessReply:
        """Answer ``POST <submission prefix>/add-checkpoint`` with ``body``. Raises
        :class:`StoreError` only if the state file cannot be used."""
        # 1. "The request body MUST be a sequence of an old size line, zero or more consistency
        #    proof lines, and an empty line, followed by a checkpoint." A body that is not,
        #    or whose checkpoint is not a well-formed signed note, is a bad request.
        try:
            request = parse_add_checkpoint_request(body)
            note = parse_note(request.signed_checkpoint)
            checkpoint = parse_checkpoint(note.text)
        except FormatError as e:
            return WitnessReply.refuse(400, f"malformed request: {e}")
        if checkpoint.size > MAX_TREE_SIZE:
            return WitnessReply.refuse(400, "malformed request: the checkpoint size is too large")

        # 2. "If the checkpoint origin is unknown, the witness MUST respond with a 404 Not
        #    Found HTTP status code."
        trusted = self._logs.get(checkpoint.origin)
        if trusted is None:
            return WitnessReply.refuse(404, f"unknown log origin {checkpoint.origin!r}")

        # 3. "The witness MUST verify the checkpoint signature against the public key(s) it
        #    trusts for the checkpoint origin, and it MUST ignore signatures from unknown
        #    keys." 403 "if either no signature from a trusted key for the origin is present,
        #    or a signature line's key name and ID match a trusted key but the signature
        #    itself fails to verify".
        #    open_note follows signed-note: a signature counts only if both key name and key
        #    ID match a trusted key, and one of those that fails rejects the note.
        try:
            opened = open_note(note, trusted)
        except NoteVerificationError as e:
            return WitnessReply.refuse(
                403, f"the checkpoint is not validly signed by its log: {e}"
            )
        log_signatures = [signature for _key, signature in opened.verified]

        # 4. "The old size MUST be equal to or lower than the checkpoint size. Otherwise, the
        #    witness MUST respond with a 400 Bad Request HTTP status code."
        if request.old_size > checkpoint.size:
            return WitnessReply.refuse(
                400,
                f"old size {request.old_size} is larger than the checkpoint size "
                f"{checkpoint.size}",
            )

        # 5. "Checking the old size against the latest checkpoint and persisting the new
        #    checkpoint must be performed atomically": steps 6 to 12 hold the write lock.
        with self.state.begin(checkpoint.origin) as txn:
            try:
                self._check_consistency(txn, request, checkpoint)
            except _RefusedError as refused:
                if refused.evidence:
                    # 11. "If the origin is known, and the signature is valid, the witness
                    #     MAY log the request even if the checkpoint fails one of the
                    #     consistency checks above (but MUST NOT cosign the checkpoint)."
                    txn.record_refusal(
                        int(self._clock()), refused.reply.status, refused.reply.reason, body
                    )
                return refused.reply
            # 12. "If all the checks above pass, the witness MUST update its record of the
            #     latest cosigned checkpoint and respond with a 200 Success HTTP status
            #     code." The cosignature is a timestamped Ed25519 cosignature v1 over the
            #     whole note text; "the timestamp MUST NOT be zero".
            text = note.text
            signed = self._signer.sign(text.encode("utf-8"))
            if cosignature_timestamp(signed) == 0:
                raise InvalidInputError("the witness clock reads 0; a cosignature needs the time")
            cosignature = Signature(self._signer.name, self._signer.key_id, signed)
            record = Note(text, (*log_signatures, cosignature))
            # "The witness MUST persist the new checkpoint before responding": the commit
            # at the end of this block happens before the reply leaves.
            txn.save(checkpoint.size, checkpoint.root, str(record))
        return WitnessReply(200, TEXT, cosignature.line().encode("utf-8"))

    def _check_consistency(
        self, txn: WitnessTransaction, request: AddCheckpointRequest, checkpoint: Checkpoint
    ) -> None:
        latest = txn.latest
        latest_size = latest.size if latest is not None else 0

        # 6. "The witness MUST check that the old size matches the size of the latest
        #    checkpoint it cosigned for the checkpoint's origin (or zero if it never cosigned
        #    a checkpoint for that origin). If it doesn't match, the witness MUST respond with
        #    a 409 Conflict HTTP status code. The response body MUST consist of the tree size
        #    of the latest cosigned checkpoint in decimal, followed by a newline (U+000A). The
        #    response MUST have a Content-Type of text/x.tlog.size."
        if request.old_size != latest_size:
            reason = (
                f"old size {request.old_size} does not match the latest cosigned size "
                f"{latest_size}"
            )
            raise _RefusedError(
                WitnessReply(409, SIZE, f"{latest_size}\n".encode("ascii"), reason)
            )

        # 7. "A checkpoint of size zero MUST have the root hash of the empty tree, which
        #    RFC 6962, Section 2.1 defines as the hash of the empty string. Otherwise, the
        #    witness MUST respond with a 422 Unprocessable Entity HTTP status code."
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            raise _RefusedError(
                WitnessReply.refuse(422, "a checkpoint of size 0 must have the empty tree's root"),
                evidence=True,
            )

        # 8. "If the old size is zero, the consistency proof MUST be empty, because the empty
        #    tree is consistent with any tree." "If the proof is not empty when the old size
        #    is zero ... the witness MUST respond with a 422 Unprocessable Entity."
        if request.old_size == 0:
            if request.proof:
                raise _RefusedError(
                    WitnessReply.refuse(
                        422, "the consistency proof from old size 0 must be empty"
                    ),
                    evidence=True,
                )
            return

        assert latest is not None  # old size == latest size > 0
        # 9. "If the old size matches the checkpoint size, the witness MUST check that the root
        #    hashes are also identical. If they don't match, the witness MUST respond with a
        #    422 Unprocessable Entity HTTP status code." Between equal sizes the RFC 6962
        #    consistency proof is empty.
        if request.old_size == checkpoint.size:
            if checkpoint.root != latest.root:
                raise _RefusedError(
                    WitnessReply.refuse(
                        422,
                        f"the checkpoint has the cosigned size {latest.size} but a different "
                        "root hash: the log has forked",
                    ),
                    evidence=True,
                )
            if request.proof:
                raise _RefusedError(
                    WitnessReply.refuse(
                        422, "the consistency proof between equal sizes must be empty"
                    ),
                    evidence=True,
                )
            return

        # 10. "Otherwise, the consistency proof lines MUST encode a Merkle Consistency Proof
        #     from the old size to the checkpoint size according to RFC 6962, Section 2.1.2."
        #     "If a Merkle Consistency Proof doesn't verify, the witness MUST respond with a
        #     422 Unprocessable Entity HTTP status code."
        try:
            verify_consistency(
                latest.size, checkpoint.size, latest.root, checkpoint.root, request.proof
            )
        except MerkleProofError as e:
            raise _RefusedError(
                WitnessReply.refuse(
                    422,
                    f"the consistency proof from size {latest.size} to {checkpoint.size} "
                    f"does not verify: {e}",
                ),
                evidence=True,
            ) from e

    def latest(self, origin_hash_hex: str) -> WitnessReply:
        """Answer ``GET <monitoring prefix>/<origin hash>/checkpoint``: the latest cosigned
        checkpoint, with the log signatures the witness verified and its cosignature."""
        # "The origin hash is the SHA-256 hash of the log's origin, hex encoded, in
        # lowercase." "If the witness has never cosigned a checkpoint for that log, it MUST
        # respond with a 404 Not Found HTTP status code instead."
        if _ORIGIN_HASH.fullmatch(origin_hash_hex) is None:
            return WitnessReply.refuse(
                404, "not a log origin hash (lowercase hex SHA-256 of the origin)"
            )
        found = self.state.latest_by_hash(origin_hash_hex)
        if found is None:
            return WitnessReply.refuse(
                404, "this witness has never cosigned a checkpoint of that log"
            )
        return WitnessReply(200, TEXT, found.note.encode("utf-8"))
