"""The seal's commands end to end: keys, checkpoints, proofs, committee seals over HTTP,
a witness, and archive bundles checked offline."""

from __future__ import annotations

import json
import stat
import uuid
import zipfile
from pathlib import Path

import pytest

from api.cli.main import main
from api.service.app import create_app
from api.service.settings import Settings
from api.witness.app import create_witness_app
from ledger.application import Ledger
from ledger.seal.checkpoint import open_checkpoint
from ledger.seal.community_log import CommunityLog
from ledger.seal.keys import KeyKind, generate_key, load_private_key
from ledger.seal.merkle import leaf_hash, verify_inclusion
from ledger.seal.note import parse_vkey
from ledger.seal.signer_state import SignerState
from ledger.seal.witness import Witness
from ledger.store import open_store
from tests.contract.test_ledger_contract import CLERK, DRAFT, posted
from tests.liveserver import serving

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def demo(isolated_store_url: str, tmp_path: Path, capsys: Capsys) -> Path:
    keys = tmp_path / "keys"
    assert main(["demo", "--db", isolated_store_url, "--keys-dir", str(keys)]) == 0
    capsys.readouterr()
    return keys


def vkey(keys: Path, name: str) -> str:
    return (keys / f"tianhai.{name}.vkey").read_text().strip()


def test_keys_generate(tmp_path: Path, capsys: Capsys) -> None:
    path = tmp_path / "k" / "member.key"
    assert (
        main(["keys", "generate", "--name", "c.example/m", "-o", str(path), "--kind", "cosigner"])
        == 0
    )
    printed = capsys.readouterr().out.strip()
    assert parse_vkey(printed).name == "c.example/m"
    assert (tmp_path / "k" / "member.vkey").read_text().strip() == printed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_private_key(path).kind is KeyKind.COSIGNER
    assert main(["keys", "generate", "--name", "c.example/m", "-o", str(path)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["keys", "generate", "--name", "bad name", "-o", str(tmp_path / "x")]) == 2


def test_checkpoint_needs_a_log_key(
    isolated_store_url: str, tmp_path: Path, capsys: Capsys
) -> None:
    assert main(["demo", "--db", isolated_store_url, "--keys-dir", str(tmp_path / "k")]) == 0
    code = main(
        [
            "checkpoint",
            "--db",
            isolated_store_url,
            "--community",
            "tianhai",
            "--keys-dir",
            str(tmp_path / "none"),
        ]
    )
    assert code == 2
    assert "no log key" in capsys.readouterr().err


def test_checkpoint_show_and_proof(isolated_store_url: str, demo: Path, capsys: Capsys) -> None:
    db = ["--db", isolated_store_url]
    assert main(["checkpoint", "show", "--community", "tianhai", *db]) == 0
    shown = capsys.readouterr().out
    signed = open_checkpoint(shown, [parse_vkey(vkey(demo, "log"))])
    assert main(["proof", "--community", "tianhai", "--seq", "7", "--json", *db]) == 0
    body = json.loads(capsys.readouterr().out)
    assert {"leaf_index", "tree_size", "leaf_hash", "hashes", "checkpoint"} <= set(body)
    import base64

    verify_inclusion(
        body["leaf_index"],
        body["tree_size"],
        base64.b64decode(body["leaf_hash"]),
        [base64.b64decode(h) for h in body["hashes"]],
        signed.checkpoint.root,
    )
    assert base64.b64decode(body["leaf_hash"]) == leaf_hash(bytes.fromhex(body["entry_hash"]))
    assert main(["proof", "--community", "tianhai", "--seq", "7", *db]) == 0
    assert capsys.readouterr().out.startswith("c2sp.org/tlog-proof@v1\nindex 6\n")
    assert main(["proof", "--community", "tianhai", "--seq", "100000", *db]) == 2
    assert "not covered" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["proof", "--community", "tianhai", "--seq", "0", *db])
    assert exited.value.code == 2


def test_committee_seal_over_http(
    isolated_store_url: str, demo: Path, tmp_path: Path, capsys: Capsys
) -> None:
    """A member seals, the log grows, the member seals again with a consistency proof;
    a server that rolled back is refused."""
    settings = Settings(db_url=isolated_store_url, keys_dir=demo, checkpoint_interval=0)
    member = generate_key("committee.test/li", KeyKind.COSIGNER)
    key_file = tmp_path / "li.key"
    from ledger.seal.keys import write_private_key

    write_private_key(member, key_file)
    with open_store(isolated_store_url) as store:
        CommunityLog(store, "tianhai").add_cosigner(member.vkey, role="committee", label="李")
    with serving(create_app(settings)) as url:
        args = ["cosign", "--server", url, "--community", "tianhai", "--key", str(key_file)]
        assert main(args) == 0
        assert "sealed tianhai checkpoint" in capsys.readouterr().out
        with open_store(isolated_store_url) as store, Ledger(store) as whole:
            posted(whole.community("tianhai"))
            log_key = load_private_key(demo / "tianhai.log.key")
            state = SignerState.beside(demo / "tianhai.log.key", log_key, "tianhai")
            CommunityLog(store, "tianhai").sign_checkpoint(log_key.signer(), state)
        assert main(args) == 0
        assert "consistent with size" in capsys.readouterr().out
        state_file = key_file.with_suffix(".cosign-state.json")
        state = json.loads(state_file.read_text())
        good = json.loads(state_file.read_text())
        state["tianhai"]["size"] += 100
        state_file.write_text(json.dumps(state))
        assert main(args) == 1
        assert "rolled back" in capsys.readouterr().err
        forked = dict(good["tianhai"], size=good["tianhai"]["size"] - 3)
        state_file.write_text(json.dumps({"tianhai": forked}))
        assert main(args) == 1, "a root this key never saw at that size: a fork"
        assert "not consistent" in capsys.readouterr().err
        wrong = ["--log-key", generate_key("gongkai.local/tianhai", KeyKind.LOG).vkey]
        state_file.unlink()
        assert main([*args, *wrong]) == 1
        assert "REFUSED" in capsys.readouterr().err


def test_a_witness_cosigns_the_log(
    isolated_store_url: str, demo: Path, tmp_path: Path, capsys: Capsys
) -> None:
    witness_key = generate_key("jiwei.street.test/w1", KeyKind.COSIGNER)
    log_vkey = parse_vkey(vkey(demo, "log"))
    witness = Witness(witness_key, [log_vkey], tmp_path / "witness.sqlite3")
    db = ["--db", isolated_store_url, "--community", "tianhai", "--keys-dir", str(demo)]
    with open_store(isolated_store_url) as store:
        CommunityLog(store, "tianhai").add_cosigner(
            witness_key.vkey, role="witness", label="街道纪工委"
        )
    with serving(create_witness_app(witness), lifespan="off") as url:
        with open_store(isolated_store_url) as store, Ledger(store) as whole:
            whole.community("tianhai").draft_disclosure(CLERK, str(uuid.uuid4()), **DRAFT)
        assert main(["checkpoint", *db, "--witness", url]) == 0
        first = capsys.readouterr().out
        opened = open_checkpoint(first, [log_vkey], [witness_key.verifier()])
        assert [c.name for c, _ in opened.cosignatures] == [witness_key.name]
        with open_store(isolated_store_url) as store, Ledger(store) as whole:
            posted(whole.community("tianhai"))
        assert main(["checkpoint", *db, "--witness", url]) == 0
        second = open_checkpoint(capsys.readouterr().out, [log_vkey], [witness_key.verifier()])
        assert second.checkpoint.size > opened.checkpoint.size
        assert len(second.cosignatures) == 1


def test_export_and_verify_bundle(
    isolated_store_url: str, demo: Path, tmp_path: Path, capsys: Capsys
) -> None:
    out = tmp_path / "tianhai.zip"
    db = ["--db", isolated_store_url, "--community", "tianhai", "--keys-dir", str(demo)]
    import datetime as dt

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    period = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    assert main(["export", *db, "--period", period, "-o", str(out)]) == 0
    assert "entries" in capsys.readouterr().out
    keys = ["--key", vkey(demo, "log"), "--key", vkey(demo, "committee")]
    assert main(["verify-bundle", str(out), *keys]) == 0
    report = capsys.readouterr().out
    assert "bundle verified" in report
    assert "cosigned by" in report
    assert main(["verify-bundle", str(out), "--key", vkey(demo, "committee")]) == 1
    assert "no trusted log key" in capsys.readouterr().out
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert {
            "events.jsonl",
            "proofs.jsonl",
            "checkpoint.txt",
            "board.html",
            "README.txt",
        } <= set(names)
        board = z.read("board.html").decode()
    assert "天海社区" in board
    data = bytearray(out.read_bytes())
    data[len(data) // 3] ^= 0x01
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(bytes(data))
    assert main(["verify-bundle", str(tampered), *keys]) == 1
    assert "FAILED" in capsys.readouterr().out
    assert main(["export", *db, "--period", "2026Q5", "-o", str(tmp_path / "x.zip")]) == 2
    assert (
        main(
            [
                "export",
                *db,
                "--from",
                "1999-01-01",
                "--to",
                "1999-02-01",
                "-o",
                str(tmp_path / "y.zip"),
            ]
        )
        == 2
    )
    assert "no entry" in capsys.readouterr().err
    assert main(["export", *db, "--period", period, "-o", str(out)]) == 2, "no overwrite"
