"""The seal's contract on SQLite and PostgreSQL: the tree follows the chain, checkpoints
are signed only when consistent, proofs verify, cosignatures are checked, and the seal's
tables refuse edits like the chain's."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.chain.verify import ChainIntegrityError, verify_store
from ledger.errors import InvalidInputError, NotFoundError, StoreError
from ledger.seal.checkpoint import open_checkpoint
from ledger.seal.community_log import CommunityLog, InconsistentCheckpointError
from ledger.seal.cosignatures import BadCosignatureError, UnknownCosignerError
from ledger.seal.keys import KeyKind, PrivateKey, generate_key
from ledger.seal.merkle import leaf_hash, root_of, verify_consistency, verify_inclusion
from ledger.seal.note import Signature, parse_note
from ledger.seal.signer_state import SignerState
from ledger.store.backend import Store
from ledger.store.base import StoredCheckpoint
from tests.contract.test_ledger_contract import CLERK, DRAFT
from tests.rawdb import RawTable


def grow(ledger: CommunityLedger, n: int) -> None:
    for i in range(n):
        ledger.draft_disclosure(CLERK, str(uuid.uuid4()), **{**DRAFT, "title": f"公示{i}"})


def log_key(community_id: str) -> PrivateKey:
    return generate_key(f"gongkai.test/{community_id}", KeyKind.LOG)


_STATES: list[Path] = []


@pytest.fixture(autouse=True)
def _signer_states(tmp_path: Path) -> Iterator[None]:
    """Where each test's log keys keep their signer state (as beside a key file)."""
    _STATES.append(tmp_path)
    yield
    _STATES.pop()


def signer_state(key: PrivateKey, community_id: str) -> SignerState:
    """The state of ``key``: the empty tree for a key that has signed nothing yet."""
    state = SignerState(
        _STATES[-1] / f"{key.key_id.hex()}.log.state", key.verifier(), community_id
    )
    if not state.exists():
        state.create_empty(key.signer())
    return state


def sign(log: CommunityLog, key: PrivateKey) -> StoredCheckpoint:
    """Sign ``log``'s tree with ``key``, remembering it as a signer process does."""
    return log.sign_checkpoint(key.signer(), signer_state(key, log.community_id))


def expected_root(store: Store, community_id: str, size: int | None = None) -> bytes:
    leaves = [leaf_hash(row[2]) for row in store.chain_rows(community_id)]
    return root_of(leaves if size is None else leaves[:size])


@pytest.fixture
def log(ledger: CommunityLedger, store: Store, community_id: str) -> CommunityLog:
    return CommunityLog(store, community_id)


def test_the_tree_follows_the_chain_in_batches(
    ledger: CommunityLedger, log: CommunityLog, store: Store, community_id: str
) -> None:
    """Growing the tree in small batches, several times, gives the RFC 6962 root of
    the chain's entry hashes."""
    assert store.max_seq(community_id) == 1, "a new community starts with its chart"
    grow(ledger, 6)
    seen: list[int] = []
    assert log.update_tree(batch=3, on_progress=seen.append) == (0, 7)
    assert seen == [3, 6, 7]
    grow(ledger, 10)
    assert log.update_tree(batch=4) == (7, 17)
    assert log.update_tree() == (17, 17)
    assert log.root() == (17, expected_root(store, community_id))
    assert log.root(5) == (5, expected_root(store, community_id, 5))


def test_a_checkpoint_is_signed_once_per_size_and_opens(
    ledger: CommunityLedger, log: CommunityLog, community_id: str
) -> None:
    key = log_key(community_id)
    grow(ledger, 4)
    first = sign(log, key)
    assert first.tree_size == 5
    assert sign(log, key) == first, "an unchanged tree is not re-signed"
    signed = open_checkpoint(first.note, [key.verifier()])
    assert (signed.checkpoint.origin, signed.checkpoint.size) == (key.name, 5)
    assert signed.checkpoint.root == first.root
    grow(ledger, 4)
    second = sign(log, key)
    assert second.tree_size == 9
    proof = log.consistency(5, 9)
    verify_consistency(5, 9, first.root, second.root, proof)
    assert [c.tree_size for c in log.seal.checkpoints()] == [9, 5]


def test_every_entry_has_an_inclusion_proof_in_the_checkpoint(
    ledger: CommunityLedger, log: CommunityLog, community_id: str
) -> None:
    key = log_key(community_id)
    grow(ledger, 10)
    sign(log, key)
    for seq in range(1, 12):
        proof = log.inclusion(seq)
        assert proof.leaf_index == seq - 1
        assert proof.leaf_hash == leaf_hash(proof.entry_hash)
        root = open_checkpoint(proof.checkpoint, [key.verifier()]).checkpoint.root
        verify_inclusion(proof.leaf_index, proof.tree_size, proof.leaf_hash, proof.hashes, root)
    with pytest.raises(NotFoundError, match="not covered by the checkpoint of size 11"):
        log.inclusion(12)


def test_no_checkpoint_no_proof(ledger: CommunityLedger, log: CommunityLog) -> None:
    grow(ledger, 1)
    with pytest.raises(NotFoundError, match="no signed checkpoint yet"):
        log.inclusion(1)


def test_a_key_of_another_community_cannot_sign(
    ledger: CommunityLedger, log: CommunityLog
) -> None:
    grow(ledger, 1)
    other = generate_key("gongkai.test/someone_else", KeyKind.LOG)
    with pytest.raises(InvalidInputError, match="must be the community's origin"):
        sign(log, other)


def test_a_broken_chain_is_never_sealed(
    ledger: CommunityLedger, log: CommunityLog, raw: RawTable, community_id: str
) -> None:
    """An entry edited after the tree was built stops the tree from growing."""
    grow(ledger, 3)
    log.update_tree()
    grow(ledger, 3)
    rows = raw.read()
    rows[5]["state"] = rows[5]["state"].replace("公示".encode(), "告示".encode())
    raw.replace_all(rows)
    with pytest.raises(ChainIntegrityError, match="entry 6: content edited"):
        sign(log, log_key(community_id))
    assert log.seal.tree_size() == 4


def test_a_rewritten_history_is_refused_a_new_signature(
    ledger: CommunityLedger, log: CommunityLog, raw: RawTable, store: Store, community_id: str
) -> None:
    """The careful administrator: edits an entry, recomputes every hash after it, and
    rebuilds the tree from the rewritten chain. The log still refuses to sign, because
    the tree no longer has the root it signed before."""

    key = log_key(community_id)
    grow(ledger, 6)
    sign(log, key)
    _rewrite_chain(raw, community_id, edit_at=3)
    _rebuild_tree(raw, store, community_id)
    with pytest.raises(InconsistentCheckpointError, match="changed signed history"):
        sign(log, key)


def _rewrite_chain(raw: RawTable, community_id: str, edit_at: int) -> None:
    """Edit one entry and recompute every hash from it on, as a careful administrator."""
    from ledger.chain.hashing import entry_hash, genesis_hash

    rows = raw.read()
    rows[edit_at - 1]["state"] = rows[edit_at - 1]["state"].replace(
        "公示".encode(), "告示".encode()
    )
    prev = genesis_hash(community_id)
    for r in rows:
        oid = r["originator_id"]
        oid_bytes = bytes.fromhex(oid) if isinstance(oid, str) else oid.bytes
        r["prev_hash"] = prev
        r["hash"] = entry_hash(
            r["seq"], prev, oid_bytes, r["originator_version"], r["topic"].encode(), r["state"]
        )
        prev = r["hash"]
    raw.replace_all(rows)


def test_the_full_rewrite_attack_fails_verify(
    ledger: CommunityLedger,
    log: CommunityLog,
    raw: RawTable,
    store: Store,
    store_url: str,
    community_id: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every stored row rewritten with recomputed hashes and the tree rebuilt, straight
    in the database: the chain verifies on its own, but ``gongkai verify`` names the
    first signed checkpoint that no longer matches, with or without the log's key."""
    from api.cli.main import main

    key = log_key(community_id)
    grow(ledger, 3)
    sign(log, key)  # size 4: before the edited entry
    grow(ledger, 3)
    sign(log, key)  # size 7: covers it
    args = ["verify", "--db", store_url, "--community", community_id, "--json"]
    assert main([*args, "--log-key", key.vkey]) == 0
    report = json.loads(capsys.readouterr().out)["communities"][0]
    assert report["checkpoints"] == {
        "count": 2,
        "latest_size": 7,
        "signatures_checked_with": key.vkey,
    }
    _rewrite_chain(raw, community_id, edit_at=6)
    _rebuild_tree(raw, store, community_id)
    assert verify_store(store, community_id).count == 7, "the chain alone looks intact"
    for extra in ([], ["--log-key", key.vkey]):
        assert main([*args, *extra]) == 1
        report = json.loads(capsys.readouterr().out)["communities"][0]
        assert (report["ok"], report["checkpoint"]) == (False, 7)
        assert "rewritten" in report["detail"]
    assert main(["verify", "--db", store_url, "--community", community_id]) == 1
    assert "FAILED at the checkpoint of size 7" in capsys.readouterr().out


def test_verify_refuses_checkpoints_not_signed_by_the_log_key(
    ledger: CommunityLedger,
    log: CommunityLog,
    store_url: str,
    community_id: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A rewriter who also signs new checkpoints with a key of their own is caught by a
    verifier given the real log key."""
    from api.cli.main import main

    grow(ledger, 2)
    impostor = log_key(community_id)
    sign(log, impostor)
    real = log_key(community_id)
    args = ["verify", "--db", store_url, "--community", community_id]
    assert main([*args, "--log-key", real.vkey]) == 1
    assert "signature" in capsys.readouterr().out


def test_verify_catches_a_log_cut_short_below_a_checkpoint(
    ledger: CommunityLedger,
    log: CommunityLog,
    raw: RawTable,
    store_url: str,
    community_id: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from api.cli.main import main

    grow(ledger, 4)
    sign(log, log_key(community_id))
    raw.replace_all(raw.read()[:3])
    assert main(["verify", "--db", store_url, "--community", community_id]) == 1
    assert "cut short" in capsys.readouterr().out


def _rebuild_tree(raw: RawTable, store: Store, community_id: str) -> None:
    """Replace the stored tree with one built from the (rewritten) chain."""
    from ledger.seal.merkle import append_leaves

    leaves = [leaf_hash(row[2]) for row in store.chain_rows(community_id)]
    nodes = append_leaves(0, {}, leaves)
    table = f"{community_id}_tree"
    if raw.backend == "sqlite":
        raw.execute(f"DROP TRIGGER {table}_no_delete")
        raw.execute(f"DELETE FROM {table}")
        for (level, idx), digest in nodes:
            raw.execute(f"INSERT INTO {table} VALUES (?, ?, ?)", (level, idx, digest))
    else:
        raw.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        raw.execute(f"DELETE FROM {table}")
        for (level, idx), digest in nodes:
            raw.execute(f"INSERT INTO {table} VALUES (%s, %s, %s)", (level, idx, digest))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {c}_tree SET hash = hash",
        "DELETE FROM {c}_tree",
        "UPDATE {c}_checkpoints SET note = note",
        "DELETE FROM {c}_checkpoints",
        "DELETE FROM {c}_cosignatures",
        "DELETE FROM {c}_cosigners",
    ],
)
def test_the_seal_tables_are_append_only(
    ledger: CommunityLedger, log: CommunityLog, raw: RawTable, community_id: str, statement: str
) -> None:
    grow(ledger, 2)
    checkpoint = sign(log, log_key(community_id))
    member = generate_key("committee.test/wangli", KeyKind.COSIGNER)
    log.add_cosigner(member.vkey, role="committee", label="监委会 王丽")
    log.add_cosignature(checkpoint.tree_size, cosign(member, checkpoint.note))
    with pytest.raises(Exception, match="append-only"):
        raw.execute(statement.format(c=community_id))


def cosign(key: PrivateKey, note: str) -> str:
    signer = key.signer()
    text = parse_note(note).text
    return Signature(signer.name, signer.key_id, signer.sign(text.encode())).line()


def test_committee_cosignatures_are_checked_and_served(
    ledger: CommunityLedger, log: CommunityLog, community_id: str
) -> None:
    key = log_key(community_id)
    member = generate_key("committee.test/wangli", KeyKind.COSIGNER)
    stranger = generate_key("committee.test/stranger", KeyKind.COSIGNER)
    grow(ledger, 2)
    checkpoint = sign(log, key)
    with pytest.raises(UnknownCosignerError, match="not an accepted cosigner"):
        log.add_cosignature(3, cosign(member, checkpoint.note))
    log.add_cosigner(member.vkey, role="committee", label="监委会 王丽")
    with pytest.raises(UnknownCosignerError):
        log.add_cosignature(3, cosign(stranger, checkpoint.note))
    forged = cosign(member, checkpoint.note.replace("\n3\n", "\n4\n"))
    with pytest.raises(BadCosignatureError, match="does not verify"):
        log.add_cosignature(3, forged)
    assert log.add_cosignature(3, cosign(member, checkpoint.note))[1] is True
    assert log.add_cosignature(3, cosign(member, checkpoint.note))[1] is False
    served = log.cosigned_note(checkpoint)
    signed = open_checkpoint(served, [key.verifier()], [member.verifier()])
    assert [c.name for c, _ in signed.cosignatures] == [member.name]
    with pytest.raises(NotFoundError):
        log.add_cosignature(99, cosign(member, checkpoint.note))


def test_a_log_key_is_not_a_committee_seal(
    ledger: CommunityLedger, log: CommunityLog, community_id: str
) -> None:
    with pytest.raises(InvalidInputError, match="cosigner key"):
        log.add_cosigner(log_key(community_id).vkey, role="committee", label="x")


def test_concurrent_sealers_and_writers_agree(
    ledger: CommunityLedger, store: Store, community_id: str
) -> None:
    """Two sealers race each other while a clerk keeps writing: the tree is never
    forked, every checkpoint is consistent with the one before."""
    key = log_key(community_id)
    errors: list[Any] = []
    stop = threading.Event()

    def sealer() -> None:
        own = CommunityLog(store, community_id)
        try:
            while not stop.is_set():
                sign(own, key)
        except Exception as e:
            errors.append(e)

    signer_state(key, community_id)  # made once, before the sealers share it
    threads = [threading.Thread(target=sealer) for _ in range(2)]
    for t in threads:
        t.start()
    grow(ledger, 29)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    log = CommunityLog(store, community_id)
    sign(log, key)
    sizes = sorted(c.tree_size for c in log.seal.checkpoints(limit=500))
    assert sizes[-1] == 30
    for old, new in itertools.pairwise(sizes):
        a, b = log.seal.checkpoint(old), log.seal.checkpoint(new)
        assert a is not None
        assert b is not None
        verify_consistency(old, new, a.root, b.root, log.consistency(old, new))
    assert log.root() == (30, expected_root(store, community_id))


def test_a_missing_tree_node_is_reported(
    ledger: CommunityLedger, log: CommunityLog, raw: RawTable, community_id: str
) -> None:
    grow(ledger, 4)
    log.update_tree()
    table = f"{community_id}_tree"
    if raw.backend == "sqlite":
        raw.execute(f"DROP TRIGGER {table}_no_delete")
    else:
        raw.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    raw.execute(f"DELETE FROM {table} WHERE level = 2")
    with pytest.raises(StoreError, match="lacks 1 node"):
        log.root()


# --- every proof up to 128 entries, from the store, against a naive reference ----------


def _naive(leaves: list[bytes]) -> tuple[Any, Any, Any]:
    """RFC 6962 §2.1.1–2.1.2 written as the RFC reads, over leaf hashes in memory."""
    from functools import cache

    from ledger.seal.merkle import node_hash

    def split(n: int) -> int:
        k = 1
        while k << 1 < n:
            k <<= 1
        return k

    @cache
    def mth(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaves[start]
        k = split(end - start)
        return node_hash(mth(start, start + k), mth(start + k, end))

    def path(m: int, start: int, end: int) -> list[bytes]:
        if end - start <= 1:
            return []
        k = split(end - start)
        if m < k:
            return [*path(m, start, start + k), mth(start + k, end)]
        return [*path(m - k, start + k, end), mth(start, start + k)]

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        if m == end - start:
            return [] if whole else [mth(start, end)]
        k = split(end - start)
        if m <= k:
            return [*subproof(m, start, start + k, whole), mth(start + k, end)]
        return [*subproof(m - k, start + k, end, False), mth(start, start + k)]

    return mth, path, subproof


def test_every_proof_up_to_128_entries_matches_the_reference(
    ledger: CommunityLedger, log: CommunityLog, store: Store, community_id: str
) -> None:
    """All (index, size) inclusion proofs and all (old, new) consistency proofs for sizes
    1..128, generated from the stored tree, equal the naive computation and verify; the
    block reader an export uses gives the same proofs."""
    from ledger.seal.merkle import consistency_proof, inclusion_proof
    from ledger.store.seal import BlockReader

    grow(ledger, 127)
    log.update_tree(batch=50)
    leaves = [leaf_hash(row[2]) for row in store.chain_rows(community_id)]
    assert len(leaves) == 128
    mth, path, subproof = _naive(leaves)
    read = log.seal.read_nodes
    for n in range(1, 129):
        root = mth(0, n)
        assert log.root(n) == (n, root)
        for i in range(n):
            proof = inclusion_proof(i, n, read)
            assert proof == path(i, 0, n), (i, n)
            verify_inclusion(i, n, leaves[i], proof, root)
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, read)
            assert proof == subproof(m, 0, n, True), (m, n)
            verify_consistency(m, n, mth(0, m), root, proof)
    blocks = BlockReader(log.seal)
    assert [inclusion_proof(i, 128, blocks) for i in range(128)] == [
        path(i, 0, 128) for i in range(128)
    ]
