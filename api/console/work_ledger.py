"""The work ledger (工作台账): every act on the record by date (each review with its seal,
each objection with its verification or finding, each posting, correction and entry),
and every seal key the chair registered, with filters by who, role and kind of act. The
committee's chair keeps it; the community's leadership and the street's disciplinary
auditors read it (the acts carry opinions on items of every scope)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.console.routes import NAMES, CommunityPath
from api.portal.routes import LangQuery, Page, PortalRoute, community_named
from api.portal.views import CHINA
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep
from ledger.errors import PermissionDeniedError
from projections.audit_trail import AuditAct, acts_by
from projections.seal_keys import registered_keys
from projections.visibility import Reader, reads_everything

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)

#: Each act as the ledger's people name it.
ACT_NAMES: Final = {
    "submitted-for-review": "提交审核",
    "reviewed": "审核",
    "published": "公开",
    "withdrawn": "撤回",
    "archived": "归档",
    "corrected": "更正",
    "objection-raised": "提出异议",
    "objection-verified": "异议核实属实",
    "objection-dismissed": "异议不成立",
    "correction-drafted": "更正稿送审",
    "correction-reviewed": "更正稿审核",
    "correction-published": "公布更正",
    "opinion-left": "留下意见",
    "opinion-answered": "答复意见",
    "filed": "提出质询",
    "answered": "答复质询",
    "marked-unsatisfactory": "答复不满意",
    "escalated": "提请问责",
    "meeting-recorded": "问责会议记录",
    "entry-recorded": "记账",
    "entry-reversed": "红字冲销",
    "seal-key": "登记监审印章",
    "called": "召集会议",
    "notice-posted": "会议通知",
    "attendance-recorded": "会议签到",
    "resolution-voted": "表决",
    "resolution-posted": "公布决议",
    "post-registered": "登记任职",
    "post-left": "登记离任",
    "relationship-declared": "申报近亲属",
    "committee-elected": "推选监委会",
    "member-resigned": "监委会成员辞职",
    "member-recalled": "罢免监委会成员",
    "opened": "启动民主评议",
    "report-recorded": "述职述廉报告",
    "codes-committed": "登记测评码",
    "voting-opened": "开始投票",
    "voting-closed": "结束投票",
    "tally-published": "公布评议结果",
    "consequences-recorded": "评议结果运用",
    "erased": "删除个人信息",
}
#: The most rows one page shows, the latest first.
ROWS: Final = 500
FilterQuery = Annotated[str | None, Query(max_length=100)]


@dataclass(frozen=True, slots=True)
class Line:
    """One row of the work ledger."""

    seq: int
    day: str  # YYYY-MM-DD HH:MM, China time
    act: str
    subject_kind: str
    subject_id: str
    actor: str
    actor_role: str
    stage: str
    outcome: str
    opinion: str
    sealed: bool


def _day(recorded_at: str) -> str:
    try:
        return datetime.fromisoformat(recorded_at).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return recorded_at


def _line(act: AuditAct) -> Line:
    return Line(
        act.seq, _day(act.recorded_at), act.act, act.subject_kind, str(act.subject_id),
        act.actor, act.actor_role, act.stage, act.outcome, act.opinion, bool(act.seal_key),
    )  # fmt: skip


@router.get("/c/{community_id}/work-ledger")
def work_ledger(request: Request, community_id: CommunityPath, who: SignedIn,
                ledger: LedgerDep, db: ReadDBDep, lang: LangQuery = None,
                actor: FilterQuery = None, role: FilterQuery = None,
                act: FilterQuery = None) -> HTMLResponse:  # fmt: skip
    """The acts of the community, the latest first, as filtered."""
    community = community_named(ledger, community_id)
    if not reads_everything(Reader(who.role, who.community), community_id):
        raise PermissionDeniedError(
            "the work ledger holds acts on items of every scope: it is for the "
            "community's leadership and the disciplinary auditors"
        )
    lines = [_line(a) for a in acts_by(db, community_id, actor or None, role=role or None)]
    if not actor and not role:
        lines += [
            Line(k.seq, _day(k.recorded_at), "seal-key", "seal_key", k.member, k.registered_by,
                 "committee_chair", "", "", k.vkey, False)
            for k in registered_keys(db, community_id)
        ]  # fmt: skip
    if act:
        lines = [line for line in lines if line.act == act]
    lines.sort(key=lambda line: line.seq, reverse=True)
    page = Page.of(request, lang)
    return page.render(
        "console/work_ledger.html",
        **NAMES,
        community=community,
        lines=lines[:ROWS],
        more=len(lines) > ROWS,
        act_names=ACT_NAMES,
        filters={"actor": actor or "", "role": role or "", "act": act or ""},
    )
