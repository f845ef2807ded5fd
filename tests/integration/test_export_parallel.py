"""A long export has its proofs worked out, checked and written by a process of its own:
the bundle is the same as one process writes, and a proof that does not check stops
the export with nothing written."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from api.cli.export import export_bundle, parse_range
from api.cli.main import main
from api.service.keyfiles import find_log_key, vkey_path
from ledger.bundle.format import BundleVerificationError
from ledger.bundle.verify import verify_bundle
from ledger.seal.note import parse_vkey
from ledger.store import open_store
from ledger.store.base import tree_table
from ledger.store.sqlite import SQLiteStore


@pytest.fixture
def demo(isolated_store_url: str, tmp_path: Path) -> Path:
    keys = tmp_path / "keys"
    assert main(["demo", "--db", isolated_store_url, "--keys-dir", str(keys)]) == 0
    return keys


def export(url: str, keys: Path, out: Path, parallel_from: int) -> None:
    key = find_log_key(keys, "tianhai")
    assert key is not None
    with open_store(url) as store:
        export_bundle(
            store, "tianhai", parse_range(None, None, None), out, key, parallel_from=parallel_from
        )


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_the_proof_process_writes_what_one_process_writes(
    isolated_store_url: str, demo: Path, tmp_path: Path
) -> None:
    alone, beside = tmp_path / "alone.zip", tmp_path / "beside.zip"
    export(isolated_store_url, demo, alone, parallel_from=10**9)
    export(isolated_store_url, demo, beside, parallel_from=0)
    one, two = members(alone), members(beside)
    for name in ("events.jsonl", "proofs.jsonl", "board.html", "checkpoint.txt"):
        assert one[name] == two[name], name
    log_vkey = parse_vkey(vkey_path(demo / "tianhai.log.key").read_text().strip())
    assert verify_bundle(beside, [log_vkey]).entries == one["events.jsonl"].count(b"\n")
    assert not list(tmp_path.glob(".proofs.*")), "the proof process's file is removed"


def test_a_proof_that_does_not_check_stops_the_export(tmp_path: Path) -> None:
    """An administrator changed a leaf of the stored tree: the proof process finds that
    entry's proof does not lead to the signed root, and no bundle is written."""
    url = f"sqlite:///{tmp_path}/gongkai.sqlite3"
    keys = tmp_path / "keys"
    assert main(["demo", "--db", url, "--keys-dir", str(keys)]) == 0
    with open_store(url) as store:
        assert isinstance(store, SQLiteStore)
        path = store.community_path("tianhai")
    table = tree_table("tianhai")
    with sqlite3.connect(path) as conn:
        for (trigger,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)
        ).fetchall():
            conn.execute(f'DROP TRIGGER "{trigger}"')
        conn.execute(f'UPDATE "{table}" SET hash = ? WHERE level = 0 AND idx = 3', (bytes(32),))
    out = tmp_path / "bundle.zip"
    with pytest.raises(BundleVerificationError, match=r"proofs.jsonl: entry \d+ is not shown"):
        export(url, keys, out, parallel_from=0)
    assert not out.exists()
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file is left behind"
