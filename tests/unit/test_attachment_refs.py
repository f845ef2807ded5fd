"""The attachment references read model: which items name each file, from a real
ledger's record; what the attachment route asks before serving a file."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator

import pytest

from projections.attachment_refs import AttachmentRef, AttachmentRefsProjection, refs_to
from projections.db import ReadDB, open_read_db
from tests.projection_rows import PHOTO, VOUCHER, catch_up, made_up_row, record_story


@pytest.fixture
def read_db(isolated_store_url: str) -> Iterator[ReadDB]:
    db = open_read_db(isolated_store_url)
    yield db
    db.close()


def test_each_item_naming_a_file_is_found(isolated_store_url: str, read_db: ReadDB) -> None:
    story = record_story(isolated_store_url, "tianhai")
    catch_up(read_db, AttachmentRefsProjection(), "tianhai", story.rows)
    photo = refs_to(read_db, "tianhai", PHOTO)
    # The revision that added the photo names it; the correction's version names none.
    assert [(r.subject, r.subject_id) for r in photo] == [("disclosure", story.disclosure)]
    vouchers = refs_to(read_db, "tianhai", VOUCHER)
    # The entry and its red-ink reversal each name their voucher (here the same scan).
    assert [(r.subject, r.subject_id) for r in vouchers] == [
        ("voucher", story.entry),
        ("voucher", story.reversal),
    ]
    assert vouchers[0].seq < vouchers[1].seq
    assert refs_to(read_db, "tianhai", hashlib.sha256(b"unnamed").hexdigest()) == []
    assert refs_to(read_db, "xinhe", PHOTO) == []  # another community names nothing


def test_a_version_naming_a_file_twice_is_one_reference(read_db: ReadDB) -> None:
    oid = uuid.uuid4()
    row = made_up_row(1, oid, "gongkai/disclosure/drafted", 1)
    state = json.loads(row[6])
    state["attachments"] = [PHOTO, PHOTO]
    twice = (*row[:6], json.dumps(state).encode())
    catch_up(read_db, AttachmentRefsProjection(), "tianhai", [twice])
    assert refs_to(read_db, "tianhai", PHOTO) == [AttachmentRef("disclosure", str(oid), 1)]


def test_files_of_events_that_name_none_are_not_references(read_db: ReadDB) -> None:
    """A review's or an objection's state is not a version: a field that looks like an
    attachment list there is not read."""
    rows = [
        made_up_row(1, uuid.uuid4(), "gongkai/disclosure/reviewed", 1),
        made_up_row(2, uuid.uuid4(), "gongkai/correction/objection-raised", 1),
    ]
    catch_up(read_db, AttachmentRefsProjection(), "tianhai", rows)
    assert refs_to(read_db, "tianhai", f"{1:064x}") == []
