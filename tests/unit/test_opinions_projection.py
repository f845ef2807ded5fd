"""The opinions read model: each opinion with who left it, on which version, whether its
text is public, and its answer once given; as it stood after any entry; rebuilt to the
same rows; on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ledger.application import CommunityLedger, Ledger
from ledger.store import open_store
from ledger.store.base import Community, RawRow
from projections.db import ReadDB, open_read_db
from projections.opinions import OpinionsProjection, counts, opinions
from projections.runner import ProjectionRunner
from tests.contract.test_ledger_contract import approve
from tests.projection_rows import (
    CLERK,
    DRAFT,
    RESIDENT,
    Source,
    catch_up,
    check_runs_agree,
    key,
    table_rows,
)


@dataclass(frozen=True)
class Told:
    rows: list[RawRow]
    first: str  # a disclosure with two opinions, the first answered
    second: str  # a disclosure with one opinion, answered after a correction
    answered: str
    waiting: str
    late: str


@pytest.fixture
def read_db(isolated_store_url: str) -> Iterator[ReadDB]:
    db = open_read_db(isolated_store_url)
    yield db
    db.close()


def post(book: CommunityLedger) -> str:
    d = book.draft_disclosure(CLERK, key(), **DRAFT).result["id"]
    book.submit_for_review(CLERK, key(), d)
    approve(book, d)
    book.publish(
        CLERK, key(), d, channel="board", period_from="2026-07-01", period_until="2026-07-31"
    )
    return str(d)


@pytest.fixture
def told(isolated_store_url: str) -> Told:
    store = open_store(isolated_store_url)
    store.init_schema(service_role=None)
    whole = Ledger(store)
    try:
        book = whole.add_community(Community("tianhai", "天海社区"))
        first, second = post(book), post(book)

        def leave(d: str, text: str, public: bool) -> str:
            done = book.leave_opinion(
                RESIDENT, key(), d, resident="刘华", text=text, text_public=public
            )
            return str(done.result["opinion_id"])

        answered = leave(first, "名单漏了一户", True)
        waiting = leave(first, "我家的情况不便公开", False)
        book.answer_opinion(CLERK, key(), first, answered, answer="已核实，补列。")
        late = leave(second, "金额有误", True)
        book.answer_opinion(CLERK, key(), second, late, answer="已答复")
        rows = list(store.seal("tianhai").chain_rows(0, 10_000))
    finally:
        whole.close()
        store.close()
    return Told(rows, first, second, answered, waiting, late)


def test_each_opinion_and_its_answer(read_db: ReadDB, told: Told) -> None:
    catch_up(read_db, OpinionsProjection(), "tianhai", told.rows)
    found = opinions(read_db, "tianhai", told.first)
    assert [o.opinion_id for o in found] == [told.answered, told.waiting]
    answered, waiting = found
    assert (answered.resident, answered.text, answered.text_public) == (
        "刘华",
        "名单漏了一户",
        True,
    )
    assert (answered.actor, answered.actor_role, answered.version) == (
        RESIDENT.name,
        "resident",
        1,
    )
    assert answered.answer is not None
    assert (answered.answer.text, answered.answer.actor) == ("已核实，补列。", CLERK.name)
    assert answered.answer.seq > answered.seq
    assert (waiting.text_public, waiting.answer) == (False, None)
    assert [o.opinion_id for o in opinions(read_db, "tianhai")] == [
        told.answered,
        told.waiting,
        told.late,
    ]
    assert counts(read_db, "tianhai") == {told.first: (2, 1), told.second: (1, 1)}
    assert opinions(read_db, "elsewhere") == []


def test_as_of_shows_the_opinions_as_they_stood(read_db: ReadDB, told: Told) -> None:
    catch_up(read_db, OpinionsProjection(), "tianhai", told.rows)
    last = told.rows[-1][0]
    before_answer = opinions(read_db, "tianhai", told.second, as_of=last - 1)
    assert [(o.opinion_id, o.answer) for o in before_answer] == [(told.late, None)]
    before_left = opinions(read_db, "tianhai", told.second, as_of=last - 2)
    assert before_left == []
    assert counts(read_db, "tianhai", as_of=last - 1)[told.second] == (1, 0)


@pytest.mark.parametrize("batch", [1, 3, 500])
def test_runs_in_steps_agree_and_a_rebuild_keeps_the_rows(
    read_db: ReadDB, told: Told, batch: int
) -> None:
    def snapshot(db: ReadDB, community: str, as_of: int | None = None) -> object:
        return opinions(db, community, as_of=as_of)

    n = len(told.rows)
    check_runs_agree(
        read_db, OpinionsProjection(), told.rows, "tianhai", [n - 5, n - 2, n - 1], batch, snapshot
    )


def test_entries_it_cannot_read_do_not_stop_it(read_db: ReadDB, told: Told) -> None:
    """A row of an opinion topic with a state that is not what the ledger writes is
    kept as empty fields rather than stopping the read model (the verifier judges it)."""
    seq = told.rows[-1][0] + 1
    odd = [
        (seq, b"", b"", uuid.uuid4().bytes, 1, b"gongkai/disclosure/opinion-left", b"[]"),
        (
            seq + 1,
            b"",
            b"",
            uuid.uuid4().bytes,
            1,
            b"gongkai/disclosure/opinion-left",
            json.dumps({"text_public": "yes", "disclosure_version": "1"}).encode(),
        ),
    ]
    runner = ProjectionRunner(read_db, [OpinionsProjection()], Source([*told.rows, *odd]), 50)
    runner.setup()
    assert runner.catch_up("tianhai") == seq + 1
    rows = table_rows(read_db, "opinion_acts", "tianhai")
    assert len(rows) == 7  # three opinions, two answers, the two odd rows
    odd_rows = [r for r in rows if r[1] >= seq]
    assert all(r[-1] == 0 for r in odd_rows)  # "yes" is not true: the text stays private
