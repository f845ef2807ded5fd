"""The seal over HTTP: checkpoints, cosignatures, proofs and keys, happy paths and each
error as problem+json."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.demo.seal import seal_demo
from api.service.app import create_app
from api.service.sealer import Sealer
from api.service.settings import Settings
from ledger.application import Ledger
from ledger.seal.checkpoint import open_checkpoint
from ledger.seal.community_log import CommunityLog
from ledger.seal.keys import KeyKind, PrivateKey, generate_key, load_private_key
from ledger.seal.merkle import leaf_hash, verify_consistency, verify_inclusion
from ledger.seal.note import Signature, parse_note, parse_vkey
from ledger.seal.signer_state import SignerState
from ledger.seal.tlog_proof import parse_tlog_proof
from ledger.store import open_store
from ledger.store.base import Community
from tests.contract.test_ledger_contract import CLERK, DRAFT, posted


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def client(store_url: str, keys_dir: Path, community_id: str) -> Iterator[TestClient]:
    with open_store(store_url) as store:
        store.init_schema()
        with Ledger(store) as whole:
            book = whole.add_community(Community(community_id, "一号社区"))
            for _ in range(5):
                book.draft_disclosure(CLERK, str(uuid.uuid4()), **DRAFT)
    settings = Settings(db_url=store_url, keys_dir=keys_dir, checkpoint_interval=0)
    with TestClient(create_app(settings)) as c:
        yield c


def seal(client: TestClient, keys_dir: Path, community_id: str) -> None:
    store = client.app.state.ledger.store  # type: ignore[attr-defined]
    seal_demo(store, community_id, keys_dir)
    client.app.state.log_vkeys = {
        community_id: (keys_dir / f"{community_id}.log.vkey").read_text().strip()
    }  # type: ignore[attr-defined]


def problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    return body


def test_no_checkpoint_yet_is_a_404(client: TestClient, community_id: str) -> None:
    base = f"/v1/communities/{community_id}"
    assert "no signed checkpoint" in str(problem(client.get(f"{base}/checkpoint"), 404)["detail"])
    problem(client.get(f"{base}/proof/inclusion?seq=1"), 404)
    problem(client.get("/v1/communities/nope/checkpoint"), 404)


def test_checkpoints_and_their_seals(
    client: TestClient, keys_dir: Path, community_id: str
) -> None:
    base = f"/v1/communities/{community_id}"
    seal(client, keys_dir, community_id)
    log_vkey = client.get(f"{base}/keys").json()["log"]
    member = client.get(f"{base}/keys").json()["cosigners"][0]
    assert member["role"] == "committee"
    assert member["label"]
    text = client.get(f"{base}/checkpoint")
    assert text.headers["content-type"].startswith("text/plain")
    signed = open_checkpoint(text.text, [parse_vkey(log_vkey)], [parse_vkey(member["vkey"])])
    assert signed.checkpoint.size == 6
    assert len(signed.cosignatures) == 1
    listing = client.get(f"{base}/checkpoints").json()["checkpoints"]
    assert [c["tree_size"] for c in listing] == [6]
    assert listing[0]["seals"][0]["label"] == member["label"]
    assert client.get(f"{base}/checkpoints/6").text == text.text
    problem(client.get(f"{base}/checkpoints/5"), 404)


def cosignature(key: PrivateKey, note: str) -> str:
    signer = key.signer()
    return Signature(
        signer.name, signer.key_id, signer.sign(parse_note(note).text.encode())
    ).line()


def test_cosignature_upload_and_its_errors(
    client: TestClient, keys_dir: Path, community_id: str
) -> None:
    base = f"/v1/communities/{community_id}"
    seal(client, keys_dir, community_id)
    note = client.get(f"{base}/checkpoints/6").text
    member = load_private_key(keys_dir / f"{community_id}.committee.key")
    url = f"{base}/checkpoints/6/cosignatures"
    again = client.post(url, content=cosignature(member, note))
    assert again.status_code == 201
    assert again.json()["added"] is False
    stranger = generate_key("committee.test/x", KeyKind.COSIGNER)
    assert "not an accepted" in str(
        problem(client.post(url, content=cosignature(stranger, note)), 403)["detail"]
    )
    forged = cosignature(member, note.replace("\n6\n", "\n7\n"))
    problem(client.post(url, content=forged), 403)
    problem(client.post(url, content="— committee AAAA\n"), 400)
    problem(client.post(url, content="two\nlines\n"), 422)
    problem(client.post(url, content="—" * 5000), 422)
    problem(
        client.post(f"{base}/checkpoints/99/cosignatures", content=cosignature(member, note)), 404
    )


def test_inclusion_proofs_json_and_text(
    client: TestClient, keys_dir: Path, community_id: str
) -> None:
    base = f"/v1/communities/{community_id}"
    seal(client, keys_dir, community_id)
    log_key = parse_vkey((keys_dir / f"{community_id}.log.vkey").read_text().strip())
    for seq in range(1, 7):
        body = client.get(f"{base}/proof/inclusion?seq={seq}").json()
        assert set(body) >= {"leaf_index", "tree_size", "leaf_hash", "hashes", "checkpoint"}
        root = open_checkpoint(body["checkpoint"], [log_key]).checkpoint.root
        entry = bytes.fromhex(body["entry_hash"])
        assert base64.b64decode(body["leaf_hash"]) == leaf_hash(entry)
        hashes = [base64.b64decode(h) for h in body["hashes"]]
        verify_inclusion(seq - 1, body["tree_size"], leaf_hash(entry), hashes, root)
        text = client.get(f"{base}/proof/inclusion?seq={seq}&format=text").text
        parsed = parse_tlog_proof(text)
        assert parsed.index == seq - 1
        assert list(parsed.hashes) == hashes
    problem(client.get(f"{base}/proof/inclusion?seq=7"), 404)
    problem(client.get(f"{base}/proof/inclusion?seq=0"), 422)
    problem(client.get(f"{base}/proof/inclusion?seq=1&format=xml"), 422)


def test_consistency_proofs(client: TestClient, keys_dir: Path, community_id: str) -> None:
    base = f"/v1/communities/{community_id}"
    seal(client, keys_dir, community_id)
    store = client.app.state.ledger.store  # type: ignore[attr-defined]
    first = CommunityLog(store, community_id).latest_checkpoint()
    book = client.app.state.ledger.community(community_id)  # type: ignore[attr-defined]
    posted(book)
    key_file = keys_dir / f"{community_id}.log.key"
    key = load_private_key(key_file)
    state = SignerState.beside(key_file, key, community_id)
    second = CommunityLog(store, community_id).sign_checkpoint(key.signer(), state)
    body = client.get(f"{base}/proof/consistency?from=6&to={second.tree_size}").json()
    hashes = [base64.b64decode(h) for h in body["hashes"]]
    verify_consistency(6, second.tree_size, first.root, second.root, hashes)
    problem(client.get(f"{base}/proof/consistency?from=9&to=6"), 422)
    problem(client.get(f"{base}/proof/consistency?from=1&to=999"), 422)


def test_the_sealer_signs_after_a_publication(
    client: TestClient, keys_dir: Path, community_id: str
) -> None:
    seal(client, keys_dir, community_id)
    store = client.app.state.ledger.store  # type: ignore[attr-defined]
    sealer = Sealer(store, keys_dir, interval=3600)
    keys = sealer.keys()
    book = client.app.state.ledger.community(community_id)  # type: ignore[attr-defined]
    book.draft_disclosure(CLERK, str(uuid.uuid4()), **DRAFT)
    sealer._last_signed[community_id] = time.monotonic()  # as if it had signed just now
    sealer.seal_once(keys)
    assert CommunityLog(store, community_id).latest_checkpoint().tree_size == 6, "a draft waits"
    posted(book)
    sealer.seal_once(keys)
    assert CommunityLog(store, community_id).latest_checkpoint().tree_size == book.head().seq


def test_the_sealer_asks_the_witness(
    client: TestClient, keys_dir: Path, community_id: str, tmp_path: Path
) -> None:
    """The service's sealer submits each new checkpoint to its witnesses and keeps the
    cosignatures; a witness that is down is logged and the checkpoint still signed."""
    from api.witness.app import create_witness_app
    from ledger.seal.witness import Witness
    from tests.liveserver import serving

    seal(client, keys_dir, community_id)
    store = client.app.state.ledger.store  # type: ignore[attr-defined]
    log_vkey = parse_vkey((keys_dir / f"{community_id}.log.vkey").read_text().strip())
    witness_key = generate_key("jiwei.street.test/w", KeyKind.COSIGNER)
    CommunityLog(store, community_id).add_cosigner(
        witness_key.vkey, role="witness", label="纪工委"
    )
    witness = Witness(witness_key, [log_vkey], tmp_path / "w.sqlite3")
    book = client.app.state.ledger.community(community_id)  # type: ignore[attr-defined]
    with serving(create_witness_app(witness), lifespan="off") as url:
        sealer = Sealer(store, keys_dir, interval=0, witnesses=(url, "http://127.0.0.1:9"))
        posted(book)
        sealer.seal_once(sealer.keys())
    log = CommunityLog(store, community_id)
    latest = log.latest_checkpoint()
    assert latest.tree_size == book.head().seq
    opened = open_checkpoint(log.cosigned_note(latest), [log_vkey], [witness_key.verifier()])
    assert [c.name for c, _ in opened.cosignatures] == [witness_key.name]


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.errors import InvalidInputError

    monkeypatch.setenv("GONGKAI_WITNESSES", " http://127.0.0.1:8001 ,, http://127.0.0.1:8002")
    monkeypatch.setenv("GONGKAI_CHECKPOINT_INTERVAL", "60")
    settings = Settings.from_env()
    assert settings.witnesses == ("http://127.0.0.1:8001", "http://127.0.0.1:8002")
    assert settings.checkpoint_interval == 60
    monkeypatch.setenv("GONGKAI_CHECKPOINT_INTERVAL", "soon")
    with pytest.raises(InvalidInputError, match="GONGKAI_CHECKPOINT_INTERVAL"):
        Settings.from_env()
