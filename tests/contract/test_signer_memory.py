"""The seal survives its own database, on SQLite and PostgreSQL.

A database owner (triggers off) rewrites an entry, recomputes every hash after it, and
deletes the tree, the checkpoints and the cosignatures, or keeps only the oldest
checkpoint. The signer's state beside its key, checkpoints held outside (a file, a
witness's state) and a verify that says what it could not check must each catch it:
the service refuses to sign and says so on ``/healthz``; ``gongkai verify`` fails.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.cli.main import main
from api.service.app import create_app
from api.service.keyfiles import log_key_path
from api.service.sealer import Sealer
from api.service.settings import Settings
from ledger.application import CommunityLedger
from ledger.seal.community_log import (
    CommunityLog,
    InconsistentCheckpointError,
    SignedHistoryLostError,
)
from ledger.seal.keys import PrivateKey, load_private_key
from ledger.seal.signer_state import SignerState, SignerStateError, state_path
from ledger.store.backend import Store
from tests.contract.test_ledger_contract import CLERK, DRAFT
from tests.contract.test_seal import _rebuild_tree, _rewrite_chain
from tests.rawdb import RawTable

Capsys = pytest.CaptureFixture[str]


def grow(ledger: CommunityLedger, n: int) -> None:
    for i in range(n):
        ledger.draft_disclosure(CLERK, str(uuid.uuid4()), **{**DRAFT, "title": f"公示{i}"})


def new_log_key(keys_dir: Path, community_id: str, capsys: Capsys) -> PrivateKey:
    """As an operator makes one: ``gongkai keys generate`` writes the key, its .vkey and
    the signer state of the empty tree."""
    path = log_key_path(keys_dir, community_id)
    name = f"gongkai.test/{community_id}"
    assert main(["keys", "generate", "--name", name, "-o", str(path)]) == 0
    assert "signer state" in capsys.readouterr().err
    assert state_path(path).is_file()
    return load_private_key(path)


def owner_delete(raw: RawTable, table: str, where: str = "") -> None:
    """Delete rows of a seal table as its owner: the append-only triggers off first."""
    name = f"{raw.community_id}_{table}"
    if raw.backend == "sqlite":
        raw.execute(f"DROP TRIGGER IF EXISTS {name}_no_delete")
        raw.execute(f"DROP TRIGGER IF EXISTS {name}_no_update")
    else:
        raw.execute(f"ALTER TABLE {name} DISABLE TRIGGER USER")
    raw.execute(f"DELETE FROM {name} {where}")


def wipe_seal(raw: RawTable) -> None:
    """The tree, every checkpoint and every cosignature, gone."""
    for table in ("cosignatures", "checkpoints", "tree"):
        owner_delete(raw, table)


def sealed(store: Store, keys_dir: Path) -> Sealer:
    """The service's sealer, one pass done (as at each poll)."""
    sealer = Sealer(store, keys_dir, interval=0)
    sealer.seal_once(sealer.keys(), force=True)
    return sealer


def verify_json(
    store_url: str, community_id: str, keys_dir: Path, capsys: Capsys, *extra: str
) -> tuple[int, dict[str, object]]:
    args = ["verify", "--db", store_url, "--community", community_id]
    code = main([*args, "--keys-dir", str(keys_dir), "--json", *extra])
    report: dict[str, object] = json.loads(capsys.readouterr().out)["communities"][0]
    return code, report


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    path.mkdir()
    return path


def test_the_full_rewrite_with_the_seal_deleted_is_refused_and_fails_verify(
    ledger: CommunityLedger,
    store: Store,
    store_url: str,
    raw: RawTable,
    community_id: str,
    keys_dir: Path,
    capsys: Capsys,
) -> None:
    new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 6)
    sealer = sealed(store, keys_dir)
    assert sealer.status() == {community_id: "ok"}
    assert verify_json(store_url, community_id, keys_dir, capsys)[0] == 0
    _rewrite_chain(raw, community_id, edit_at=3)
    wipe_seal(raw)
    sealer.seal_once(sealer.keys(), force=True)
    status = sealer.status()[community_id]
    assert status.startswith("refused: ")
    assert "the database has changed signed history" in status
    assert CommunityLog(store, community_id).seal.checkpoint() is None, "nothing was signed"
    code, report = verify_json(store_url, community_id, keys_dir, capsys)
    assert code == 1
    assert report["status"] == "failed"
    assert report["checkpoint"] == 7
    assert "outside" in str(report["detail"]) or "rewritten" in str(report["detail"])
    # Without the signer state (an auditor with only the log's vkey): still a failure,
    # since a known key with no stored checkpoint means the database lost them.
    vkey = (keys_dir / f"{community_id}.log.vkey").read_text().strip()
    code, report = verify_json(
        store_url, community_id, keys_dir / "none", capsys, "--log-key", vkey
    )
    assert (code, report["defect"]) == (1, "checkpoints lost")
    assert "lost its checkpoints" in str(report["detail"])


def test_the_service_says_it_refused_on_healthz(
    ledger: CommunityLedger,
    store: Store,
    store_url: str,
    raw: RawTable,
    community_id: str,
    keys_dir: Path,
    capsys: Capsys,
) -> None:
    new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 4)
    sealed(store, keys_dir)
    _rewrite_chain(raw, community_id, edit_at=2)
    wipe_seal(raw)
    settings = Settings(db_url=store_url, keys_dir=keys_dir, checkpoint_interval=3600)
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 20
        body = client.get("/healthz").json()
        while community_id not in body.get("seal", {}) and time.monotonic() < deadline:
            time.sleep(0.1)
            body = client.get("/healthz").json()
    assert body["status"] == "alarm"
    assert body["seal"][community_id].startswith("refused: the database has changed signed")


def test_keeping_only_the_oldest_checkpoint_is_refused_and_fails_verify(
    ledger: CommunityLedger,
    store: Store,
    store_url: str,
    raw: RawTable,
    community_id: str,
    keys_dir: Path,
    capsys: Capsys,
) -> None:
    new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 3)
    sealer = sealed(store, keys_dir)  # size 4
    grow(ledger, 4)
    sealer.seal_once(sealer.keys(), force=True)  # size 8
    owner_delete(raw, "cosignatures")
    owner_delete(raw, "checkpoints", "WHERE tree_size > 4")
    _rewrite_chain(raw, community_id, edit_at=6)
    _rebuild_tree(raw, store, community_id)
    code, report = verify_json(store_url, community_id, keys_dir, capsys)
    assert (code, report["checkpoint"]) == (1, 8), "the signer's state remembers size 8"
    assert "rewritten" in str(report["detail"])
    sealer.seal_once(sealer.keys(), force=True)
    assert "changed signed history" in sealer.status()[community_id]
    assert [c.tree_size for c in CommunityLog(store, community_id).seal.checkpoints()] == [4]


def test_a_tree_cut_below_the_signed_size_is_lost_history(
    ledger: CommunityLedger,
    store: Store,
    raw: RawTable,
    community_id: str,
    keys_dir: Path,
    capsys: Capsys,
) -> None:
    key = new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 5)
    sealed(store, keys_dir)  # size 6
    wipe_seal(raw)
    raw.replace_all(raw.read()[:4])
    state = SignerState.beside(log_key_path(keys_dir, community_id), key, community_id)
    with pytest.raises(SignedHistoryLostError, match="has lost signed history"):
        CommunityLog(store, community_id).sign_checkpoint(key.signer(), state)


def test_an_outside_checkpoint_catches_a_rewrite_after_every_stored_one_was_deleted(
    ledger: CommunityLedger,
    store: Store,
    store_url: str,
    raw: RawTable,
    community_id: str,
    keys_dir: Path,
    tmp_path: Path,
    capsys: Capsys,
) -> None:
    """An auditor's copy of a checkpoint, with no keys directory at all: verify fails
    with it, and without it says it could not check (exit 3), never "intact" alone."""
    new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 5)
    sealed(store, keys_dir)
    held = tmp_path / "auditor-copy.txt"
    held.write_text(CommunityLog(store, community_id).latest_checkpoint().note)
    grow(ledger, 2)
    _rewrite_chain(raw, community_id, edit_at=4)
    wipe_seal(raw)
    nowhere = tmp_path / "no-keys"
    code, report = verify_json(store_url, community_id, nowhere, capsys)
    assert (code, report["status"]) == (3, "unverified")
    code, report = verify_json(store_url, community_id, nowhere, capsys, "--checkpoint", str(held))
    assert (code, report["checkpoint"]) == (1, 6)
    assert "rewritten" in str(report["detail"])
    args = ["verify", "--db", store_url, "--community", community_id, "--keys-dir", str(nowhere)]
    assert main([*args, "--checkpoint", str(held)]) == 1
    out = capsys.readouterr().out
    assert f"{community_id}: FAILED at the checkpoint of size 6" in out


def test_an_outside_checkpoint_the_store_still_holds_verifies(
    ledger: CommunityLedger,
    store: Store,
    store_url: str,
    community_id: str,
    keys_dir: Path,
    tmp_path: Path,
    capsys: Capsys,
) -> None:
    new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 5)
    sealed(store, keys_dir)
    held = tmp_path / "sheet.txt"
    held.write_text(CommunityLog(store, community_id).latest_checkpoint().note)
    grow(ledger, 3)
    sealed(store, keys_dir)
    code, report = verify_json(
        store_url, community_id, keys_dir, capsys, "--checkpoint", str(held)
    )
    assert (code, report["status"]) == (0, "ok")
    sources = [o["source"] for o in report["outside"]]  # type: ignore[attr-defined]
    assert str(held) in sources
    assert any(s.endswith(".log.state") for s in sources)


def test_the_witness_state_is_outside_memory_too(
    ledger: CommunityLedger,
    store: Store,
    store_url: str,
    raw: RawTable,
    community_id: str,
    keys_dir: Path,
    tmp_path: Path,
    capsys: Capsys,
) -> None:
    from ledger.seal.checkpoint import open_checkpoint
    from ledger.seal.keys import KeyKind, generate_key
    from ledger.seal.witness import Witness, format_add_checkpoint_request

    key = new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 4)
    sealed(store, keys_dir)
    log = CommunityLog(store, community_id)
    witness_key = generate_key("witness.test/w1", KeyKind.COSIGNER)
    witness_file = tmp_path / "witness.sqlite3"
    witness = Witness(witness_key, [key.verifier()], witness_file)
    latest = log.latest_checkpoint()
    reply = witness.add_checkpoint(format_add_checkpoint_request(0, [], latest.note))
    assert reply.status == 200, reply.reason
    assert open_checkpoint(latest.note, [key.verifier()]).checkpoint.size == 5
    _rewrite_chain(raw, community_id, edit_at=2)
    wipe_seal(raw)
    state_path(log_key_path(keys_dir, community_id)).unlink()  # the signer's copy gone too
    vkey = key.vkey
    code, report = verify_json(
        store_url,
        community_id,
        keys_dir,
        capsys,
        "--log-key",
        vkey,
        "--witness-state",
        str(witness_file),
    )
    assert (code, report["checkpoint"]) == (1, 5)
    assert "witness state" in str(report["detail"]) or "rewritten" in str(report["detail"])


def test_a_missing_state_is_refused_with_its_command_and_adopted_explicitly(
    ledger: CommunityLedger,
    store: Store,
    store_url: str,
    community_id: str,
    keys_dir: Path,
    tmp_path: Path,
    capsys: Capsys,
) -> None:
    new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 3)
    sealer = sealed(store, keys_dir)
    held = tmp_path / "copy.txt"
    held.write_text(CommunityLog(store, community_id).latest_checkpoint().note)
    state = state_path(log_key_path(keys_dir, community_id))
    state.unlink()
    sealer.seal_once(sealer.keys())  # nothing new to sign: the loss is an alarm at once
    assert "has no signer state" in sealer.status()[community_id]
    grow(ledger, 2)
    sealer.seal_once(sealer.keys(), force=True)
    status = sealer.status()[community_id]
    assert status.startswith("refused: ")
    assert f"gongkai checkpoint adopt --community {community_id} --checkpoint FILE" in status
    assert not state.exists(), "never re-created silently"
    sign = ["checkpoint", "--db", store_url, "--community", community_id]
    assert main([*sign, "--keys-dir", str(keys_dir)]) == 2
    assert "gongkai checkpoint adopt" in capsys.readouterr().err
    adopt = ["checkpoint", "adopt", "--db", store_url, "--community", community_id]
    adopt += ["--keys-dir", str(keys_dir)]
    assert main([*adopt, "--checkpoint", str(held)]) == 0
    assert "adopted the checkpoint of size 4" in capsys.readouterr().out
    assert main([*adopt, "--from-store"]) == 2, "a state is never replaced"
    assert "never replaced" in capsys.readouterr().err
    assert main([*sign, "--keys-dir", str(keys_dir)]) == 0
    assert "checkpoint of size 6 signed" in capsys.readouterr().err


def test_adopt_refuses_a_checkpoint_the_store_no_longer_holds(
    ledger: CommunityLedger,
    store: Store,
    store_url: str,
    raw: RawTable,
    community_id: str,
    keys_dir: Path,
    tmp_path: Path,
    capsys: Capsys,
) -> None:
    new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 3)
    sealed(store, keys_dir)
    held = tmp_path / "copy.txt"
    held.write_text(CommunityLog(store, community_id).latest_checkpoint().note)
    state_path(log_key_path(keys_dir, community_id)).unlink()
    _rewrite_chain(raw, community_id, edit_at=2)
    wipe_seal(raw)
    adopt = ["checkpoint", "adopt", "--db", store_url, "--community", community_id]
    adopt += ["--keys-dir", str(keys_dir)]
    assert main([*adopt, "--from-store"]) == 2
    assert "holds no checkpoint" in capsys.readouterr().err
    assert main([*adopt, "--checkpoint", str(held)]) == 1
    assert "REFUSED to adopt" in capsys.readouterr().err
    assert not state_path(log_key_path(keys_dir, community_id)).exists()
    forged = tmp_path / "forged.txt"
    forged.write_text(held.read_text().replace("\n4\n", "\n3\n"))
    assert main([*adopt, "--checkpoint", str(forged)]) == 2
    assert "not a checkpoint signed by" in capsys.readouterr().err


def test_an_edited_state_file_is_refused(
    ledger: CommunityLedger, store: Store, community_id: str, keys_dir: Path, capsys: Capsys
) -> None:
    """A state whose size was lowered (to let a shorter rewrite through) no longer
    carries the key's signature."""
    key = new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 3)
    sealer = sealed(store, keys_dir)
    path = state_path(log_key_path(keys_dir, community_id))
    path.write_text(path.read_text().replace("\n4\n", "\n2\n"))
    grow(ledger, 1)
    sealer.seal_once(sealer.keys(), force=True)
    assert "is not a checkpoint signed by" in sealer.status()[community_id]
    state = SignerState.beside(log_key_path(keys_dir, community_id), key, community_id)
    with pytest.raises(SignerStateError):
        CommunityLog(store, community_id).sign_checkpoint(key.signer(), state)


def test_lost_checkpoints_over_intact_history_are_restored_from_the_signer(
    ledger: CommunityLedger,
    store: Store,
    store_url: str,
    raw: RawTable,
    community_id: str,
    keys_dir: Path,
    capsys: Capsys,
) -> None:
    """Checkpoints deleted but nothing rewritten: the signer proves the tree still
    extends what it signed, puts its own copy back, and signs on."""
    new_log_key(keys_dir, community_id, capsys)
    grow(ledger, 3)
    sealer = sealed(store, keys_dir)
    owner_delete(raw, "cosignatures")
    owner_delete(raw, "checkpoints")
    code, report = verify_json(store_url, community_id, keys_dir, capsys)
    assert (code, report["defect"]) == (1, "checkpoints lost")
    grow(ledger, 2)
    sealer.seal_once(sealer.keys(), force=True)
    assert sealer.status()[community_id] == "ok"
    sizes = [c.tree_size for c in CommunityLog(store, community_id).seal.checkpoints()]
    assert sizes == [6, 4]
    assert verify_json(store_url, community_id, keys_dir, capsys)[0] == 0


def test_a_later_stored_checkpoint_counts_only_if_the_key_signed_it(
    ledger: CommunityLedger,
    store: Store,
    raw: RawTable,
    community_id: str,
    keys_dir: Path,
    tmp_path: Path,
    capsys: Capsys,
) -> None:
    """A state restored from an older backup is lifted to the key's own later
    checkpoint in the store; a later "checkpoint" the key never signed is refused."""
    key = new_log_key(keys_dir, community_id, capsys)
    path = state_path(log_key_path(keys_dir, community_id))
    backup = path.read_bytes()  # the empty tree
    grow(ledger, 3)
    sealer = sealed(store, keys_dir)  # size 4
    path.write_bytes(backup)
    grow(ledger, 1)
    sealer.seal_once(sealer.keys(), force=True)
    assert sealer.status()[community_id] == "ok"
    assert b"\n5\n" in path.read_bytes()
    # Now a checkpoint of size 9 with a root of the owner's choosing, signed by an
    # impostor key of the same name, inserted straight into the store.
    from ledger.seal.checkpoint import Checkpoint, sign_checkpoint
    from ledger.seal.keys import KeyKind, generate_key

    impostor = generate_key(key.name, KeyKind.LOG)
    note = str(sign_checkpoint(Checkpoint(key.name, 9, b"\x01" * 32), impostor.signer()))
    table = f"{community_id}_checkpoints"
    marker = "?" if raw.backend == "sqlite" else "%s"
    raw.execute(
        f"INSERT INTO {table} (tree_size, root, note, signed_at) "
        f"VALUES ({marker}, {marker}, {marker}, {marker})",
        (9, b"\x01" * 32, note, "forged"),
    )
    state = SignerState.beside(log_key_path(keys_dir, community_id), key, community_id)
    with pytest.raises(InconsistentCheckpointError, match="did not sign"):
        CommunityLog(store, community_id).sign_checkpoint(key.signer(), state)


def test_verify_without_any_key_says_it_could_not_check(
    ledger: CommunityLedger,
    store: Store,
    store_url: str,
    community_id: str,
    tmp_path: Path,
    capsys: Capsys,
) -> None:
    grow(ledger, 2)
    args = ["verify", "--db", store_url, "--community", community_id]
    assert main([*args, "--keys-dir", str(tmp_path)]) == 3
    out = capsys.readouterr().out
    assert "UNVERIFIED: signatures were not checked" in out
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    assert main(["db", "init", "--db", empty]) == 0
    capsys.readouterr()
    assert main(["verify", "--db", empty]) == 0, "an empty store has nothing to prove"
    assert "no communities" in capsys.readouterr().out
