"""The read models' database turns what a caller can act on into gongkai's errors, on
both backends: a value the database cannot hold is invalid input, and a database never
set up says how to set it up."""

from __future__ import annotations

import pytest

from ledger.errors import InvalidInputError, StoreError
from projections.audit_trail import AuditTrailProjection, acts_by
from projections.db import open_read_db
from projections.runner import ProjectionRunner


def test_text_with_a_nul_is_found_as_nothing_or_refused_as_input(
    backend: str, isolated_store_url: str
) -> None:
    db = open_read_db(isolated_store_url)
    try:
        ProjectionRunner(db, [AuditTrailProjection()], lambda *_: []).setup()
        if backend == "sqlite":
            assert acts_by(db, "tianhai", "王\x00芳") == []
        else:
            with pytest.raises(InvalidInputError, match="cannot hold"):
                acts_by(db, "tianhai", "王\x00芳")
        assert acts_by(db, "tianhai", "王芳") == [], "the database still answers"
    finally:
        db.close()


def first_read(store_url: str) -> None:
    db = open_read_db(store_url, create=False)
    try:
        acts_by(db, "tianhai")
    finally:
        db.close()


def test_a_database_never_set_up_says_to_run_db_init(isolated_store_url: str) -> None:
    """SQLite refuses to open a file that is not there; PostgreSQL finds no tables."""
    with pytest.raises(StoreError, match="gongkai db init"):
        first_read(isolated_store_url)
