"""The 十个防止 report: the ten failures of disclosure the supervisors look for [000:
防止公开内容不具体、不真实、重点不突出、形式不规范、制度不完善、档案不健全、公开"重事后，
轻事前"、"重公开、轻反馈"、公开不及时、公开不持久], each with the items of the record
behind it.

Seven of them the record can show, and each is computed from the read models as they
stood after entry ``as_of``, judged on the China date ``today``:

* 不真实 only from objections the reviewers verified (异议属实): the record cannot know
  whether content is true, only that a verifier found it was not;
* 制度不完善: the catalogue's categories (公开目录) with no obligation in force, and
  obligations adopted but never approved;
* 档案不健全: items whose posting period is over that were never archived (归档);
* 重事后轻事前: matters owed before the fact (事前公开) posted only after, or never;
* 重公开轻反馈: items posted with no day left for residents to respond (the posting period
  ends on the day it began, or the item came down that day), and opinions (意见) still
  unanswered after the item's posting period;
* 不及时: periods and matters posted after their due date, or not at all by then;
* 不持久: long-term items (长期公开) taken down.

The other three (不具体, 重点不突出, 形式不规范) are judgements about what an item says and
how it is laid out; the report says they cannot be computed and lists nothing, rather
than guess.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from ledger.domain.obligation import Cadence
from ledger.domain.vocabulary import CATEGORIES, Scope
from projections.board_projection import board_rows
from projections.calendar import Posting, calendar, postings
from projections.compliance import LATE, MISSING, WITHDRAWN_EARLY, china_day, obligations_owed
from projections.db import ReadDB
from projections.history import community_objections
from projections.opinions import opinions


@dataclass(frozen=True, slots=True)
class Finding:
    """One item of the record behind a failure: a disclosure, an obligation's period, or
    a category of the catalogue."""

    scope: str  # who may see it: the disclosure's or the obligation's scope
    detail: str  # what the record shows, in the supervisors' words
    disclosure_id: str = ""
    obligation_id: str = ""
    period: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Prevention:
    key: str
    name: str  # as the seed names it
    computable: bool
    basis: str  # what is counted, or why it cannot be
    findings: tuple[Finding, ...] = ()


#: The ten, in the seed's order, each with its name there.
_TEN: Final[tuple[tuple[str, str], ...]] = (
    ("not_specific", "公开内容不具体"),
    ("not_true", "公开内容不真实"),
    ("key_points", "重点不突出"),
    ("form", "形式不规范"),
    ("rules_incomplete", "制度不完善"),
    ("archive_incomplete", "档案不健全"),
    ("after_the_fact", "重事后，轻事前"),
    ("no_feedback", "重公开，轻反馈"),
    ("not_timely", "公开不及时"),
    ("not_kept_up", "公开不持久"),
)
NOT_COMPUTABLE: Final[dict[str, str]] = {
    "not_specific": "无法从记录计算：内容是否具体须由监督委员会审阅判断。",
    "key_points": "无法从记录计算：重点是否突出须由监督委员会审阅判断。",
    "form": "无法从记录计算：公开栏的版式与形式不在记录中。",
}
BASIS: Final[dict[str, str]] = {
    "not_true": "仅来自经核实属实的异议。",
    "rules_incomplete": "公开目录中没有生效时限的类别，及已拟定未经审核的时限。",
    "archive_incomplete": "公开期已满仍未归档的事项。",
    "after_the_fact": "应事前公开的事项在事后才公开或未公开。",
    "no_feedback": "公开当天即结束或撤下、群众无从反馈的事项，及公开期满仍未答复的意见。",
    "not_timely": "超过公开时限才公开或至今未公开的期间与事项。",
    "not_kept_up": "长期公开的事项被撤下。",
}
NAMES: Final[dict[str, str]] = dict(_TEN)


def ten_preventions(
    db: ReadDB, community_id: str, today: dt.date, as_of: int | None = None
) -> list[Prevention]:
    """The ten, in the seed's order, each with its findings."""
    found = _Findings(db, community_id, today, as_of)
    return [
        Prevention(key, name, False, NOT_COMPUTABLE[key])
        if key in NOT_COMPUTABLE
        else Prevention(key, name, True, BASIS[key], tuple(found.of(key)))
        for key, name in _TEN
    ]


class _Findings:
    """Reads the record once and sorts what it shows under the ten."""

    def __init__(self, db: ReadDB, community_id: str, today: dt.date, as_of: int | None):
        self.today = today
        self.items = _titles(db, community_id, as_of)
        self.posted = postings(db, community_id, as_of)
        self.found: dict[str, list[Finding]] = {key: [] for key, _ in _TEN}
        self._obligations(db, community_id, as_of)
        self._postings()
        self._opinions(db, community_id, as_of)
        self._objections(db, community_id, as_of)

    def of(self, key: str) -> list[Finding]:
        return self.found[key]

    def _item(self, key: str, did: str, detail: str) -> None:
        scope, title = self.items.get(did, (Scope.LEADERSHIP.value, ""))
        self.found[key].append(Finding(scope, detail, disclosure_id=did, title=title))

    def _obligations(self, db: ReadDB, community_id: str, as_of: int | None) -> None:
        views = calendar(db, community_id, as_of)
        covered = {str(v.value("category")) for v in views if v.status == "in_force"}
        for category in CATEGORIES:
            if category.code not in covered:
                self.found["rules_incomplete"].append(
                    Finding(Scope.INTERNAL.value, f"公开目录中没有「{category.name}」的生效时限")
                )
        for view in views:
            if view.status == "adopted":
                self.found["rules_incomplete"].append(
                    Finding(
                        str(view.value("scope") or Scope.LEADERSHIP.value),
                        f"时限已于 {view.adopted.recorded_at[:10]} 拟定，尚未经监督委员会审核",
                        obligation_id=view.obligation_id,
                        title=str(view.value("title") or ""),
                    )
                )
        # The compliance view (projections.compliance.compliance) of what was read here.
        for view, owed in obligations_owed(views, self.posted, self.today):
            cadence = str(view.value("cadence"))
            scope = str(view.value("scope") or Scope.LEADERSHIP.value)
            for w in owed:
                if w.status not in (LATE, MISSING, WITHDRAWN_EARLY):
                    continue
                due = w.due_on.isoformat() if w.due_on else ""
                if w.status == WITHDRAWN_EARLY:
                    key, detail = "not_kept_up", "长期公开的事项已被撤下"
                elif cadence == Cadence.BEFORE_THE_FACT:
                    key = "after_the_fact"
                    detail = f"事项日期 {w.period}，应于 {due} 前公开，" + (
                        f"{w.posted_on.isoformat()} 才公开" if w.posted_on else "事前未公开"
                    )
                else:
                    key = "not_timely"
                    limit = f"应于 {due} 前公开" if due else "长期公开"
                    detail = f"{limit}，" + (
                        f"{w.posted_on.isoformat()} 才公开" if w.posted_on else "至今未公开"
                    )
                self.found[key].append(
                    Finding(
                        scope,
                        detail,
                        disclosure_id=w.disclosures[0] if w.disclosures else "",
                        obligation_id=view.obligation_id,
                        period=w.period,
                        title=str(view.value("title") or ""),
                    )
                )

    def _postings(self) -> None:
        for did, acts in self.posted.items():
            published = [a for a in acts if a.act == "published"]
            if not published:
                continue
            first = china_day(published[0].recorded_at)
            if acts[-1].act == "published":
                until = acts[-1].period_until
                if until and until < self.today.isoformat():
                    self._item("archive_incomplete", did, f"公开期已于 {until} 届满，仍未归档")
            if first is not None:
                self._no_window(did, first, published[0], acts)

    def _no_window(self, did: str, first: dt.date, posting: Posting, acts: list[Posting]) -> None:
        day = first.isoformat()
        down = [a for a in acts if a.act != "published" and china_day(a.recorded_at) == first]
        if posting.period_until and posting.period_until <= day:
            self._item("no_feedback", did, f"{day} 公开，公开期至 {posting.period_until}")
        elif down:
            name = "撤回" if down[0].act == "withdrawn" else "归档"
            self._item("no_feedback", did, f"{day} 公开，当天即{name}")

    def _opinions(self, db: ReadDB, community_id: str, as_of: int | None) -> None:
        waiting: dict[str, int] = {}
        for o in opinions(db, community_id, as_of=as_of):
            if o.answer is None:
                waiting[o.disclosure_id] = waiting.get(o.disclosure_id, 0) + 1
        for did, n in waiting.items():
            acts = self.posted.get(did, [])
            published = [a for a in acts if a.act == "published"]
            until = published[-1].period_until if published else ""
            ended = acts and acts[-1].act != "published"
            if ended or (until and until < self.today.isoformat()):
                self._item("no_feedback", did, f"{n} 条居民意见在公开期满后仍未答复")

    def _objections(self, db: ReadDB, community_id: str, as_of: int | None) -> None:
        for act in community_objections(db, community_id, as_of):
            if act.act == "objection-verified":
                self._item("not_true", str(act.disclosure_id), f"异议经核实属实：{act.text}")


def _titles(db: ReadDB, community_id: str, as_of: int | None) -> dict[str, tuple[str, str]]:
    """Each disclosure's scope and title on the board after entry ``as_of`` (now, when
    None): the rows :func:`projections.board_projection.board_as_of` reads, only the two
    columns a finding shows."""
    rows = board_rows(db, community_id, as_of, "disclosure_id, scope, title")
    return {str(did): (str(scope), str(title)) for did, scope, title in rows}
