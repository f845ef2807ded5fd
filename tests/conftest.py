"""Fixtures shared by the suite: every contract test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``.ci/with-postgres`` (``make test``), which exports
``GONGKAI_TEST_PG_*_URL``. Without it the PostgreSQL half is skipped on a developer's
machine, and fails under CI, where skipping would hide it.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.application import CommunityLedger, Ledger
from ledger.store import open_store
from ledger.store.backend import Store
from ledger.store.base import Community
from tests.rawdb import RawTable, raw_table

BACKENDS = ["sqlite", "postgres"]
SERVICE_ROLE = "gongkai_app"


def pg_url(kind: str = "ADMIN") -> str:
    url = os.environ.get(f"GONGKAI_TEST_PG_{kind}_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("GONGKAI_TEST_PG_*_URL is not set: run the suite with 'make test'")
        pytest.skip("no PostgreSQL: run 'make test' to start one")
    return url


def url_for(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/gongkai.sqlite3"
    return pg_url()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def store_url(backend: str, tmp_path: Path) -> str:
    return url_for(backend, tmp_path)


@pytest.fixture
def isolated_store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A store of this test's own, for tests that look at every community of a store.
    On PostgreSQL that is a database made for the test and dropped after it."""
    if backend == "sqlite":
        yield url_for(backend, tmp_path)
        return
    with fresh_pg_database() as url:
        yield url


@contextlib.contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A PostgreSQL database owned by the test database's owner, dropped afterwards."""
    import psycopg

    name = "gk_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_url("SUPER"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} OWNER gongkai_admin")
    base, _, _ = pg_url().rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(pg_url("SUPER"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def community_id() -> str:
    """A fresh community per test: on PostgreSQL, tests share one database."""
    return "t" + uuid.uuid4().hex[:16]


@pytest.fixture
def store(store_url: str, backend: str) -> Iterator[Store]:
    s = open_store(store_url)
    s.init_schema(service_role=SERVICE_ROLE if backend == "postgres" else None)
    yield s
    s.close()


@pytest.fixture
def ledger(store: Store, community_id: str) -> Iterator[CommunityLedger]:
    whole = Ledger(store)
    community = whole.add_community(Community(community_id, "测试社区"))
    yield community
    whole.close()


@pytest.fixture
def raw(backend: str, store_url: str, community_id: str) -> RawTable:
    """Direct access to the community's events table, as a hostile administrator."""
    return raw_table(backend, store_url, community_id)
