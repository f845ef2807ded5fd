"""Personal data that can be erased (ledger.domain.personal_data), on both backends: an aid
list's recipients are stored only as ciphertext under each person's key; erasing a
person destroys the key with the event that records it, and the chain still verifies."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.chain.verify import verify_store
from ledger.domain.disclosure import Disclosure
from ledger.domain.personal_data import ERASED, shown
from ledger.errors import (
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
)
from ledger.store.backend import Store
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, key

ZHANG = {
    "person_id": "3-201-1",
    "name": "张三丰",
    "id_number": "110101199003071234",
    "phone": "13812345678",
    "amount_fen": 86_000,
    "note": "因病致贫，独居",
}
LI = {"person_id": "5-102-3", "name": "李秀英", "amount_fen": 52_000}
#: What must never be stored in the clear, in any form a scan could find.
PLAINTEXT = ["张三丰", "110101199003071234", "13812345678", "因病致贫", "李秀英"]
ERASURE = {
    "ground": "consent_withdrawn",
    "reason": "本人书面申请撤回同意，依个人信息保护法第四十七条删除",
}


def draft_list(ledger: CommunityLedger, *people: dict[str, Any]) -> str:
    result = ledger.draft_disclosure(CLERK, key(), **DRAFT, recipients=list(people))
    return str(result.result["id"])


def shown_names(ledger: CommunityLedger, disclosure_id: str) -> list[str]:
    disclosure = ledger.get(Disclosure, disclosure_id, "disclosure")
    keys = ledger.personal_keys([r["key_id"] for r in disclosure.recipients])
    return [shown(ledger.community.id, r, keys).name for r in disclosure.recipients]


def raw_bytes(backend: str, store: Store, community_id: str, url: str) -> bytes:
    """Every byte the database holds for the community, as its administrator reads it:
    on SQLite the files themselves (the database, its -wal, -shm and -journal); on
    PostgreSQL every row of every table of the community, as text."""
    if backend == "sqlite":
        main = Path(url.removeprefix("sqlite:///"))
        files = [p for p in main.parent.iterdir() if p.name.startswith(main.stem)]
        assert any(p.name.endswith(f".{community_id}.sqlite3") for p in files)
        return b"".join(p.read_bytes() for p in files)
    import psycopg

    chunks = []
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE %s",
            (f"{community_id}_%",),
        ).fetchall()
        assert len(tables) >= 3
        for (table,) in tables:
            for row in conn.execute(f'SELECT t::text FROM "{table}" t').fetchall():
                chunks.append(row[0].encode())
            for row in conn.execute(f'SELECT * FROM "{table}"').fetchall():
                chunks.extend(bytes(v) for v in row if isinstance(v, bytes | memoryview))
    return b"\n".join(chunks)


def assert_no_plaintext(blob: bytes) -> None:
    for text in PLAINTEXT:
        assert text.encode() not in blob, text
        assert text.encode("unicode_escape") not in blob, text


def test_recipients_are_stored_sealed_and_shown_with_their_key(
    ledger: CommunityLedger, store: Store, backend: str, store_url: str
) -> None:
    disclosure = draft_list(ledger, ZHANG, LI)
    assert shown_names(ledger, disclosure) == ["张三丰", "李秀英"]
    assert_no_plaintext(raw_bytes(backend, store, ledger.community.id, store_url))


def test_a_person_keeps_one_key_across_lists(ledger: CommunityLedger) -> None:
    first = ledger.get(Disclosure, draft_list(ledger, ZHANG), "disclosure").recipients
    second = ledger.get(Disclosure, draft_list(ledger, ZHANG, LI), "disclosure").recipients
    assert first[0]["key_id"] == second[0]["key_id"] != second[1]["key_id"]
    assert first[0]["sealed"] != second[0]["sealed"]  # a fresh nonce each time


def test_a_retried_list_answers_the_first_result(ledger: CommunityLedger) -> None:
    k = key()
    first = ledger.draft_disclosure(CLERK, k, **DRAFT, recipients=[ZHANG])
    again = ledger.draft_disclosure(CLERK, k, **DRAFT, recipients=[ZHANG])
    assert again.replayed
    assert again.result == first.result
    other = {**ZHANG, "amount_fen": 1}
    with pytest.raises(Exception, match="different command"):
        ledger.draft_disclosure(CLERK, k, **DRAFT, recipients=[other])


def test_only_a_list_of_people_carries_recipients(ledger: CommunityLedger) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ledger.draft_disclosure(CLERK, key(), **{**DRAFT, "category": "policies"}, recipients=[LI])
    assert caught.value.field == "recipients"


def test_erasure_destroys_the_key_and_leaves_the_chain_verifying(
    ledger: CommunityLedger, store: Store, backend: str, store_url: str
) -> None:
    disclosure = draft_list(ledger, ZHANG, LI)
    ledger.revise_draft(CLERK, key(), disclosure, **DRAFT, recipients=[ZHANG, LI])
    row = ledger.chain.personal_key("3-201-1")
    assert row is not None
    assert row.key is not None
    the_key = row.key
    assert the_key in raw_bytes(backend, store, ledger.community.id, store_url)
    head_before = verify_store(store, ledger.community.id).head

    erased = ledger.erase_person(CHAIR, key(), person_id="3-201-1", **ERASURE)
    assert erased.result == {"person_id": "3-201-1", "key_id": row.key_id}

    assert shown_names(ledger, disclosure) == [ERASED, "李秀英"]
    gone = ledger.chain.personal_key("3-201-1")
    assert gone is not None
    assert gone.key is None
    assert gone.erased_at
    assert ledger.chain.erased_people().keys() == {"3-201-1"}
    verified = verify_store(store, ledger.community.id)
    assert verified.head.seq == head_before.seq + 1
    blob = raw_bytes(backend, store, ledger.community.id, store_url)
    assert the_key not in blob
    assert_no_plaintext(blob)
    event = ledger.entries(after=head_before.seq)[0]
    assert event.topic == "gongkai/person/erased"
    assert "第四十七条".encode() in event.state


def test_erasure_is_the_chairs_once_and_for_good(ledger: CommunityLedger) -> None:
    draft_list(ledger, ZHANG)
    with pytest.raises(PermissionDeniedError):
        ledger.erase_person(CLERK, key(), person_id="3-201-1", **ERASURE)
    with pytest.raises(InvalidInputError) as caught:
        ledger.erase_person(CHAIR, key(), person_id="3-201-1", ground="bored", reason="x")
    assert caught.value.field == "ground"
    with pytest.raises(NotFoundError):
        ledger.erase_person(CHAIR, key(), person_id="9-9-9", **ERASURE)
    k = key()
    first = ledger.erase_person(CHAIR, k, person_id="3-201-1", **ERASURE)
    assert ledger.erase_person(CHAIR, k, person_id="3-201-1", **ERASURE).replayed
    with pytest.raises(InvalidTransitionError):
        ledger.erase_person(CHAIR, key(), person_id="3-201-1", **ERASURE)
    with pytest.raises(InvalidInputError) as relisted:
        draft_list(ledger, LI, ZHANG)
    assert relisted.value.field == "recipients[1].person_id"
    assert first.last_seq == ledger.head().seq


def test_sqlite_erasure_leaves_no_key_in_the_files(
    ledger: CommunityLedger, store: Store, backend: str, store_url: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the files of SQLite")
    draft_list(ledger, ZHANG)
    row = ledger.chain.personal_key("3-201-1")
    assert row is not None
    assert row.key is not None
    main = Path(store_url.removeprefix("sqlite:///"))
    path = main.with_name(f"{main.stem}.{ledger.community.id}{main.suffix}")
    ledger.erase_person(CHAIR, key(), person_id="3-201-1", **ERASURE)
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert row.key not in path.read_bytes()
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_service_role_lists_and_erases_on_postgres(
    ledger: CommunityLedger, backend: str, store_url: str
) -> None:
    """The service's role adds keys and destroys them through the function made for it,
    without UPDATE on the key table."""
    if backend != "postgres":
        pytest.skip("roles are PostgreSQL's")
    import psycopg

    from ledger.application import Ledger
    from ledger.store import open_store
    from tests.conftest import pg_url

    with Ledger(open_store(pg_url("APP"))) as service:
        community = service.community(ledger.community.id)
        draft_list(community, ZHANG)
        community.erase_person(CHAIR, key(), person_id="3-201-1", **ERASURE)
    gone = ledger.chain.personal_key("3-201-1")
    assert gone is not None
    assert gone.key is None
    table = f"{ledger.community.id}_personal_keys"
    refused = pytest.raises(psycopg.errors.InsufficientPrivilege)
    with psycopg.connect(pg_url("APP")) as conn, refused:
        conn.execute(f"UPDATE {table} SET key = NULL")


def test_a_draft_stored_before_recipients_existed_still_loads(ledger: CommunityLedger) -> None:
    """Events recorded before lists had recipients have no such field."""
    from eventsourcing.persistence import StoredEvent

    drafted = ledger.draft_disclosure(CLERK, key(), **{**DRAFT, "category": "policies"})
    entry = ledger.entries(after=drafted.first_seq - 1, limit=1)[0]
    assert b',"recipients":[]' in entry.state
    old = entry.state.replace(b',"recipients":[]', b"")
    event = ledger.mapper.to_domain_event(
        StoredEvent(entry.originator_id, entry.originator_version, entry.topic, old)
    )
    disclosure = event.mutate(None)
    assert isinstance(disclosure, Disclosure)
    assert disclosure.recipients == []


def test_on_postgres_a_destroyed_key_is_off_the_disk_once_the_table_is_rewritten(
    ledger: CommunityLedger, backend: str
) -> None:
    """PostgreSQL keeps the old row version, key and all, as a dead tuple in the table's
    file after the erasure: no query sees it, but the bytes are on disk. VACUUM FULL
    rewrites the table into a new file without it (what the operator runs, or what
    autovacuum's reuse of the space does in time; WAL segments and backups keep their
    own copies until they are recycled)."""
    if backend != "postgres":
        pytest.skip("PostgreSQL's heap files")
    import psycopg

    from tests.conftest import pg_url

    draft_list(ledger, ZHANG)
    row = ledger.chain.personal_key("3-201-1")
    assert row is not None
    assert row.key is not None
    ledger.erase_person(CHAIR, key(), person_id="3-201-1", **ERASURE)
    table = f"{ledger.community.id}_personal_keys"
    with psycopg.connect(pg_url("SUPER"), autocommit=True) as conn:

        def on_disk() -> bytes:
            conn.execute("CHECKPOINT")
            (data,) = conn.execute(
                "SELECT pg_read_binary_file(pg_relation_filepath(%s))", (table,)
            ).fetchone()
            return bytes(data)

        assert row.key in on_disk(), "the dead tuple is still in the file"
        conn.execute(f'VACUUM FULL "{table}"')
        assert row.key not in on_disk()


def test_a_list_drafted_before_an_erasure_replays_after_it(ledger: CommunityLedger) -> None:
    """A retry of the draft under its own key answers the first result, storing
    nothing, though its arguments can no longer be sealed; under a new key it is
    refused, as any list naming the person now is."""
    k = key()
    drafted = ledger.draft_disclosure(CLERK, k, **DRAFT, recipients=[ZHANG, LI])
    ledger.erase_person(CHAIR, key(), person_id="3-201-1", **ERASURE)
    head = ledger.head()
    again = ledger.draft_disclosure(CLERK, k, **DRAFT, recipients=[ZHANG, LI])
    assert again.replayed
    assert again.result == drafted.result
    assert ledger.head() == head
    with pytest.raises(InvalidInputError, match="was erased"):
        ledger.draft_disclosure(CLERK, key(), **DRAFT, recipients=[ZHANG, LI])
    assert ledger.head() == head
