"""The ``gongkai-bundle/v1`` format's names and the pieces that the writer
(:mod:`ledger.bundle.write`) and the verifier (:mod:`ledger.bundle.verify`) share: the
file names, the report types, and the exact JSON form of an entry and of its proof.

Both sides import this module and it imports neither, so that what the writer emits and
what the verifier accepts are defined once."""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Final

from ledger.chain.hashing import entry_hash, genesis_hash
from ledger.errors import VerificationError
from ledger.seal import merkle
from ledger.store.base import RawRow

FORMAT: Final = "gongkai-bundle/v1"
MANIFEST: Final = "manifest.json"
MANIFEST_SIG: Final = "manifest.sig"
CHECKPOINT: Final = "checkpoint.txt"
EVENTS: Final = "events.jsonl"
PROOFS: Final = "proofs.jsonl"
BOARD: Final = "board.html"
MISSING: Final = "attachments-missing.txt"
README: Final = "README.txt"
ATTACHMENTS_DIR: Final = "attachments/"
#: Only in a bundle for readers who may see personal data (ledger.domain.personal_data):
#: the keys that open the sealed recipients of its entries, an erased person's as null.
PERSONAL_KEYS: Final = "personal-keys.json"
PERSONAL_KEYS_FORMAT: Final = "gongkai-personal-keys/v1"

#: The entries every bundle has besides its attachments, in the order they are written.
REQUIRED_FILES: Final = (README, CHECKPOINT, EVENTS, PROOFS, BOARD, MISSING)
#: The entries a bundle may have besides those.
OPTIONAL_FILES: Final = (PERSONAL_KEYS,)

SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")


class BundleVerificationError(VerificationError):
    """A bundle failed to verify, or is malformed; the message names the file and, where
    there is one, the entry or key."""


@dataclass(frozen=True, slots=True)
class BundleRange:
    first_seq: int
    last_seq: int
    period: str | None
    date_from: date | None
    date_to: date | None


@dataclass(frozen=True, slots=True)
class Cosigned:
    """A verified cosignature: whose, and when the cosigner says it signed."""

    name: str
    key_id: bytes
    timestamp: int


@dataclass(frozen=True, slots=True)
class BundleReport:
    """A verified bundle: what it covers, who signed it, and every check done."""

    path: Path
    community: str
    community_name: str
    origin: str
    range: BundleRange
    created_at: datetime
    tree_size: int
    root: bytes
    entries: int
    log_keys: tuple[str, ...]
    cosigners: tuple[Cosigned, ...]
    ignored_signatures: tuple[str, ...]
    attachments: int
    attachments_missing: int
    checks: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for ``--json`` output."""
        return {
            "path": str(self.path),
            "community": self.community,
            "community_name": self.community_name,
            "origin": self.origin,
            "range": range_json(self.range),
            "created_at": iso_utc(self.created_at),
            "tree_size": self.tree_size,
            "root": base64.b64encode(self.root).decode(),
            "entries": self.entries,
            "log_keys": list(self.log_keys),
            "cosigners": [
                {"name": c.name, "key_id": c.key_id.hex(), "timestamp": c.timestamp}
                for c in self.cosigners
            ],
            "ignored_signatures": list(self.ignored_signatures),
            "attachments": self.attachments,
            "attachments_missing": self.attachments_missing,
            "checks": list(self.checks),
        }


def iso_utc(moment: datetime) -> str:
    """``2024-05-01T08:00:00Z``: a UTC time to the second."""
    if moment.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_label(name: str, key_id: bytes) -> str:
    """How keys are named in messages and reports: ``name+hex(key ID)`` as in a vkey."""
    return f"{name}+{bytes(key_id).hex()}"


def manifest_sig_text(origin: str, manifest_digest: str) -> str:
    return f"{FORMAT}\n{origin}\nsha256 {manifest_digest}\n"


def attachment_name(digest: str) -> str:
    return ATTACHMENTS_DIR + digest


def event_json(row: RawRow) -> dict[str, Any]:
    """The ``events.jsonl`` object of one raw row."""
    seq, prev_hash, digest, originator_id, version, topic, state = row
    obj: dict[str, Any] = {
        "seq": seq,
        "prev_hash": prev_hash.hex(),
        "hash": digest.hex(),
        "originator_id": originator_id.hex(),
        "originator_version": version,
    }
    try:
        obj["topic"] = topic.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"entry {seq}: the topic is not UTF-8") from None
    try:
        obj["state"] = state.decode("utf-8")
    except UnicodeDecodeError:
        obj["state_base64"] = base64.b64encode(state).decode("ascii")
    return obj


def event_line(row: RawRow) -> bytes:
    """``json_line(event_json(row))``, byte for byte, composed directly in the usual case
    (a UTF-8 state): the line is written a million times in a long export."""
    seq, prev_hash, digest, originator_id, version, topic, state = row
    try:
        topic_text, state_text = topic.decode("utf-8"), state.decode("utf-8")
    except UnicodeDecodeError:
        return json_line(event_json(row))
    # json.dumps' separators and, with ensure_ascii=False, its string encoder.
    return (
        f'{{"seq": {seq}, "prev_hash": "{prev_hash.hex()}", "hash": "{digest.hex()}", '
        f'"originator_id": "{originator_id.hex()}", "originator_version": {version}, '
        f'"topic": {encode_basestring(topic_text)}, "state": {encode_basestring(state_text)}}}\n'
    ).encode()


def check_entry(community_id: str, row: RawRow, expected_seq: int, prev: bytes | None) -> None:
    """Check one entry's place and hash: ``seq`` is ``expected_seq``, the hash recomputed
    over the stored form is the recorded one, and ``prev_hash`` is ``prev`` (the previous
    entry's hash; the genesis hash for entry 1; ``None`` when the entry before the range
    is not known). Raises :class:`BundleVerificationError` naming the entry."""
    seq, prev_hash, digest, originator_id, version, topic, state = row
    if seq != expected_seq:
        if seq > expected_seq:
            problem = (
                f"entry {expected_seq} is missing or out of place: its line holds entry {seq}"
            )
        else:
            problem = f"entry {seq} appears again or out of order, after entry {expected_seq - 1}"
        raise BundleVerificationError(f"{EVENTS}: {problem}")
    if seq == 1:
        prev = genesis_hash(community_id)
    if prev is not None and prev_hash != prev:
        before = (
            f"the genesis hash of {community_id!r}" if seq == 1 else f"the hash of entry {seq - 1}"
        )
        raise BundleVerificationError(f"{EVENTS}: entry {seq}: prev_hash does not match {before}")
    try:
        recomputed = entry_hash(seq, prev_hash, originator_id, version, topic, state)
    except (ValueError, OverflowError, struct.error) as e:  # a field out of range
        raise BundleVerificationError(f"{EVENTS}: entry {seq}: {e}") from None
    if recomputed != digest:
        raise BundleVerificationError(
            f"{EVENTS}: entry {seq}: the hash recomputed from the stored form is "
            f"{recomputed.hex()}, not the recorded {digest.hex()}"
        )


def check_proof(
    seq: int, digest: bytes, proof: Sequence[bytes], tree: merkle.InclusionVerifier
) -> None:
    """Check that entry ``seq`` (leaf ``seq - 1``, data = its chain hash) is in the tree
    of the checkpoint ``tree`` verifies against (one verifier for a whole range of
    entries: it remembers the path it verified last; see merkle.InclusionVerifier)."""
    try:
        tree.verify(seq - 1, merkle.leaf_hash(digest), proof)
    except VerificationError as e:
        raise BundleVerificationError(
            f"{PROOFS}: entry {seq} is not shown to be in the checkpoint's tree "
            f"(leaf {seq - 1} of {tree.size}): {e}"
        ) from None


def proof_json(seq: int, proof: Sequence[bytes]) -> dict[str, Any]:
    """The ``proofs.jsonl`` object of one entry."""
    return {
        "seq": seq,
        "leaf_index": seq - 1,
        "hashes": [base64.b64encode(h).decode("ascii") for h in proof],
    }


class ProofLines:
    """``proofs.jsonl`` lines, byte for byte ``json_line(proof_json(seq, proof))``, for
    proofs of neighbouring leaves: they share most of their hashes, whose base64 is kept
    instead of encoded again (a few thousand at most: the cache is emptied when full)."""

    LIMIT: Final = 4096

    def __init__(self) -> None:
        self._quoted: dict[bytes, str] = {}

    def line(self, seq: int, proof: Sequence[bytes]) -> bytes:
        cache = self._quoted
        if len(cache) > self.LIMIT:
            cache.clear()
        quoted = list(map(cache.get, proof))
        if None in quoted:
            for i, digest in enumerate(proof):
                if quoted[i] is None:
                    quoted[i] = cache[digest] = f'"{base64.b64encode(digest).decode("ascii")}"'
        # json.dumps' default separators, as json_line writes them.
        hashes = ", ".join(quoted)  # type: ignore[arg-type]  # no None is left
        text = f'{{"seq": {seq}, "leaf_index": {seq - 1}, "hashes": [{hashes}]}}\n'
        return text.encode("ascii")


def json_line(obj: Mapping[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


def range_json(r: BundleRange) -> dict[str, Any]:
    return {
        "first_seq": r.first_seq,
        "last_seq": r.last_seq,
        "period": r.period,
        "from": r.date_from.isoformat() if r.date_from else None,
        "to": r.date_to.isoformat() if r.date_to else None,
    }
