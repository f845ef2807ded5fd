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
from collections.abc import Sequence
from typing import Any, ClassVar, Final
from uuid import UUID

from projections.board import BoardItem, next_item
from projections.db import ReadDB, Tx
from projections.ledger_event import LedgerEvent
from projections.runner import Projection

_COLUMNS: Final = (
    "disclosure_id, category, title, scope, status, period_from, period_until, channel, "
    "reviews, corrections, last_seq, postings, long_term"
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
            "last_seq BIGINT NOT NULL, postings TEXT NOT NULL, long_term BIGINT NOT NULL, "
            "PRIMARY KEY (community, disclosure_id, valid_from))",
            "CREATE INDEX IF NOT EXISTS board_items_open ON board_items "
            "(community, disclosure_id, valid_to)",
        ]

    def tables(self) -> list[str]:
        return ["board_items"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        # A disclosure's open row is read from the database at most once a batch: later
        # events of it in the batch change the item held here. Rows are written at the
        # end, closes before opens, so a row opened and closed in the batch is written
        # once with both ends.
        current: dict[str, tuple[int, BoardItem] | None] = {}
        closes: list[tuple[int, str, str]] = []
        opens: dict[tuple[str, int], list[Any]] = {}
        for event in events:
            if event.area != "disclosure":
                continue
            key = event.aggregate_id
            if key in current:
                held = current[key]
            elif event.version == 1:
                held = None  # its first event: the store keeps versions unique
            else:
                held = _open_row(tx, community_id, key)
            # The item changes in place: its row's values were taken when it was opened.
            item = next_item(
                held[1] if held else None, event.seq, event.key, event.kind, event.state
            )
            if item is None:
                continue
            if held is not None:
                since, _ = held
                if (key, since) in opens:
                    opens[key, since][2] = event.seq  # opened in this batch: closed in it
                else:
                    closes.append((event.seq, community_id, key))
            opens[key, event.seq] = [community_id, event.seq, None, *_values(item)]
            current[key] = (event.seq, item)
        if closes:
            tx.executemany(
                "UPDATE board_items SET valid_to = ? "
                "WHERE community = ? AND disclosure_id = ? AND valid_to IS NULL",
                closes,
            )
        if opens:
            tx.executemany(
                f"INSERT INTO board_items (community, valid_from, valid_to, {_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                opens.values(),
            )


def _open_row(tx: Tx, community_id: str, key: str) -> tuple[int, BoardItem] | None:
    """The disclosure's open row: since when, and its item."""
    rows = tx.query(
        f"SELECT valid_from, {_COLUMNS} FROM board_items "
        "WHERE community = ? AND disclosure_id = ? AND valid_to IS NULL",
        (community_id, key),
    )
    return (int(rows[0][0]), _item(rows[0][1:])) if rows else None


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
        json.dumps(list(item.reviews), ensure_ascii=False) if item.reviews else "[]",
        item.corrections,
        item.last_seq,
        json.dumps([list(p) for p in item.postings], ensure_ascii=False),
        1 if item.long_term else 0,
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
        postings=tuple((c, f, u) for c, f, u in json.loads(row[11])),
        long_term=bool(row[12]),
    )


def board_rows(
    db: ReadDB, community_id: str, seq: int | None, columns: str
) -> Sequence[tuple[Any, ...]]:
    """``columns`` of each disclosure's board row as it stood after entry ``seq`` (now,
    when None), in no order."""
    params: list[Any] = [community_id]
    if seq is None:
        where = "valid_to IS NULL"
    else:
        where = "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)"
        params += [seq, seq]
    with db.reading() as tx:
        return tx.query(
            f"SELECT {columns} FROM board_items WHERE community = ? AND {where}", params
        )


def board_as_of(db: ReadDB, community_id: str, seq: int | None = None) -> list[BoardItem]:
    """Every disclosure's board state after entry ``seq`` (now, when None), ordered as
    :func:`projections.board.fold_board` orders them."""
    items = [_item(row) for row in board_rows(db, community_id, seq, _COLUMNS)]
    return sorted(items, key=lambda i: (i.category, i.title, str(i.disclosure_id)))
