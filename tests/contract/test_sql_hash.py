"""PostgreSQL chains entries in SQL; its hash functions must give the known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.store.backend import Store
from tests.conftest import pg_url

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "chain_v1.json").read_text())


@pytest.fixture
def pg(store: Store, backend: str) -> object:
    if backend != "postgres":
        pytest.skip("the SQL implementation of the chain is PostgreSQL's")
    import psycopg

    return psycopg.connect(pg_url())


def test_sql_genesis_hash_matches_known_answers(pg: object) -> None:
    for case in VECTORS["genesis"]:
        (digest,) = pg.execute(  # type: ignore[attr-defined]
            "SELECT gongkai_genesis_hash(%s)", (case["community"],)
        ).fetchone()
        assert bytes(digest).hex() == case["hash"]


def test_sql_entry_hash_matches_known_answers(pg: object) -> None:
    for chain in VECTORS["chains"]:
        for e in chain["entries"]:
            (digest,) = pg.execute(  # type: ignore[attr-defined]
                "SELECT gongkai_entry_hash(%s, %s, %s::uuid, %s, %s, %s)",
                (
                    e["seq"],
                    bytes.fromhex(e["prev_hash"]),
                    e["originator_id"],
                    e["originator_version"],
                    e["topic"],
                    bytes.fromhex(e["state_hex"]),
                ),
            ).fetchone()
            assert bytes(digest).hex() == e["hash"], e["seq"]
