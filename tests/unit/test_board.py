"""The board's fold: what is posted, who reviewed it, corrections and withdrawals; and
its HTML, which escapes what clerks typed and leaves drafts off the board."""

from __future__ import annotations

import json
import uuid
from typing import Any

from projections.board import fold_board, render_board_html

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def row(seq: int, oid: uuid.UUID, kind: str, **state: Any) -> tuple[Any, ...]:
    topic = f"gongkai/disclosure/{kind}".encode()
    return (seq, b"", b"", oid.bytes, 1, topic, json.dumps(state).encode())


ROWS = [
    row(
        1,
        A,
        "drafted",
        category="social_assistance",
        title="低保<script>x</script>",
        scope="public",
    ),
    row(2, A, "submitted-for-review"),
    row(
        3, A, "reviewed", stage="committee", outcome="approved", actor="王建国", actor_role="chair"
    ),
    row(4, A, "published", channel="board", period_from="2026-07-01", period_until="2026-07-31"),
    row(5, B, "drafted", category="personnel", title="班子内部 分工", scope="leadership"),
    row(6, C, "drafted", category="tenders", title="工程招标", scope="internal"),
    row(7, C, "published", channel="board", period_from="2026-07-02", period_until="2026-07-09"),
    row(8, C, "corrected", title="工程招标（更正）"),
    row(9, C, "withdrawn", reason="重复"),
    (10, b"", b"", uuid.uuid4().bytes, 1, b"gongkai/finance/entry-recorded", b"{}"),
]


def test_the_fold_follows_each_disclosure() -> None:
    items = {i.disclosure_id: i for i in fold_board(ROWS)}
    assert items[A].status == "published"
    assert items[A].reviews == ("committee 王建国（chair）通过",)
    assert (items[A].period_from, items[A].period_until) == ("2026-07-01", "2026-07-31")
    assert items[B].status == "drafted"
    assert (items[C].status, items[C].corrections, items[C].title) == (
        "withdrawn",
        1,
        "工程招标（更正）",
    )
    assert fold_board(ROWS[:3])[0].status == "approved", "as it stood after entry 3"


def test_the_page_shows_the_posted_items_escaped() -> None:
    page = render_board_html("天海社区", fold_board(ROWS), as_of="2026-07-10")
    assert "<script>x" not in page
    assert "低保&lt;script&gt;x&lt;/script&gt;" in page
    assert "班子内部 分工" not in page, "a draft is not on the board"
    assert "工程招标" not in page, "a withdrawn item is not on the board"
    assert "草稿 1 项" in page
    assert "已撤回 1 项" in page


def test_a_posting_ends_with_its_period_and_a_long_term_one_never() -> None:
    rows = [
        *ROWS[:7],
        row(11, B, "coverage-declared", obligation_id="o", period="", category="personnel",
            scope="leadership"),
        row(12, B, "published", channel="board", period_from="2026-07-01",
            period_until="2026-07-05"),
        row(13, C, "archived"),
    ]  # fmt: skip
    items = {i.disclosure_id: i for i in fold_board(rows)}
    assert items[A].on_board("2026-06-30") == "posted", "put up before its period"
    assert items[A].on_board("2026-07-31") == "posted", "through its last day"
    assert items[A].on_board("2026-08-01") == "expired", "已到期 the day after"
    assert items[B].long_term
    assert items[B].on_board("2036-01-01") == "posted", "长期公开: no end"
    assert items[C].on_board("2026-07-05") == "archived"
    draft = {i.disclosure_id: i for i in fold_board(ROWS[:1])}[A]
    assert draft.on_board("2026-07-05") == ""


def test_a_second_channel_adds_a_posting_and_keeps_the_first() -> None:
    rows = [
        *ROWS[:4],
        row(11, A, "published", channel="screen", period_from="2026-07-10",
            period_until="2026-08-20"),
    ]  # fmt: skip
    [item] = [i for i in fold_board(rows) if i.disclosure_id == A]
    assert (item.channel, item.period_from, item.period_until) == (
        "board", "2026-07-01", "2026-07-31"
    )  # fmt: skip
    assert item.postings == (
        ("board", "2026-07-01", "2026-07-31"),
        ("screen", "2026-07-10", "2026-08-20"),
    )
    assert item.posted_until == "2026-08-20"
    assert item.on_board("2026-08-10") == "posted", "still up on the screen"
    assert item.on_board("2026-08-21") == "expired"


def test_a_redeclared_draft_is_long_term_only_as_its_last_declaration_says() -> None:
    rows = [
        row(1, A, "drafted", category="policies", title="政策", scope="public"),
        row(2, A, "coverage-declared", obligation_id="o", period="", category="policies",
            scope="public"),
        row(3, A, "coverage-declared", obligation_id="p", period="2026-07",
            category="policies", scope="public"),
    ]  # fmt: skip
    assert fold_board(rows[:2])[0].long_term
    assert not fold_board(rows)[0].long_term
