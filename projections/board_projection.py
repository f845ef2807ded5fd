"""The board as a read model: every disclosure's state, kept for every moment.

Each change of a disclosure's board state closes its current row (``valid_to`` = the
entry's ``seq``) and opens a new one (``valid_from`` = that ``seq``), so the board as it
stood after any entry is one query (:func:`board_as_of`), and the current board is the
rows still open. The state itself is worked out by :func:`projections.board.next_item`,
the same step the bundle's board fold takes, so the two agree by construction (and a
test checks it).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Final
from uuid import UUID

from ledger.store.base import RawRow
from projections.board import BoardItem, disclosure_event, next_item
from projections.db import ReadDB, Tx
from projections.runner import Projection

_COLUMNS: Final = (
    "disclosure_id, category, title, scope, status, period_from, period_until, channel, "
    "reviews, corrections, last_seq"
)


class BoardProjection(Projection):
    name: ClassVar[str] = "board"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS board_items (community TEXT NOT NULL, "
            "disclosure_id TEXT NOT NULL, valid_from BIGINT NOT NULL, valid_to BIGINT, "
            "category TEXT NOT NULL, title TEXT NOT NULL, scope TEXT NOT NULL, "
            "status TEXT NOT NULL, period_from TEXT NOT NULL, period_until TEXT NOT NULL, "
            "channel TEXT NOT NULL, reviews TEXT NOT NULL, corrections BIGINT NOT NULL, "
            "last_seq BIGINT NOT NULL, PRIMARY KEY (community, disclosure_id, valid_from))",
            "CREATE INDEX IF NOT EXISTS board_items_open ON board_items "
            "(community, disclosure_id, valid_to)",
        ]

    def tables(self) -> list[str]:
        return ["board_items"]

    def apply(self, tx: Tx, community_id: str, row: RawRow) -> None:
        event = disclosure_event(row)
        if event is None:
            return
        key, kind, state = event
        seq = row[0]
        open_rows = tx.query(
            f"SELECT {_COLUMNS} FROM board_items "
            "WHERE community = ? AND disclosure_id = ? AND valid_to IS NULL",
            (community_id, str(key)),
        )
        current = _item(open_rows[0]) if open_rows else None
        item = next_item(current, seq, key, kind, state)
        if item is None:
            return
        if open_rows:
            tx.execute(
                "UPDATE board_items SET valid_to = ? "
                "WHERE community = ? AND disclosure_id = ? AND valid_to IS NULL",
                (seq, community_id, str(key)),
            )
        tx.execute(
            f"INSERT INTO board_items (community, valid_from, valid_to, {_COLUMNS}) "
            "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (community_id, seq, *_values(item)),
        )


def _values(item: BoardItem) -> tuple[Any, ...]:
    return (
        str(item.disclosure_id),
        item.category,
        item.title,
        item.scope,
        item.status,
        item.period_from,
        item.period_until,
        item.channel,
        json.dumps(list(item.reviews), ensure_ascii=False),
        item.corrections,
        item.last_seq,
    )


def _item(row: tuple[Any, ...]) -> BoardItem:
    (oid, category, title, scope, status, period_from, period_until, channel, reviews) = row[:9]
    return BoardItem(
        disclosure_id=UUID(oid),
        category=category,
        title=title,
        scope=scope,
        status=status,
        period_from=period_from,
        period_until=period_until,
        channel=channel,
        reviews=tuple(json.loads(reviews)),
        corrections=int(row[9]),
        last_seq=int(row[10]),
    )


def board_as_of(db: ReadDB, community_id: str, seq: int | None = None) -> list[BoardItem]:
    """Every disclosure's board state after entry ``seq`` (now, when None), ordered as
    :func:`projections.board.fold_board` orders them."""
    params: list[Any] = [community_id]
    if seq is None:
        where = "valid_to IS NULL"
    else:
        where = "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)"
        params += [seq, seq]
    with db.reading() as tx:
        rows = tx.query(
            f"SELECT {_COLUMNS} FROM board_items WHERE community = ? AND {where}", params
        )
    items = [_item(row) for row in rows]
    return sorted(items, key=lambda i: (i.category, i.title, str(i.disclosure_id)))
