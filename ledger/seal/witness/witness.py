"""A witness: C2SP tlog-witness ``add-checkpoint``, without HTTP.

The street disciplinary committee (街道纪工委) runs one. It is configured with the verifier
keys of the communities' logs; a log's origin is its key's name. For each origin it keeps the
latest checkpoint it cosigned, and it cosigns a new checkpoint only if it is signed by the
log and provably consistent with that one, so that a log operator who rewrites history or
shows different histories to different people is caught: the witness refuses, and keeps the
signed evidence.

:class:`Witness` answers the protocol with a :class:`WitnessReply` (status, content type,
body) that the HTTP app and the offline command pass on unchanged. :class:`WitnessState` is
the SQLite file that holds one row per origin; the check of the old size and the update
happen in one ``BEGIN IMMEDIATE`` transaction, so two concurrent requests cannot roll the
witness back (the race described at the end of the add-checkpoint section of the spec).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import FormatError, GongkaiError, InvalidInputError, StoreError
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

TEXT = "text/plain; charset=utf-8"
SIZE = "text/x.tlog.size"
"""The content type of a 409 answer, whose body is the latest cosigned size and a newline."""

MAX_PROOF_LINES = 63
""""The client MUST NOT send more than 63 consistency proof lines"; more is malformed."""

MAX_REQUEST_BYTES = 256 * 1024
"""Far above any honest request (63 proof lines and a checkpoint with a few dozen
signatures); a longer body is refused as malformed before it is parsed."""

MAX_TREE_SIZE = 2**63 - 1
"""Sizes are stored as SQLite integers; no community log comes near."""

HASH_SIZE = 32
_OLD_LINE = re.compile(rb"old (0|[1-9][0-9]*)")
_ORIGIN_HASH = re.compile(r"[0-9a-f]{64}")


# --- the request body, for both sides -----------------------------------------------------


@dataclass(frozen=True)
class AddCheckpointRequest:
    """A parsed add-checkpoint body: ``old_size``, the consistency ``proof`` and the
    ``signed_checkpoint`` note exactly as sent (not yet verified)."""

    old_size: int
    proof: tuple[bytes, ...]
    signed_checkpoint: str


def format_add_checkpoint_request(
    old_size: int, proof: Sequence[bytes], signed_checkpoint: str
) -> bytes:
    """The body of an add-checkpoint request: ``old <size>``, one base64 line per proof
    hash, an empty line, then the signed checkpoint."""
    if not 0 <= old_size <= MAX_TREE_SIZE:
        raise InvalidInputError(f"old size {old_size} is out of range", field="old_size")
    if len(proof) > MAX_PROOF_LINES:
        raise InvalidInputError(
            f"{len(proof)} proof hashes; the protocol allows at most {MAX_PROOF_LINES}",
            field="proof",
        )
    for i, h in enumerate(proof, 1):
        if len(h) != HASH_SIZE:
            raise InvalidInputError(
                f"proof hash {i} is {len(h)} bytes, not {HASH_SIZE}", field="proof"
            )
    if not signed_checkpoint.endswith("\n"):
        raise InvalidInputError(
            "a signed checkpoint ends with a newline", field="signed_checkpoint"
        )
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in proof), ""]
    return ("\n".join(lines) + "\n" + signed_checkpoint).encode("utf-8")


def parse_add_checkpoint_request(body: bytes) -> AddCheckpointRequest:
    """Split an add-checkpoint body into its parts; :class:`FormatError` if it does not
    follow the format (which the witness answers with 400)."""
    if len(body) > MAX_REQUEST_BYTES:
        raise FormatError(f"the request is longer than {MAX_REQUEST_BYTES} bytes")
    end = body.find(b"\n")
    if end < 0:
        raise FormatError("the request has no old size line ending in a newline")
    # "The old size line MUST consist of the string old, a single space (0x20), and the tree
    # size of the previous checkpoint encoded as an ASCII decimal with no leading zeroes."
    match = _OLD_LINE.fullmatch(body[:end])
    if match is None:
        raise FormatError("the first line must be 'old <size>', a decimal without leading zeroes")
    digits = match.group(1)
    if len(digits) > len(str(MAX_TREE_SIZE)) or int(digits) > MAX_TREE_SIZE:
        raise FormatError("the old size is too large")
    old_size = int(digits)
    pos = end + 1
    proof: list[bytes] = []
    while True:
        # "Each line MUST terminate in a newline character (U+000A)."
        end = body.find(b"\n", pos)
        if end < 0:
            raise FormatError(
                "the request ends before the empty line that precedes the checkpoint"
            )
        line, pos = body[pos:end], end + 1
        if not line:
            break
        # "The client MUST NOT send more than 63 consistency proof lines."
        if len(proof) == MAX_PROOF_LINES:
            raise FormatError(f"more than {MAX_PROOF_LINES} consistency proof lines")
        proof.append(_decode_hash(line, len(proof) + 1))
    try:
        signed_checkpoint = body[pos:].decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("the checkpoint is not valid UTF-8") from None
    if not signed_checkpoint:
        raise FormatError("the request has no checkpoint after the empty line")
    return AddCheckpointRequest(old_size, tuple(proof), signed_checkpoint)


def _decode_hash(line: bytes, number: int) -> bytes:
    # "Each consistency proof line MUST encode a single hash in base64."
    try:
        h = base64.b64decode(line, validate=True)
    except binascii.Error:
        raise FormatError(f"consistency proof line {number} is not base64") from None
    if len(h) != HASH_SIZE or base64.b64encode(h) != line:
        raise FormatError(f"consistency proof line {number} is not one base64 SHA-256 hash")
    return h


# --- the state file -----------------------------------------------------------------------


@dataclass(frozen=True)
class CosignedCheckpoint:
    """The latest checkpoint the witness cosigned for ``origin``: its size and root, and the
    note with the log signatures the witness verified and the witness's cosignature."""

    origin: str
    size: int
    root: bytes
    note: str


@dataclass(frozen=True)
class Refusal:
    """A validly signed checkpoint that failed a consistency check: evidence against the
    log (a fork, a bad proof), kept with the whole request."""

    origin: str
    received_at: int
    status: int
    reason: str
    request: bytes


_SCHEMA = """
CREATE TABLE IF NOT EXISTS witness_checkpoint (
    origin TEXT PRIMARY KEY,
    origin_hash TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL CHECK (length(root) = 32),
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_refusal (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS witness_refusal_origin ON witness_refusal (origin, id);
"""


def origin_hash(origin: str) -> str:
    """The lowercase hex SHA-256 of an origin, as in the monitoring URL."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


class WitnessTransaction:
    """One ``BEGIN IMMEDIATE`` transaction on the state of one origin (see
    :meth:`WitnessState.begin`)."""

    def __init__(self, conn: sqlite3.Connection, origin: str) -> None:
        self._conn = conn
        self.origin = origin
        row = conn.execute(
            "SELECT size, root, note FROM witness_checkpoint WHERE origin = ?", (origin,)
        ).fetchone()
        self.latest = CosignedCheckpoint(origin, row[0], bytes(row[1]), row[2]) if row else None
        """What the witness last cosigned for the origin, read under the write lock."""

    def save(self, size: int, root: bytes, note: str) -> None:
        self._conn.execute(
            "INSERT INTO witness_checkpoint (origin, origin_hash, size, root, note)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (origin) DO UPDATE"
            " SET size = excluded.size, root = excluded.root, note = excluded.note",
            (self.origin, origin_hash(self.origin), size, root, note),
        )

    def record_refusal(self, received_at: int, status: int, reason: str, request: bytes) -> None:
        self._conn.execute(
            "INSERT INTO witness_refusal (origin, received_at, status, reason, request)"
            " VALUES (?, ?, ?, ?, ?)",
            (self.origin, received_at, status, reason, request),
        )


class WitnessState:
    """The witness's SQLite file, created on first use: one row per origin with the latest
    cosigned checkpoint, and the refusals kept as evidence."""

    def __init__(self, path: Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the witness state {self.path}: {e}") from e
        try:
            # Durable before the answer: "The witness MUST persist the new checkpoint before
            # responding." WAL lets monitors read while a request holds the write lock.
            conn.execute("PRAGMA synchronous = FULL")
            if not self._ready:
                conn.execute("PRAGMA journal_mode = WAL")
                # executescript() commits first; the script holds its own write lock.
                conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
                self._ready = True
        except sqlite3.Error as e:
            conn.close()
            raise StoreError(f"cannot use the witness state {self.path}: {e}") from e
        return conn

    @contextmanager
    def begin(self, origin: str) -> Iterator[WitnessTransaction]:
        """Hold the write lock of the state file while the caller checks and updates the
        origin's row: commit if the block ends normally, roll back if it raises."""
        with closing(self._connect()) as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                txn = WitnessTransaction(conn, origin)
            except sqlite3.Error as e:
                raise StoreError(f"cannot lock the witness state {self.path}: {e}") from e
            try:
                yield txn
                conn.commit()
            except sqlite3.Error as e:
                with suppress(sqlite3.Error):
                    conn.rollback()
                raise StoreError(f"cannot save the witness state {self.path}: {e}") from e
            except BaseException:
                with suppress(sqlite3.Error):
                    conn.rollback()
                raise

    def latest(self, origin: str) -> CosignedCheckpoint | None:
        return self._select("origin = ?", origin)

    def latest_by_hash(self, hex_hash: str) -> CosignedCheckpoint | None:
        return self._select("origin_hash = ?", hex_hash)

    def _select(self, where: str, value: str) -> CosignedCheckpoint | None:
        with closing(self._connect()) as conn:
            try:
                row = conn.execute(
                    f"SELECT origin, size, root, note FROM witness_checkpoint WHERE {where}",
                    (value,),
                ).fetchone()
            except sqlite3.Error as e:
                raise StoreError(f"cannot read the witness state {self.path}: {e}") from e
        return CosignedCheckpoint(row[0], row[1], bytes(row[2]), row[3]) if row else None

    def refusals(self, origin: str) -> list[Refusal]:
        """The evidence kept for ``origin``, oldest first."""
        with closing(self._connect()) as conn:
            try:
                rows = conn.execute(
                    "SELECT origin, received_at, status, reason, request FROM witness_refusal"
                    " WHERE origin = ? ORDER BY id",
                    (origin,),
                ).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"cannot read the witness state {self.path}: {e}") from e
        return [Refusal(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]


# --- the witness --------------------------------------------------------------------------


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
