"""Projections applied incrementally, in any batches, stopped and resumed, come out as a
rebuild from nothing does, and as the pure fold does, at every point in time."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import StoreError
from ledger.store.base import RawRow
from projections.board import fold_board
from projections.board_projection import BoardProjection, board_as_of
from projections.db import ReadDB, open_read_db
from projections.registry import all_projections
from projections.runner import ProjectionRunner
from tests.projection_rows import record_story, table_rows

OIDS = [uuid.UUID(int=i + 1) for i in range(3)]
KINDS = ["drafted", "draft-revised", "submitted-for-review", "reviewed", "published"]
KINDS += ["corrected", "withdrawn", "archived"]


def make_rows(events: Sequence[tuple[uuid.UUID, str, int]]) -> list[RawRow]:
    """Chain rows of ``events``, each aggregate's versions counted from 1 as the store
    keeps them (unique per aggregate)."""
    versions: dict[uuid.UUID, int] = {}
    rows = []
    for seq, (oid, kind, n) in enumerate(events, 1):
        versions[oid] = versions.get(oid, 0) + 1
        rows.append(make_row(seq, oid, kind, n, versions[oid]))
    return rows


def make_row(seq: int, oid: uuid.UUID, kind: str, n: int, version: int = 1) -> RawRow:
    state = {
        "category": ["finance", "tenders"][n % 2],
        "title": f"标题 {n}",
        "scope": "public",
        "stage": "committee",
        "outcome": ["approved", "rejected"][n % 2],
        "actor": "王芳",
        "actor_role": "committee_member",
        "channel": "board",
        "period_from": "2026-07-01",
        "period_until": "2026-07-08",
    }
    topic = f"gongkai/disclosure/{kind}" if kind != "finance" else "gongkai/finance/entry-recorded"
    data = json.dumps(state, ensure_ascii=False).encode()
    return (seq, b"", b"", oid.bytes, version, topic.encode(), data)


events = st.lists(
    st.tuples(st.sampled_from(OIDS), st.sampled_from([*KINDS, "finance"]), st.integers(0, 9)),
    max_size=40,
)


class Source:
    def __init__(self, rows: Sequence[RawRow]) -> None:
        self.rows = list(rows)

    def __call__(self, community_id: str, after: int, limit: int) -> Sequence[RawRow]:
        return self.rows[after : after + limit]


def table(db_path: Path) -> list[tuple[object, ...]]:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT * FROM board_items ORDER BY 1, 2, 3").fetchall()


@settings(max_examples=60, deadline=None)
@given(events=events, cuts=st.lists(st.integers(1, 40), max_size=4), batch=st.integers(1, 7))
def test_incremental_runs_agree_with_a_rebuild_and_with_the_fold(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[tuple[uuid.UUID, str, int]],
    cuts: list[int],
    batch: int,
) -> None:
    rows = make_rows(events)
    directory = tmp_path_factory.mktemp("proj")
    url = f"sqlite:///{directory}/ledger.sqlite3"
    # The ledger grows in steps; a new runner (a restarted worker) catches up after each.
    for cut in [*sorted(cuts), len(rows)]:
        db = open_read_db(url)
        runner = ProjectionRunner(db, [BoardProjection()], Source(rows[:cut]), batch=batch)
        runner.setup()
        runner.catch_up("tianhai")
        db.close()
    db = open_read_db(url)
    runner = ProjectionRunner(db, [BoardProjection()], Source(rows), batch=batch)
    assert runner.position("board", "tianhai") == len(rows)
    assert board_as_of(db, "tianhai") == fold_board(rows)
    for k in range(len(rows) + 1):
        assert board_as_of(db, "tianhai", k) == fold_board(rows[:k]), k
    path = directory / "ledger.projections.sqlite3"
    incremental = table(path)
    runner.rebuild("tianhai")
    assert table(path) == incremental
    db.close()


def test_a_gap_in_the_ledger_is_refused_not_skipped(tmp_path: Path) -> None:
    rows = [make_row(seq, OIDS[0], "drafted", seq) for seq in (1, 2, 4)]
    db = open_read_db(f"sqlite:///{tmp_path}/ledger.sqlite3")
    runner = ProjectionRunner(db, [BoardProjection()], Source(rows), batch=10)
    runner.setup()
    with pytest.raises(StoreError, match="gave entry 4 where entry 3 belongs"):
        runner.catch_up("tianhai")
    assert runner.position("board", "tianhai") == 0, "the whole batch was rolled back"
    db.close()


def test_communities_are_tracked_apart_and_rebuilt_apart(tmp_path: Path) -> None:
    rows = make_rows([(OIDS[seq % 3], "drafted", seq) for seq in range(1, 6)])
    db = open_read_db(f"sqlite:///{tmp_path}/ledger.sqlite3")
    runner = ProjectionRunner(db, [BoardProjection()], Source(rows), batch=2)
    runner.setup()
    assert runner.catch_up("tianhai") == 5
    assert runner.catch_up("tianhai") == 0, "nothing applied twice"
    assert runner.catch_up("xinhe") == 5
    assert runner.rebuild("xinhe") == 5
    assert board_as_of(db, "tianhai") == board_as_of(db, "xinhe") == fold_board(rows)
    with pytest.raises(ValueError, match="no projection named nope"):
        runner.rebuild("xinhe", ["nope"])
    db.close()


def test_projections_at_different_positions_share_one_pass(tmp_path: Path) -> None:
    """Each projection takes the entries after its own position: one added later, or
    rebuilt alone, catches up while the others apply nothing twice, and every table
    ends as a run of all of them from nothing leaves it."""
    story = record_story(f"sqlite:///{tmp_path}/ledger.sqlite3", "tianhai")
    rows, n = story.rows, len(story.rows)

    def tables(db: ReadDB) -> list[list[tuple[object, ...]]]:
        return [table_rows(db, t, "tianhai") for p in all_projections() for t in p.tables()]

    fresh = open_read_db(f"sqlite:///{tmp_path}/fresh.sqlite3")
    everything = ProjectionRunner(fresh, all_projections(), Source(rows), batch=4)
    everything.setup()
    every = len(all_projections())
    assert everything.catch_up("tianhai") == every * n
    expected = tables(fresh)
    fresh.close()

    db = open_read_db(f"sqlite:///{tmp_path}/ledger.sqlite3")
    first_two = ProjectionRunner(db, all_projections()[:2], Source(rows[: n // 2]), batch=3)
    first_two.setup()
    assert first_two.catch_up("tianhai") == 2 * (n // 2)
    runner = ProjectionRunner(db, all_projections(), Source(rows), batch=3)
    runner.setup()
    # The others apply every entry; the first two only the rest.
    assert runner.catch_up("tianhai") == (every - 2) * n + 2 * (n - n // 2)
    assert tables(db) == expected
    assert runner.rebuild("tianhai", ["history"]) == n
    assert tables(db) == expected
    for projection in all_projections():
        assert runner.position(projection.name, "tianhai") == n
    db.close()


class TitledBoard(BoardProjection):
    """The board with its layout changed (one more index), as a new release might."""

    def ddl(self) -> list[str]:
        return [*super().ddl(), "CREATE INDEX IF NOT EXISTS board_by_title ON board_items (title)"]


def test_a_projection_whose_layout_changed_is_made_anew_and_rebuilt(tmp_path: Path) -> None:
    rows = make_rows([(OIDS[seq % 3], "drafted", seq) for seq in range(1, 6)])
    db = open_read_db(f"sqlite:///{tmp_path}/ledger.sqlite3")
    old = ProjectionRunner(db, [BoardProjection()], Source(rows), batch=2)
    old.setup()
    assert old.catch_up("tianhai") == 5
    old.setup()
    assert old.position("board", "tianhai") == 5, "the same layout keeps its rows"
    new = ProjectionRunner(db, [TitledBoard()], Source(rows), batch=2)
    new.setup()
    assert new.position("board", "tianhai") == 0, "another layout starts from nothing"
    assert board_as_of(db, "tianhai") == []
    assert new.catch_up("tianhai") == 5
    assert board_as_of(db, "tianhai") == fold_board(rows)
    with db.transaction() as tx:  # tables made before layouts were recorded
        tx.execute("DELETE FROM projection_layouts")
    new.setup()
    assert new.position("board", "tianhai") == 0
    db.close()
