"""The database itself refuses to change or remove what was recorded."""

from __future__ import annotations

import pytest

from ledger.application import CommunityLedger
from tests.conftest import pg_url
from tests.contract.test_ledger_contract import posted
from tests.rawdb import RawTable, raw_table

STATEMENTS = {
    "update events": "UPDATE {table} SET originator_version = originator_version + 1",
    "delete events": "DELETE FROM {table} WHERE seq = 1",
}


@pytest.mark.parametrize("statement", sorted(STATEMENTS))
def test_the_owner_is_refused_update_and_delete(
    ledger: CommunityLedger, raw: RawTable, statement: str
) -> None:
    posted(ledger)
    before = raw.read()
    with pytest.raises(Exception, match="append-only"):
        raw.execute(STATEMENTS[statement])
    assert raw.read() == before


@pytest.mark.parametrize("statement", ["UPDATE {table} SET result = ''", "DELETE FROM {table}"])
def test_the_command_table_is_append_only_too(
    ledger: CommunityLedger, raw: RawTable, statement: str
) -> None:
    posted(ledger)
    commands = statement.replace("{table}", f"{ledger.community.id}_commands")
    with pytest.raises(Exception, match="append-only"):
        raw.execute(commands)


def test_the_owner_is_refused_truncate_on_postgres(
    ledger: CommunityLedger, raw: RawTable, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite has no TRUNCATE")
    posted(ledger)
    with pytest.raises(Exception, match="append-only"):
        raw.execute("TRUNCATE {table}")
    assert len(raw.read()) == 6


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET state = state",
        "DELETE FROM {table}",
        "TRUNCATE {table}",
        "ALTER TABLE {table} DISABLE TRIGGER USER",
        "DROP TABLE {table}",
    ],
)
def test_the_service_role_lacks_the_privilege_on_postgres(
    ledger: CommunityLedger, backend: str, statement: str
) -> None:
    """The service connects as a role granted SELECT and INSERT only."""
    if backend != "postgres":
        pytest.skip("roles are PostgreSQL's")
    import psycopg

    posted(ledger)
    service = raw_table(backend, pg_url("APP"), ledger.community.id)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        service.execute(statement)
    assert len(service.read()) == 6


def test_the_service_role_can_append_on_postgres(ledger: CommunityLedger, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("roles are PostgreSQL's")
    from ledger.application import Ledger
    from ledger.store import open_store

    with Ledger(open_store(pg_url("APP"))) as service:
        posted(service.community(ledger.community.id))
    assert ledger.head().seq == 6  # the chart of accounts, then five events by the service
