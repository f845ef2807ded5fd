"""The history read model keeps every version of a disclosure's content, tells what
changed between two, links the objections about it, and stands as it stood after any
entry — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInputError
from ledger.store.base import RawRow
from projections.db import ReadDB, open_read_db
from projections.history import HistoryProjection, changes, history, objections
from projections.runner import ProjectionRunner
from tests.projection_rows import (
    OIDS,
    PHOTO,
    Source,
    Story,
    catch_up,
    check_runs_agree,
    made_up_events,
    made_up_row,
    made_up_rows,
    record_story,
    table_rows,
    uuid_value,
)

TABLES = HistoryProjection().tables()


@pytest.fixture
def read_db(isolated_store_url: str) -> Iterator[ReadDB]:
    db = open_read_db(isolated_store_url)
    yield db
    db.close()


@pytest.fixture
def story(isolated_store_url: str, read_db: ReadDB) -> Story:
    """The real ledger's story of one disclosure, projected for community tianhai."""
    told = record_story(isolated_store_url, "tianhai")
    catch_up(read_db, HistoryProjection(), "tianhai", told.rows)
    return told


def seq_of(story: Story, topic: str, nth: int = 0) -> int:
    return [row[0] for row in story.rows if row[5].decode() == topic][nth]


def recorded_at(row: RawRow) -> str:
    value: str = json.loads(row[6])["timestamp"]["_data_"]
    return value


def test_every_version_is_kept_with_who_made_it_and_when(read_db: ReadDB, story: Story) -> None:
    versions = history(read_db, "tianhai", story.disclosure)
    assert [(v.version, v.kind) for v in versions] == [
        (1, "drafted"),
        (2, "draft-revised"),
        (3, "draft-revised"),
        (4, "corrected"),
    ]
    content_topics = ("drafted", "draft-revised", "corrected")
    content_rows = [
        r
        for r in story.rows
        if r[5].decode().removeprefix("gongkai/disclosure/") in content_topics
    ]
    assert [v.seq for v in versions] == [r[0] for r in content_rows]
    assert [v.recorded_at for v in versions] == [recorded_at(r) for r in content_rows]
    assert {(v.actor, v.actor_role) for v in versions} == {("李娜", "clerk")}
    assert all(v.disclosure_id == uuid.UUID(story.disclosure) for v in versions)
    first, _, listed, corrected = versions
    assert first.title == "2026年7月低保发放公示"
    assert "18,600" in first.body
    assert listed.attachments == (PHOTO,)
    # A correction names the objection it answers and the version it replaces; the
    # category and scope it does not restate carry over.
    assert (corrected.correction_id, corrected.corrects_version) == (
        uuid.UUID(story.objection),
        3,
    )
    assert (corrected.category, corrected.scope) == ("social_assistance", "public")
    assert corrected.attachments == ()
    assert [v.correction_id for v in versions[:3]] == [None, None, None]


def test_changes_name_the_fields_and_diff_the_lines(read_db: ReadDB, story: Story) -> None:
    first, revised, listed, corrected = history(read_db, "tianhai", story.disclosure)
    amount = changes(first, revised)
    assert amount.fields == ("body",)
    assert amount.title_diff == ()
    assert "-发放金额合计18,600元。" in amount.body_diff
    assert "+发放金额合计18,800元。" in amount.body_diff
    assert amount.body_diff[:2] == ("--- v1", "+++ v2")
    assert " 本月低保对象共12户。" in amount.body_diff, "unchanged lines are context"

    attached = changes(revised, listed)
    assert attached.fields == ("body", "attachments")
    assert (attached.attachments_added, attached.attachments_removed) == ((PHOTO,), ())

    correction = changes(listed, corrected)
    assert correction.fields == ("title", "body", "attachments")
    assert "+2026年7月低保发放公示(更正)" in correction.title_diff
    assert "-2026年7月低保发放公示" in correction.title_diff
    assert correction.attachments_removed == (PHOTO,)
    assert changes(corrected, corrected).fields == ()


def test_objections_are_linked_to_their_disclosure(read_db: ReadDB, story: Story) -> None:
    acts = objections(read_db, "tianhai", story.disclosure)
    assert [(str(a.objection_id), a.act) for a in acts] == [
        (story.dismissed, "objection-raised"),
        (story.dismissed, "objection-dismissed"),
        (story.objection, "objection-raised"),
        (story.objection, "objection-verified"),
        (story.objection, "correction-drafted"),
        *[(story.objection, "correction-reviewed")] * 5,
        (story.objection, "correction-published"),
    ]
    assert all(a.disclosure_id == uuid.UUID(story.disclosure) for a in acts)
    raised, dismissed, _, verified, drafted, *reviews, corrected = acts
    assert drafted.text == "原公示漏计一户,现予更正。"
    assert [(r.stage, r.outcome) for r in reviews] == [
        ("committee", "approved"),
        ("first", "approved"),
        ("second", "approved"),
        ("final", "approved"),
        ("party_branch", "approved"),
    ]
    assert (drafted.stage, corrected.stage) == ("", "")
    assert (raised.objector, raised.form, raised.text) == ("刘*华", "oral", "太晚")
    assert (raised.actor_role, raised.disclosure_version) == ("resident", 3)
    assert (dismissed.actor_role, dismissed.text) == ("disciplinary_auditor", "公示时间符合规定")
    assert (verified.actor, verified.text) == ("赵志刚", "经核实,少计一户")
    assert corrected.text == "原公示漏计一户,现予更正。"
    third_version_seq = history(read_db, "tianhai", story.disclosure)[2].seq
    assert (corrected.disclosure_version, corrected.new_version, corrected.corrects_seq) == (
        3,
        4,
        third_version_seq,
    )


def test_history_as_of_an_entry(read_db: ReadDB, story: Story) -> None:
    published = seq_of(story, "gongkai/disclosure/published")
    assert [v.version for v in history(read_db, "tianhai", story.disclosure, published)] == [
        1,
        2,
        3,
    ]
    assert history(read_db, "tianhai", story.disclosure, as_of=0) == []
    assert objections(read_db, "tianhai", story.disclosure, as_of=published) == []
    verified = seq_of(story, "gongkai/correction/objection-verified")
    assert len(objections(read_db, "tianhai", story.disclosure, as_of=verified)) == 4


def test_a_disclosure_never_drafted_has_no_history(read_db: ReadDB, story: Story) -> None:
    assert history(read_db, "tianhai", uuid.uuid4()) == []
    assert objections(read_db, "tianhai", uuid.uuid4()) == []
    assert history(read_db, "xinhe", story.disclosure) == [], "another community's"
    with pytest.raises(InvalidInputError, match="disclosure_id is not a UUID"):
        history(read_db, "tianhai", "not-an-id")


def test_rows_of_other_topics_are_ignored(read_db: ReadDB) -> None:
    topics = [
        "gongkai/disclosure/submitted-for-review",
        "gongkai/disclosure/reviewed",
        "gongkai/disclosure/published",
        "gongkai/finance/entry-recorded",
        "gongkai/finance/chart-adopted",
        "other/app/drafted",
        "gongkai/disclosure",  # no kind at all
    ]
    rows = made_up_rows([(OIDS[0], topic, seq) for seq, topic in enumerate(topics, 1)])
    last = len(rows) + 1
    rows.append((last, b"", b"", OIDS[0].bytes, last, b"gongkai/disclosure/drafted", b"{"))
    assert catch_up(read_db, HistoryProjection(), "tianhai", rows) == len(rows)
    # Only the last row was a draft; its unreadable state reads as empty content.
    versions = history(read_db, "tianhai", OIDS[0])
    assert [(v.version, v.seq, v.title, v.recorded_at) for v in versions] == [
        (1, len(rows), "", "")
    ]
    assert table_rows(read_db, "history_objections", "tianhai") == []


def test_events_of_unknown_subjects_do_not_crash(read_db: ReadDB) -> None:
    rows = made_up_rows(
        [
            (OIDS[0], "gongkai/disclosure/draft-revised", 1),
            (OIDS[0], "gongkai/disclosure/corrected", 2),
            (OIDS[1], "gongkai/correction/objection-verified", 3),
            (OIDS[1], "gongkai/correction/objection-dismissed", 4),
        ]
    )
    assert catch_up(read_db, HistoryProjection(), "tianhai", rows) == 4
    for table in TABLES:
        assert table_rows(read_db, table, "tianhai") == []


def test_an_objection_names_a_disclosure_this_ledger_may_not_know(read_db: ReadDB) -> None:
    """The link is recorded as the event states it; the verifier, not this read model,
    judges whether it points anywhere."""
    unknown = uuid.uuid4()
    row = made_up_row(1, OIDS[1], "gongkai/correction/objection-raised", 0)
    state = {**json.loads(row[6]), "disclosure_id": uuid_value(unknown)}
    raised = (*row[:6], json.dumps(state).encode())
    verified = made_up_row(2, OIDS[1], "gongkai/correction/objection-verified", 0, version=2)
    assert catch_up(read_db, HistoryProjection(), "tianhai", [raised, verified]) == 2
    acts = objections(read_db, "tianhai", unknown)
    assert [(a.act, a.disclosure_id) for a in acts] == [
        ("objection-raised", unknown),
        ("objection-verified", unknown),
    ]
    assert history(read_db, "tianhai", unknown) == []


def test_two_communities_stay_apart(read_db: ReadDB) -> None:
    draft = made_up_row(1, OIDS[0], "gongkai/disclosure/drafted", 1)
    revised = made_up_row(2, OIDS[0], "gongkai/disclosure/draft-revised", 2, version=2)
    catch_up(read_db, HistoryProjection(), "tianhai", [draft, revised])
    catch_up(read_db, HistoryProjection(), "xinhe", [draft])
    assert [v.version for v in history(read_db, "tianhai", OIDS[0])] == [1, 2]
    assert [v.version for v in history(read_db, "xinhe", OIDS[0])] == [1]
    runner = ProjectionRunner(read_db, [HistoryProjection()], Source([]))
    runner.rebuild("xinhe")
    assert history(read_db, "xinhe", OIDS[0]) == []
    assert [v.version for v in history(read_db, "tianhai", OIDS[0])] == [1, 2]


# --- incremental, restarted, rebuilt, and as of any entry --------------------------------

_examples = itertools.count()


def snapshot(db: ReadDB, community_id: str, as_of: int | None = None) -> list[Any]:
    """Everything the read model answers about the community's disclosures."""
    return [
        (history(db, community_id, oid, as_of), objections(db, community_id, oid, as_of))
        for oid in OIDS
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    events=made_up_events,
    cuts=st.lists(st.integers(0, 40), max_size=4),
    batch=st.integers(1, 7),
)
def test_incremental_runs_agree_with_a_rebuild_and_with_every_prefix(
    read_db: ReadDB, events: list[tuple[uuid.UUID, str, int]], cuts: list[int], batch: int
) -> None:
    rows = made_up_rows(events)
    # Each example has communities of its own, so that the database is made only once.
    community = f"c{next(_examples)}"
    check_runs_agree(read_db, HistoryProjection(), rows, community, cuts, batch, snapshot)
