"""The board (公开栏) as it stands after a run of chain entries: what is posted, since
and until when, who reviewed it, and whether it was corrected or withdrawn.

This is the pure fold that every board view is built on: it reads stored events (the
chain's raw rows) and needs no database, so an archive bundle can carry the board as it
stood at the end of its range, and anyone can recompute it from the bundle's events.
"""

from __future__ import annotations

import html
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from ledger.domain.vocabulary import CATEGORY_BY_CODE, SECTION_NAMES
from ledger.store.base import RawRow

_PREFIX = "gongkai/disclosure/"
STATUS_NAMES = {
    "drafted": "草稿",
    "submitted": "待审核",
    "rejected": "审核未通过",
    "approved": "已审核",
    "published": "公开中",
    "withdrawn": "已撤回",
    "archived": "已归档",
}


@dataclass(slots=True)
class BoardItem:
    """One disclosure's current state."""

    disclosure_id: UUID
    category: str
    title: str
    scope: str
    status: str = "drafted"
    period_from: str = ""
    period_until: str = ""
    channel: str = ""
    reviews: tuple[str, ...] = ()
    corrections: int = 0
    last_seq: int = 0
    #: Every posting, (channel, from, until), in order: a second channel adds one and
    #: leaves the first as it was (``channel`` and the period are the first's).
    postings: tuple[tuple[str, str, str], ...] = ()
    #: It fulfils a long-term obligation of the calendar (长期公开): its posting has no end.
    long_term: bool = False

    @property
    def posted_until(self) -> str:
        """The last day any of its postings is up ("" if never posted)."""
        return max((until for _, _, until in self.postings), default=self.period_until)

    def on_board(self, day: str) -> str:
        """Where the board shows it on China date ``day`` (YYYY-MM-DD): "posted" while a
        posting is up, "expired" (已到期, under 往期公开, still public) once the last has
        ended, "archived" (已归档, there too), or "" (not shown: a draft, withdrawn)."""
        if self.status == "archived":
            return "archived"
        if self.status != "published":
            return ""
        if self.long_term or not self.posted_until or day <= self.posted_until:
            return "posted"
        return "expired"


#: What a board review line ends with when the reviewer sealed it.
SEALED: Final = "，监审印章"


def _state(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def fold_board(rows: Iterable[RawRow]) -> list[BoardItem]:
    """Every disclosure's state after ``rows`` (in ``seq`` order), ordered by category
    and title."""
    board = BoardFold()
    for row in rows:
        board.apply(row)
    return board.items()


class BoardFold:
    """The board fold one row at a time, for readers that find the rows to fold as they
    go (an export folds while it looks for the end of its range)."""

    def __init__(self) -> None:
        self._items: dict[UUID, BoardItem] = {}

    def items(self) -> list[BoardItem]:
        """Every disclosure's state so far, ordered by category and title."""
        return sorted(
            self._items.values(), key=lambda i: (i.category, i.title, str(i.disclosure_id))
        )

    def apply(self, row: RawRow) -> None:
        """Fold the next row (rows come in ``seq`` order)."""
        event = disclosure_event(row)
        if event is not None:
            key, kind, state = event
            item = next_item(self._items.get(key), row[0], key, kind, state)
            if item is not None:
                self._items[key] = item


def disclosure_event(row: RawRow) -> tuple[UUID, str, dict[str, Any]] | None:
    """A disclosure event's (disclosure, kind, state); None for any other row."""
    _seq, _prev, _hash, oid, _version, topic_bytes, state_bytes = row
    topic = topic_bytes.decode("utf-8", errors="replace")
    if not topic.startswith(_PREFIX):
        return None
    key = UUID(bytes=oid) if len(oid) == 16 else UUID(int=0)
    return key, topic.removeprefix(_PREFIX), _state(state_bytes)


def _shared(value: Any) -> Any:
    return sys.intern(value) if isinstance(value, str) else value


def next_item(
    item: BoardItem | None, seq: int, key: UUID, kind: str, state: dict[str, Any]
) -> BoardItem | None:
    """A disclosure's board state after one of its events (entry ``seq``): ``item``
    changed in place, a new one for a draft, or None (an event of no drafted item)."""
    if kind == "drafted":
        # A long record holds many items: their few distinct codes are shared, not copied.
        item = BoardItem(
            key,
            _shared(state.get("category", "")),
            state.get("title", ""),
            _shared(state.get("scope", "")),
        )
    if item is None:
        return None
    item.last_seq = seq
    if kind == "draft-revised":
        item.category = state.get("category", item.category)
        item.title = state.get("title", item.title)
        item.scope = state.get("scope", item.scope)
    elif kind == "submitted-for-review":
        item.status = "submitted"
    elif kind == "reviewed":
        outcome = state.get("outcome", "")
        who = f"{state.get('actor', '')}（{state.get('actor_role', '')}）"
        verdict = "通过" if outcome == "approved" else "不通过"
        # A review the member sealed (ledger.seal.review_seal) says so.
        sealed = SEALED if state.get("seal_key") else ""
        item.reviews = (*item.reviews, f"{state.get('stage', '')} {who}{verdict}{sealed}")
        item.status = "approved" if outcome == "approved" else "rejected"
    elif kind == "published":
        posting = (
            state.get("channel", ""),
            state.get("period_from", ""),
            state.get("period_until", ""),
        )
        if not item.postings:
            item.channel, item.period_from, item.period_until = posting
        item.postings = (*item.postings, posting)
        item.status = "published"
    elif kind == "coverage-declared":
        # A long-term obligation's period is empty (ledger.domain.obligation.check_period);
        # a draft may declare again, and its last declaration stands.
        item.long_term = state.get("period") == ""
    elif kind == "corrected":
        item.corrections += 1
        item.title = state.get("title", item.title)
    elif kind == "withdrawn":
        item.status = "withdrawn"
    elif kind == "archived":
        item.status = "archived"
    return item


def render_board_html(community_name: str, items: Iterable[BoardItem], *, as_of: str) -> str:
    """A self-contained HTML page of the board: the items posted at ``as_of`` (every
    scope, labelled: it is for auditors, who may read them all), and how many others
    were in each state (drafts, withdrawn, archived are on the record, not the board)."""
    rows = []
    others: dict[str, int] = {}
    for item in items:
        if item.status != "published":
            others[item.status] = others.get(item.status, 0) + 1
            continue
        category = CATEGORY_BY_CODE.get(item.category)
        section = SECTION_NAMES.get(category.section, "") if category else ""
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    section,
                    category.name if category else item.category,
                    item.title,
                    item.scope,
                    STATUS_NAMES.get(item.status, item.status),
                    f"{item.period_from} – {item.period_until}" if item.period_from else "",
                    "；".join(item.reviews),
                    f"更正 {item.corrections} 次" if item.corrections else "",
                    item.last_seq,
                )
            )
            + "</tr>"
        )
    title = html.escape(f"{community_name} 居务公开栏（截至 {as_of}）")
    summary = "未上栏：" + (
        "，".join(f"{STATUS_NAMES.get(k, k)} {n} 项" for k, n in sorted(others.items())) or "无"
    )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("栏目", "类别", "标题", "公开范围", "状态", "公开期", "审核", "更正", "最后条目")
    )
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p>{html.escape(summary)}</p></body></html>\n"
    )
