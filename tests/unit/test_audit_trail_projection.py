"""The audit trail keeps every review and approval act, one row each, answers what was
done to a subject and what a person or role did, and stands as it stood after any entry
— on SQLite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInputError
from projections.audit_trail import AuditAct, AuditTrailProjection, acts_by, acts_for
from projections.db import ReadDB, open_read_db
from projections.runner import ProjectionRunner
from tests.projection_rows import (
    OIDS,
    Source,
    Story,
    catch_up,
    check_runs_agree,
    made_up_events,
    made_up_row,
    made_up_rows,
    record_story,
    table_rows,
)

#: What a review and approval act is: every event of the story but the drafting.
NOT_ACTS = {
    "gongkai/finance/chart-adopted",
    "gongkai/disclosure/drafted",
    "gongkai/disclosure/draft-revised",
}


@pytest.fixture
def read_db(isolated_store_url: str) -> Iterator[ReadDB]:
    db = open_read_db(isolated_store_url)
    yield db
    db.close()


@pytest.fixture
def story(isolated_store_url: str, read_db: ReadDB) -> Story:
    told = record_story(isolated_store_url, "tianhai")
    catch_up(read_db, AuditTrailProjection(), "tianhai", told.rows)
    return told


def test_every_act_is_one_row_with_its_entry_and_time(read_db: ReadDB, story: Story) -> None:
    trail = acts_by(read_db, "tianhai")
    expected = [r for r in story.rows if r[5].decode() not in NOT_ACTS]
    assert [a.seq for a in trail] == [r[0] for r in expected]
    assert [a.act for a in trail] == [r[5].decode().rpartition("/")[2] for r in expected]
    assert [a.recorded_at for a in trail] == [
        json.loads(r[6])["timestamp"]["_data_"] for r in expected
    ]
    assert {a.community_id for a in trail} == {"tianhai"}


def test_a_disclosures_acts_with_stage_outcome_and_opinion(read_db: ReadDB, story: Story) -> None:
    acts = acts_for(read_db, "tianhai", story.disclosure)
    assert all(a.subject_kind == "disclosure" for a in acts)
    summary = [(a.act, a.stage, a.outcome, a.actor, a.actor_role, a.opinion) for a in acts]
    assert summary == [
        ("submitted-for-review", "", "", "李娜", "clerk", ""),
        ("reviewed", "committee", "rejected", "王建国", "committee_chair", "缺少名单"),
        ("submitted-for-review", "", "", "李娜", "clerk", ""),
        ("reviewed", "committee", "approved", "王建国", "committee_chair", "同意"),
        ("reviewed", "party_branch", "approved", "赵志刚", "party_reviewer", ""),
        ("reviewed", "first", "approved", "李娜", "clerk", "无涉密"),
        ("reviewed", "second", "approved", "王建国", "committee_chair", "同意"),
        ("reviewed", "final", "approved", "赵志刚", "party_reviewer", "同意公开"),
        ("published", "", "", "李娜", "clerk", ""),
        ("corrected", "", "", "李娜", "clerk", ""),
        ("withdrawn", "", "", "李娜", "clerk", "公示期满"),
        ("archived", "", "", "李娜", "clerk", ""),
    ]
    corrected = next(a for a in acts if a.act == "corrected")
    assert corrected.related_id == uuid.UUID(story.objection)


def test_objections_are_linked_to_their_disclosure(read_db: ReadDB, story: Story) -> None:
    dismissed = acts_for(read_db, "tianhai", story.dismissed)
    assert [(a.act, a.actor_role, a.opinion) for a in dismissed] == [
        ("objection-raised", "resident", "太晚"),
        ("objection-dismissed", "disciplinary_auditor", "公示时间符合规定"),
    ]
    verified = acts_for(read_db, "tianhai", story.objection)
    assert [(a.act, a.opinion) for a in verified] == [
        ("objection-raised", "漏计一户"),
        ("objection-verified", "经核实,少计一户"),
        ("correction-drafted", "原公示漏计一户,现予更正。"),
        *[("correction-reviewed", "同意")] * 5,
        ("correction-published", "原公示漏计一户,现予更正。"),
    ]
    # Verification and dismissal do not name the disclosure; the trail still links them.
    assert {a.related_id for a in [*dismissed, *verified]} == {uuid.UUID(story.disclosure)}
    assert {a.subject_kind for a in [*dismissed, *verified]} == {"objection"}
    whole = acts_for(read_db, "tianhai", story.disclosure, with_related=True)
    assert len(whole) == 12 + 11
    assert [a.seq for a in whole] == sorted(a.seq for a in whole)


def test_a_reversal_is_on_both_entries_trails(read_db: ReadDB, story: Story) -> None:
    entry = acts_for(read_db, "tianhai", story.entry)
    assert [(a.act, a.opinion, a.related_id) for a in entry] == [
        ("entry-recorded", "", None),
        ("entry-reversed", "重复记账", uuid.UUID(story.reversal)),
    ]
    reversal = acts_for(read_db, "tianhai", story.reversal)
    assert [(a.act, a.opinion, a.related_id) for a in reversal] == [
        ("entry-recorded", "重复记账", uuid.UUID(story.entry))
    ]
    assert {a.subject_kind for a in [*entry, *reversal]} == {"finance_entry"}
    related = acts_for(read_db, "tianhai", story.entry, with_related=True)
    assert len(related) == 3


def test_acts_by_a_person_and_by_a_role(read_db: ReadDB, story: Story) -> None:
    party = acts_by(read_db, "tianhai", "赵志刚")
    assert [(a.act, a.stage) for a in party] == [
        ("reviewed", "party_branch"),
        ("reviewed", "final"),
        ("objection-verified", ""),
        ("correction-reviewed", "final"),  # the correction goes through 终审 again
        ("correction-reviewed", "party_branch"),  # and 审查
    ]
    assert acts_by(read_db, "tianhai", role="party_reviewer") == party
    chair = acts_by(read_db, "tianhai", role="committee_chair")
    assert [a.outcome for a in chair] == ["rejected", *["approved"] * 4]
    # The clerk does the first confidentiality stage as well as the clerical acts.
    assert [a.stage for a in acts_by(read_db, "tianhai", "李娜", role="clerk") if a.stage] == [
        "first",
        "first",
    ]
    assert acts_by(read_db, "tianhai", "李娜", role="resident") == []
    assert acts_by(read_db, "tianhai", "无名氏") == []


def test_the_trail_as_of_an_entry(read_db: ReadDB, story: Story) -> None:
    published = next(r[0] for r in story.rows if r[5] == b"gongkai/disclosure/published")
    before = acts_for(read_db, "tianhai", story.disclosure, as_of=published)
    assert before[-1].act == "published"
    assert len(before) == 9
    assert acts_by(read_db, "tianhai", "刘*华", as_of=published) == []
    assert len(acts_by(read_db, "tianhai", "刘*华")) == 2
    assert acts_by(read_db, "tianhai", as_of=0) == []


def test_unknown_subjects_and_other_communities_have_no_acts(
    read_db: ReadDB, story: Story
) -> None:
    assert acts_for(read_db, "tianhai", uuid.uuid4()) == []
    assert acts_for(read_db, "xinhe", story.disclosure) == []
    assert acts_by(read_db, "xinhe") == []
    with pytest.raises(InvalidInputError, match="subject_id is not a UUID"):
        acts_for(read_db, "tianhai", "not-an-id")


def test_rows_of_other_topics_are_ignored(read_db: ReadDB) -> None:
    topics = [
        "gongkai/disclosure/drafted",
        "gongkai/disclosure/draft-revised",
        "gongkai/finance/chart-adopted",
        "gongkai/finance/account-added",
        "other/app/reviewed",
        "gongkai/reviewed",
    ]
    rows = made_up_rows([(OIDS[0], topic, seq) for seq, topic in enumerate(topics, 1)])
    assert catch_up(read_db, AuditTrailProjection(), "tianhai", rows) == len(rows)
    assert table_rows(read_db, "audit_acts", "tianhai") == []


def test_acts_on_unknown_subjects_are_kept_without_a_crash(read_db: ReadDB) -> None:
    """An act is on the record whether or not this read model saw its subject begin: a
    review of a disclosure never drafted, the verification of an objection never raised
    (which then links to no disclosure), an event whose state is unreadable."""
    rows = [
        made_up_row(1, OIDS[0], "gongkai/disclosure/reviewed", 1),
        made_up_row(2, OIDS[1], "gongkai/correction/objection-verified", 2),
        (3, b"", b"", b"short", 1, b"gongkai/disclosure/withdrawn", b"\xff not json"),
    ]
    assert catch_up(read_db, AuditTrailProjection(), "tianhai", rows) == 3
    reviewed, verified, withdrawn = acts_by(read_db, "tianhai")
    assert (reviewed.subject_id, reviewed.outcome, reviewed.opinion) == (
        OIDS[0],
        "rejected",
        "意见 1",
    )
    assert (verified.subject_id, verified.related_id) == (OIDS[1], None)
    assert (withdrawn.subject_id, withdrawn.actor, withdrawn.opinion) == (uuid.UUID(int=0), "", "")


def test_two_communities_stay_apart(read_db: ReadDB) -> None:
    rows = made_up_rows([(OIDS[0], "gongkai/disclosure/reviewed", seq) for seq in (1, 2)])
    catch_up(read_db, AuditTrailProjection(), "tianhai", rows)
    catch_up(read_db, AuditTrailProjection(), "xinhe", rows[:1])
    assert len(acts_for(read_db, "tianhai", OIDS[0])) == 2
    assert len(acts_for(read_db, "xinhe", OIDS[0])) == 1
    ProjectionRunner(read_db, [AuditTrailProjection()], Source([])).rebuild("xinhe")
    assert acts_by(read_db, "xinhe") == []
    assert len(acts_by(read_db, "tianhai")) == 2


# --- incremental, restarted, rebuilt, and as of any entry --------------------------------

_examples = itertools.count()


def snapshot(db: ReadDB, community_id: str, as_of: int | None = None) -> list[Any]:
    """Everything the read model answers about the community, without its name."""

    def anonymous(acts: list[AuditAct]) -> list[AuditAct]:
        return [dataclasses.replace(a, community_id="") for a in acts]

    answers = [anonymous(acts_by(db, community_id, as_of=as_of))]
    for oid in OIDS:
        answers.append(anonymous(acts_for(db, community_id, oid, as_of, with_related=True)))
    for role in ("clerk", "committee_chair"):
        answers.append(anonymous(acts_by(db, community_id, role=role, as_of=as_of)))
    return answers


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
    check_runs_agree(read_db, AuditTrailProjection(), rows, community, cuts, batch, snapshot)
