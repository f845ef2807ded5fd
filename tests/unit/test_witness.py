"""The witness (C2SP tlog-witness add-checkpoint) without HTTP: every refusal the spec
names, with its status code and reason, the state kept across instances, and the race
between two requests from the same old size."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from ledger.errors import FormatError, InvalidInputError
from ledger.seal.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.seal.keys import KeyKind, PrivateKey, generate_key
from ledger.seal.merkle import EMPTY_ROOT, append_leaves, consistency_proof, leaf_hash, root_of
from ledger.seal.note import parse_note
from ledger.seal.witness import (
    MAX_PROOF_LINES,
    SIZE,
    TEXT,
    Witness,
    WitnessReply,
    format_add_checkpoint_request,
    parse_add_checkpoint_request,
)

ORIGIN = "gongkai.example/tianhai"
WITNESS_NAME = "jiwei.example/witness"
NOW = 1_780_000_000


class Log:
    """A small RFC 6962 log that signs checkpoints, built with ledger.seal.merkle."""

    def __init__(self, key: PrivateKey, salt: str = "") -> None:
        self.key = key
        self.salt = salt
        self.leaves: list[bytes] = []
        self.nodes: dict[tuple[int, int], bytes] = {}

    def grow(self, size: int) -> None:
        new = [leaf_hash(f"{self.salt}entry {i}".encode()) for i in range(len(self.leaves), size)]
        self.nodes.update(append_leaves(len(self.leaves), self.nodes, new))
        self.leaves.extend(new)

    def root(self, size: int) -> bytes:
        return root_of(self.leaves[:size])

    def proof(self, old: int, new: int) -> list[bytes]:
        def read(keys: Sequence[tuple[int, int]]) -> Mapping[tuple[int, int], bytes]:
            return {k: self.nodes[k] for k in keys}

        return consistency_proof(old, new, read)

    def checkpoint(self, size: int, root: bytes | None = None) -> str:
        self.grow(size)
        cp = Checkpoint(self.key.name, size, self.root(size) if root is None else root)
        return str(sign_checkpoint(cp, self.key.signer()))

    def request(self, old: int, new: int, proof: Sequence[bytes] | None = None) -> bytes:
        self.grow(new)
        if proof is None:
            proof = self.proof(old, new) if 0 < old < new else []
        return format_add_checkpoint_request(old, proof, self.checkpoint(new))


@pytest.fixture(scope="module")
def log_key() -> PrivateKey:
    return generate_key(ORIGIN, KeyKind.LOG)


@pytest.fixture(scope="module")
def witness_key() -> PrivateKey:
    return generate_key(WITNESS_NAME, KeyKind.COSIGNER)


@pytest.fixture
def log(log_key: PrivateKey) -> Log:
    return Log(log_key)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "witness.sqlite3"


@pytest.fixture
def witness(witness_key: PrivateKey, log_key: PrivateKey, state_path: Path) -> Witness:
    return Witness(witness_key, [log_key.verifier()], state_path, clock=lambda: NOW)


def refused(reply: WitnessReply, status: int, reason: str) -> None:
    assert (reply.status, reply.content_type) == (status, TEXT), reply
    assert reason in reply.reason
    assert reply.body == (reply.reason + "\n").encode()


def cosigned(witness: Witness, log: Log, old: int, new: int) -> WitnessReply:
    reply = witness.add_checkpoint(log.request(old, new))
    assert (reply.status, reply.content_type) == (200, TEXT), reply
    return reply


# --- success ------------------------------------------------------------------------------


def test_first_checkpoint_at_old_zero_is_cosigned(witness: Witness, log: Log) -> None:
    """The answer is one signature line from the witness key: a timestamped Ed25519 v1
    cosignature over the checkpoint text that verifies with the witness's verifier."""
    reply = cosigned(witness, log, 0, 5)
    lines = reply.body.decode().splitlines(keepends=True)
    assert len(lines) == 1
    assert lines[0].startswith(f"— {WITNESS_NAME} ")
    assert lines[0].endswith("\n")
    opened = open_checkpoint(
        log.checkpoint(5) + reply.body.decode(),
        [log.key.verifier()],
        cosigners=[witness.verifier],
    )
    assert (opened.checkpoint.origin, opened.checkpoint.size) == (ORIGIN, 5)
    assert len(opened.cosignatures) == 1
    raw = base64.b64decode(lines[0].split()[-1])
    assert int.from_bytes(raw[4:12], "big") == NOW  # "MUST NOT omit the timestamp"


def test_growth_with_a_valid_proof_is_cosigned(witness: Witness, log: Log) -> None:
    cosigned(witness, log, 0, 5)
    cosigned(witness, log, 5, 13)
    cosigned(witness, log, 13, 64)
    assert witness.state.latest(ORIGIN) is not None
    latest = witness.state.latest(ORIGIN)
    assert latest is not None
    assert (latest.size, latest.root) == (64, log.root(64))


def test_the_same_checkpoint_again_is_cosigned_again(witness: Witness, log: Log) -> None:
    cosigned(witness, log, 0, 7)
    cosigned(witness, log, 7, 7)


def test_empty_tree_is_cosigned_with_the_empty_root(witness: Witness, log: Log) -> None:
    assert log.root(0) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    cosigned(witness, log, 0, 0)
    cosigned(witness, log, 0, 3)


def test_a_checkpoint_with_extension_lines_is_cosigned_over_its_whole_text(
    witness: Witness, log: Log
) -> None:
    log.grow(4)
    cp = Checkpoint(ORIGIN, 4, log.root(4), extensions=("gongkai seq 4",))
    signed = str(sign_checkpoint(cp, log.key.signer()))
    reply = witness.add_checkpoint(format_add_checkpoint_request(0, [], signed))
    assert reply.status == 200
    opened = open_checkpoint(
        signed + reply.body.decode(), [log.key.verifier()], cosigners=[witness.verifier]
    )
    assert len(opened.cosignatures) == 1


# --- 409: the old size is not the latest cosigned size -----------------------------------


def test_rollback_gets_409_with_the_stored_size(witness: Witness, log: Log) -> None:
    cosigned(witness, log, 0, 13)
    for old, new in [(5, 8), (5, 13), (0, 13), (12, 20)]:
        reply = witness.add_checkpoint(log.request(old, new))
        assert reply.status == 409
        assert reply.content_type == SIZE == "text/x.tlog.size"
        assert reply.body == b"13\n"
        assert f"old size {old} does not match the latest cosigned size 13" in reply.reason
    latest = witness.state.latest(ORIGIN)
    assert latest is not None
    assert latest.size == 13


def test_never_cosigned_log_answers_409_with_zero(witness: Witness, log: Log) -> None:
    reply = witness.add_checkpoint(log.request(3, 8))
    assert (reply.status, reply.content_type, reply.body) == (409, SIZE, b"0\n")


# --- 422: the checkpoint is not consistent -------------------------------------------------


def test_fork_at_the_same_size_gets_422_and_is_kept_as_evidence(
    witness: Witness, log: Log
) -> None:
    cosigned(witness, log, 0, 8)
    fork = Log(log.key, salt="forged ")
    body = fork.request(8, 8)
    refused(witness.add_checkpoint(body), 422, "different root hash")
    latest = witness.state.latest(ORIGIN)
    assert latest is not None
    assert latest.root == log.root(8)
    [evidence] = witness.state.refusals(ORIGIN)
    assert (evidence.status, evidence.request, evidence.received_at) == (422, body, NOW)


def test_fork_at_a_larger_size_fails_its_proof(witness: Witness, log: Log) -> None:
    cosigned(witness, log, 0, 8)
    fork = Log(log.key, salt="forged ")
    refused(witness.add_checkpoint(fork.request(8, 12)), 422, "does not verify")


@pytest.mark.parametrize("damage", ["flip a bit", "drop the last line", "drop the first line"])
def test_bad_proof_gets_422(witness: Witness, log: Log, damage: str) -> None:
    cosigned(witness, log, 0, 5)
    log.grow(13)
    proof = log.proof(5, 13)
    assert len(proof) > 1
    if damage == "flip a bit":
        proof[1] = bytes([proof[1][0] ^ 1]) + proof[1][1:]
    elif damage == "drop the last line":
        proof = proof[:-1]
    else:
        proof = proof[1:]
    reply = witness.add_checkpoint(log.request(5, 13, proof))
    refused(reply, 422, "the consistency proof from size 5 to 13 does not verify")
    latest = witness.state.latest(ORIGIN)
    assert latest is not None
    assert latest.size == 5


def test_empty_proof_for_growth_gets_422(witness: Witness, log: Log) -> None:
    cosigned(witness, log, 0, 5)
    refused(witness.add_checkpoint(log.request(5, 13, [])), 422, "does not verify")


def test_non_empty_proof_from_old_zero_gets_422(witness: Witness, log: Log) -> None:
    log.grow(13)
    reply = witness.add_checkpoint(log.request(0, 13, log.proof(5, 13)))
    refused(reply, 422, "the consistency proof from old size 0 must be empty")
    assert witness.state.latest(ORIGIN) is None


def test_non_empty_proof_between_equal_sizes_gets_422(witness: Witness, log: Log) -> None:
    cosigned(witness, log, 0, 5)
    refused(
        witness.add_checkpoint(log.request(5, 5, [log.root(5)])),
        422,
        "between equal sizes must be empty",
    )


def test_size_zero_checkpoint_without_the_empty_root_gets_422(witness: Witness, log: Log) -> None:
    signed = log.checkpoint(0, root=hashlib.sha256(b"not empty").digest())
    reply = witness.add_checkpoint(format_add_checkpoint_request(0, [], signed))
    refused(reply, 422, "a checkpoint of size 0 must have the empty tree's root")
    assert witness.state.latest(ORIGIN) is None
    assert [r.status for r in witness.state.refusals(ORIGIN)] == [422]


# --- 400: the request is malformed or the old size is above the checkpoint's ---------------


def test_old_size_above_the_checkpoint_size_gets_400(witness: Witness, log: Log) -> None:
    refused(
        witness.add_checkpoint(log.request(9, 8, [])),
        400,
        "old size 9 is larger than the checkpoint size 8",
    )


def test_64_proof_lines_get_400_and_63_are_read(witness: Witness, log: Log) -> None:
    cosigned(witness, log, 0, 5)
    signed = log.checkpoint(13)
    lines = ["old 5", *[base64.b64encode(bytes(32)).decode()] * 64, "", signed]
    body = "\n".join(lines).encode()
    refused(witness.add_checkpoint(body), 400, "more than 63 consistency proof lines")
    body63 = format_add_checkpoint_request(5, [bytes(32)] * MAX_PROOF_LINES, signed)
    assert witness.add_checkpoint(body63).status == 422  # read, then the proof fails


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no old size line"),
        (b"old 5", "no old size line"),
        (b"old 05\n\n", "'old <size>'"),
        (b"old -1\n\n", "'old <size>'"),
        (b"old  5\n\n", "'old <size>'"),
        (b"Old 5\n\n", "'old <size>'"),
        (b"old 99999999999999999999\n\n", "too large"),
        (b"old 0\n", "ends before the empty line"),
        (b"old 0\nnot base64!\n\n", "proof line 1 is not base64"),
        (b"old 0\nAAAA\n\n", "proof line 1 is not one base64 SHA-256 hash"),
        (b"old 0\n\n", "no checkpoint after the empty line"),
        (b"old 0\n\n\xff\xfe\n", "not valid UTF-8"),
        (b"old 0\n\ngongkai.example/tianhai\n5\n", "malformed request"),
    ],
)
def test_malformed_requests_get_400(witness: Witness, body: bytes, reason: str) -> None:
    reply = witness.add_checkpoint(body)
    refused(reply, 400, "malformed request")
    assert reason in reply.reason


def test_malformed_checkpoint_text_gets_400(witness: Witness, log: Log) -> None:
    signed = log.checkpoint(5).replace("\n5\n", "\n05\n", 1)
    reply = witness.add_checkpoint(format_add_checkpoint_request(0, [], signed))
    refused(reply, 400, "malformed request")


def test_non_canonical_base64_proof_line_gets_400(witness: Witness, log: Log) -> None:
    line = base64.b64encode(bytes(32)).decode()
    assert line.endswith("A=")
    body = f"old 0\n{line[:-2]}B=\n\n".encode() + log.checkpoint(3).encode()
    refused(witness.add_checkpoint(body), 400, "proof line 1 is not one base64 SHA-256 hash")


# --- 404 and 403: who signed --------------------------------------------------------------


def test_unknown_origin_gets_404(witness: Witness) -> None:
    other = Log(generate_key("gongkai.example/elsewhere", KeyKind.LOG))
    refused(
        witness.add_checkpoint(other.request(0, 3)),
        404,
        "unknown log origin 'gongkai.example/elsewhere'",
    )


@pytest.mark.parametrize("name", [ORIGIN, "gongkai.example/impostor"])
def test_signature_by_an_unknown_key_only_gets_403(witness: Witness, name: str) -> None:
    """A key with the origin's name but another key ID, or another name, is ignored; then no
    trusted signature is left."""
    stranger = generate_key(name, KeyKind.LOG)
    cp_log = Log(stranger)
    cp_log.grow(3)
    signed = str(sign_checkpoint(Checkpoint(ORIGIN, 3, cp_log.root(3)), stranger.signer()))
    reply = witness.add_checkpoint(format_add_checkpoint_request(0, [], signed))
    refused(reply, 403, "not validly signed by its log: no trusted key signed this note")
    assert witness.state.latest(ORIGIN) is None


def test_bad_signature_by_a_known_key_gets_403(witness: Witness, log: Log) -> None:
    note = parse_note(log.checkpoint(3))
    [sig] = note.signatures
    bad = dataclasses.replace(sig, signature=bytes([sig.signature[0] ^ 1]) + sig.signature[1:])
    signed = str(dataclasses.replace(note, signatures=(bad,)))
    reply = witness.add_checkpoint(format_add_checkpoint_request(0, [], signed))
    refused(reply, 403, f"the signature by trusted key {ORIGIN}+")
    assert "does not verify" in reply.reason
    assert witness.state.latest(ORIGIN) is None


def test_a_bad_known_signature_spoils_a_good_one(witness: Witness, log: Log) -> None:
    rotated = generate_key(ORIGIN, KeyKind.LOG)
    both = Witness(
        generate_key(WITNESS_NAME, KeyKind.COSIGNER),
        [log.key.verifier(), rotated.verifier()],
        witness.state.path,
    )
    note = parse_note(log.checkpoint(3))
    forged = dataclasses.replace(note.signatures[0], key_id=rotated.verifier().key_id)
    signed = str(dataclasses.replace(note, signatures=(*note.signatures, forged)))
    reply = both.add_checkpoint(format_add_checkpoint_request(0, [], signed))
    refused(reply, 403, "does not verify")


def test_a_changed_text_under_a_valid_signature_gets_403(witness: Witness, log: Log) -> None:
    signed = log.checkpoint(3)
    other_root = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    tampered = signed.replace(base64.b64encode(log.root(3)).decode(), other_root)
    reply = witness.add_checkpoint(format_add_checkpoint_request(0, [], tampered))
    refused(reply, 403, "does not verify")


def test_other_signatures_are_ignored_and_not_kept(witness: Witness, log: Log) -> None:
    other_witness = generate_key("someone.example/w", KeyKind.COSIGNER)
    note = parse_note(log.checkpoint(3))
    extra = parse_note(
        str(sign_checkpoint(Checkpoint(ORIGIN, 3, log.root(3)), other_witness.signer()))
    ).signatures
    signed = str(dataclasses.replace(note, signatures=(*note.signatures, *extra)))
    assert witness.add_checkpoint(format_add_checkpoint_request(0, [], signed)).status == 200
    latest = witness.state.latest(ORIGIN)
    assert latest is not None
    kept = parse_note(latest.note).signatures
    assert [s.name for s in kept] == [ORIGIN, WITNESS_NAME]


# --- the state and the monitoring view ----------------------------------------------------


def test_state_persists_across_witness_instances(
    witness: Witness, witness_key: PrivateKey, log: Log, state_path: Path
) -> None:
    cosigned(witness, log, 0, 9)
    again = Witness(witness_key, [log.key.verifier()], state_path)
    reply = again.add_checkpoint(log.request(0, 12))
    assert (reply.status, reply.body) == (409, b"9\n")
    cosigned(again, log, 9, 12)


def test_latest_is_404_until_cosigned_then_carries_both_signatures(
    witness: Witness, log: Log
) -> None:
    origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
    refused(witness.latest(origin_hash), 404, "never cosigned")
    refused(witness.latest(origin_hash.upper()), 404, "not a log origin hash")
    refused(witness.latest("x"), 404, "not a log origin hash")
    cosigned(witness, log, 0, 6)
    reply = witness.latest(origin_hash)
    assert (reply.status, reply.content_type) == (200, TEXT)
    opened = open_checkpoint(
        reply.body.decode(), [log.key.verifier()], cosigners=[witness.verifier]
    )
    assert (opened.checkpoint.size, opened.checkpoint.root) == (6, log.root(6))
    assert len(opened.cosignatures) == 1
    names = [s.name for s in parse_note(reply.body.decode()).signatures]
    assert names == [ORIGIN, WITNESS_NAME]


def test_state_file_is_created_on_first_use(
    witness_key: PrivateKey, log_key: PrivateKey, tmp_path: Path
) -> None:
    path = tmp_path / "new.sqlite3"
    w = Witness(witness_key, [log_key.verifier()], path)
    assert not path.exists()
    refused(w.latest(hashlib.sha256(ORIGIN.encode()).hexdigest()), 404, "never cosigned")
    assert path.exists()


def test_witness_needs_a_cosigner_key_and_a_log(
    witness_key: PrivateKey, log_key: PrivateKey, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError, match="not a cosigner key"):
        Witness(log_key, [log_key.verifier()], tmp_path / "w.sqlite3")
    with pytest.raises(InvalidInputError, match="at least one log"):
        Witness(witness_key, [], tmp_path / "w.sqlite3")
    with pytest.raises(InvalidInputError, match=r"type 0x04; a log signs .* Ed25519 \(0x01\)"):
        Witness(witness_key, [witness_key.verifier()], tmp_path / "w.sqlite3")


def test_a_cosignature_never_carries_time_zero(
    witness_key: PrivateKey, log: Log, state_path: Path
) -> None:
    stopped = Witness(witness_key, [log.key.verifier()], state_path, clock=lambda: 0.5)
    with pytest.raises(InvalidInputError, match="clock reads 0"):
        stopped.add_checkpoint(log.request(0, 3))
    assert stopped.state.latest(ORIGIN) is None


# --- the race of the spec -----------------------------------------------------------------


@pytest.mark.parametrize("instances", ["one witness", "two witnesses on one file"])
def test_concurrent_requests_from_the_same_old_size_cannot_roll_back(
    witness_key: PrivateKey, log: Log, state_path: Path, instances: str
) -> None:
    """Requests for sizes N and N+K, both from the same previous size: one is cosigned, the
    other gets 409 with the winner's size, and the state holds the winner. The clock is read
    while the write lock is held; a slow one keeps the window wide open."""

    def slow_clock() -> float:
        time.sleep(0.2)
        return NOW

    first = Witness(witness_key, [log.key.verifier()], state_path, clock=slow_clock)
    second = (
        first
        if instances == "one witness"
        else Witness(witness_key, [log.key.verifier()], state_path, clock=slow_clock)
    )
    cosigned(first, log, 0, 4)
    bodies = {6: log.request(4, 6), 10: log.request(4, 10)}
    barrier = threading.Barrier(2)
    replies: dict[int, WitnessReply] = {}

    def submit(witness: Witness, size: int) -> None:
        barrier.wait(timeout=10)
        replies[size] = witness.add_checkpoint(bodies[size])

    threads = [
        threading.Thread(target=submit, args=(first, 6)),
        threading.Thread(target=submit, args=(second, 10)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    statuses = sorted((r.status, size) for size, r in replies.items())
    assert [s for s, _ in statuses] == [200, 409]
    winner = next(size for size, r in replies.items() if r.status == 200)
    loser = replies[16 - winner]
    assert (loser.content_type, loser.body) == (SIZE, f"{winner}\n".encode())
    latest = first.state.latest(ORIGIN)
    assert latest is not None
    assert latest.size == winner


# --- the request format -------------------------------------------------------------------


def test_request_format_round_trips(log: Log) -> None:
    log.grow(13)
    proof = log.proof(5, 13)
    signed = log.checkpoint(13)
    body = format_add_checkpoint_request(5, proof, signed)
    assert body.startswith(b"old 5\n")
    parsed = parse_add_checkpoint_request(body)
    assert (parsed.old_size, list(parsed.proof), parsed.signed_checkpoint) == (5, proof, signed)
    assert parse_add_checkpoint_request(format_add_checkpoint_request(0, [], signed)).proof == ()


def test_request_format_refuses_what_the_protocol_does_not_allow(log: Log) -> None:
    signed = log.checkpoint(1)
    with pytest.raises(InvalidInputError, match="at most 63"):
        format_add_checkpoint_request(5, [bytes(32)] * 64, signed)
    with pytest.raises(InvalidInputError, match="not 32"):
        format_add_checkpoint_request(5, [bytes(31)], signed)
    with pytest.raises(InvalidInputError, match="out of range"):
        format_add_checkpoint_request(-1, [], signed)
    with pytest.raises(InvalidInputError, match="ends with a newline"):
        format_add_checkpoint_request(0, [], signed.rstrip("\n"))
    with pytest.raises(FormatError, match="more than 63"):
        parse_add_checkpoint_request(b"old 1\n" + (base64.b64encode(bytes(32)) + b"\n") * 64)
