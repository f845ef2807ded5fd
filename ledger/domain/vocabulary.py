"""The words of 居务公开, as the people who use it say them.

Codes are stable ASCII identifiers that appear in stored events; the Chinese names are
what residents see. Sources are cited as in ``shared/DOMAIN.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Role(StrEnum):
    """Who acts. Every event records its actor and the actor's role."""

    CLERK = "clerk"  # 居委会 / 社区工作者
    COMMITTEE_MEMBER = "committee_member"  # 居务监督委员会 委员
    COMMITTEE_CHAIR = "committee_chair"  # 居务监督委员会 主任
    PARTY_REVIEWER = "party_reviewer"  # 社区党支部 / 党风廉政监督员
    DISCIPLINARY_AUDITOR = "disciplinary_auditor"  # 街道纪工委
    RESIDENT = "resident"  # 居民
    RESIDENT_REPRESENTATIVE = "resident_representative"  # 居民代表
    SYSTEM = "system"  # gongkai itself (e.g. adopting the default chart of accounts)


ROLE_NAMES: Final[dict[Role, str]] = {
    Role.CLERK: "社区工作者",
    Role.COMMITTEE_MEMBER: "居务监督委员会委员",
    Role.COMMITTEE_CHAIR: "居务监督委员会主任",
    Role.PARTY_REVIEWER: "党支部审查人",
    Role.DISCIPLINARY_AUDITOR: "街道纪工委",
    Role.RESIDENT: "居民",
    Role.RESIDENT_REPRESENTATIVE: "居民代表",
    Role.SYSTEM: "系统",
}


class Section(StrEnum):
    AFFAIRS = "affairs"  # 政务公开
    FINANCE = "finance"  # 财务公开


SECTION_NAMES: Final[dict[Section, str]] = {
    Section.AFFAIRS: "政务公开",
    Section.FINANCE: "财务公开",
}


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    section: Section
    name: str  # Chinese, as on the board
    english: str


# What must be disclosed [000, 004 篇九, 003 《社区居务公开制度》].
CATEGORIES: Final[tuple[Category, ...]] = (
    Category("policies", Section.AFFAIRS, "政策法规", "Policies and laws"),
    Category("work_plan", Section.AFFAIRS, "工作计划及任务落实", "Work plan and tasks"),
    Category("elections", Section.AFFAIRS, "成员罢免与补选", "Removal, recall, by-election"),
    Category("land_compensation", Section.AFFAIRS, "征地及补偿", "Land requisition"),
    Category("social_assistance", Section.AFFAIRS, "救济救助与低保", "Relief and 低保"),
    Category("annual_targets", Section.AFFAIRS, "年度目标及执行", "Annual targets"),
    Category("council_decisions", Section.AFFAIRS, "议事委员会决定", "Council decisions"),
    Category("personnel", Section.AFFAIRS, "人事变动及分工", "Personnel and duties"),
    Category("welfare_eligibility", Section.AFFAIRS, "福利对象资格公示", "Welfare eligibility"),
    Category("resident_meetings", Section.AFFAIRS, "居民代表会议", "Representatives' meetings"),
    Category("evaluation_results", Section.AFFAIRS, "民主评议结果", "Evaluation results"),
    Category("resident_requests", Section.AFFAIRS, "居民要求公开事项", "Requested by residents"),
    Category("financial_plan", Section.FINANCE, "财务计划", "Financial plan"),
    Category("income_expense", Section.FINANCE, "收支明细", "Income and expense"),
    Category("special_projects", Section.FINANCE, "专项资金项目", "Special projects"),
    Category("tenders", Section.FINANCE, "招投标及工程进度", "Tenders and construction"),
    Category("debts_loans", Section.FINANCE, "债权债务", "Debts and loans"),
)
CATEGORY_BY_CODE: Final[dict[str, Category]] = {c.code: c for c in CATEGORIES}


class Scope(StrEnum):
    """Who may see an item (公开范围) [000, 004 篇九]."""

    PUBLIC = "public"  # 社会公开
    INTERNAL = "internal"  # 所属内部人员
    LEADERSHIP = "leadership"  # 班子内部


SCOPE_NAMES: Final[dict[Scope, str]] = {
    Scope.PUBLIC: "社会公开",
    Scope.INTERNAL: "内部公开",
    Scope.LEADERSHIP: "班子内部",
}


class Channel(StrEnum):
    """Where a disclosure is posted (公开形式)."""

    BOARD = "board"  # 公开栏
    SCREEN = "screen"  # 电子屏
    MEETING = "meeting"  # 居民会议
    LEAFLET = "leaflet"  # 信箱 / 宣传资料


CHANNEL_NAMES: Final[dict[Channel, str]] = {
    Channel.BOARD: "公开栏",
    Channel.SCREEN: "电子屏",
    Channel.MEETING: "居民会议",
    Channel.LEAFLET: "宣传资料",
}


class ReviewStage(StrEnum):
    """Each review act names its stage [004 篇六, 篇七]."""

    COMMITTEE = "committee"  # 居务监督委员会审核
    PARTY_BRANCH = "party_branch"  # 党支部审查
    FIRST = "first"  # 保密审查 初审
    SECOND = "second"  # 保密审查 复审
    FINAL = "final"  # 保密审查 终审


STAGE_NAMES: Final[dict[ReviewStage, str]] = {
    ReviewStage.COMMITTEE: "监委会审核",
    ReviewStage.PARTY_BRANCH: "党支部审查",
    ReviewStage.FIRST: "初审",
    ReviewStage.SECOND: "复审",
    ReviewStage.FINAL: "终审",
}

# The confidentiality review's stages come in this order.
CONFIDENTIALITY_STAGES: Final = (ReviewStage.FIRST, ReviewStage.SECOND, ReviewStage.FINAL)

# Who may record a review act of each stage. The committee's review is the supervision
# committee's; the party branch's is its reviewer's; of the confidentiality review, the
# clerk does the first stage, and the second and final stages fall to those who answer
# for the content (the chair of the supervision committee or the party branch).
STAGE_ROLES: Final[dict[ReviewStage, frozenset[Role]]] = {
    ReviewStage.COMMITTEE: frozenset({Role.COMMITTEE_MEMBER, Role.COMMITTEE_CHAIR}),
    ReviewStage.PARTY_BRANCH: frozenset({Role.PARTY_REVIEWER}),
    ReviewStage.FIRST: frozenset({Role.CLERK}),
    ReviewStage.SECOND: frozenset({Role.COMMITTEE_CHAIR, Role.PARTY_REVIEWER}),
    ReviewStage.FINAL: frozenset({Role.COMMITTEE_CHAIR, Role.PARTY_REVIEWER}),
}


class ReviewOutcome(StrEnum):
    APPROVED = "approved"  # 同意
    REJECTED = "rejected"  # 不同意


class ObjectionForm(StrEnum):
    ORAL = "oral"  # 口头
    WRITTEN = "written"  # 书面


class EntryKind(StrEnum):
    INCOME = "income"  # 收入
    EXPENSE = "expense"  # 支出


@dataclass(frozen=True, slots=True)
class Account:
    """One line of a chart of accounts (会计科目)."""

    code: str
    kind: EntryKind
    name: str


# The default chart of accounts, from the income and expense lists in DOMAIN.md.
DEFAULT_ACCOUNTS: Final[tuple[Account, ...]] = (
    Account("grant", EntryKind.INCOME, "上级拨款"),
    Account("self_raised", EntryKind.INCOME, "自筹资金"),
    Account("donation", EntryKind.INCOME, "捐赠赞助"),
    Account("rent", EntryKind.INCOME, "租金收入"),
    Account("other_income", EntryKind.INCOME, "其他收入"),
    Account("salary", EntryKind.EXPENSE, "工资"),
    Account("welfare", EntryKind.EXPENSE, "福利费"),
    Account("construction", EntryKind.EXPENSE, "社区建设"),
    Account("activities", EntryKind.EXPENSE, "活动经费"),
    Account("hospitality", EntryKind.EXPENSE, "招待费"),
    Account("office", EntryKind.EXPENSE, "办公费"),
    Account("telephone", EntryKind.EXPENSE, "电话费"),
    Account("vehicle", EntryKind.EXPENSE, "车辆费"),
    Account("relief", EntryKind.EXPENSE, "慰问救济金"),
    Account("other_expense", EntryKind.EXPENSE, "其他支出"),
)
