"""The demo community 天海社区 (``tianhai``), made through the public application API.

Six months of finance entries with a red-ink reversal, a disclosure in every category
and every scope, the whole review flow (a rejection, the party branch, the three-stage
confidentiality review), an objection that leads to a correction and one dismissed.

Everything is derived from the month of ``today`` and every command has a deterministic
idempotency key, so a second run in the same month stores nothing: every command answers
``replayed=True``. Finance keys name only the accounting period, so a run in a later
month replays the months it shares with an earlier run. Residents' names are masked
(张*英), as on a real board.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any, Final

from api.demo.files import demo_file
from api.demo.script import (
    ACCOUNT_NAMES,
    AUDITOR,
    CALENDAR,
    CHAIR,
    CLERK,
    COMMITTEE_OPINIONS,
    COMMUNITY,
    CONFIDENTIALITY,
    CORRECTION_OPINION,
    DIBAO,
    DIBAO_CORRECTED,
    DIBAO_EXPLANATION,
    DIBAO_FINDING,
    DIBAO_OBJECTION,
    ELEVATOR_DISMISSAL,
    ELEVATOR_OBJECTION,
    EVERY_MONTH,
    EXPENSE,
    INCOME,
    INTERNAL,
    ITEMS,
    LIFT_INQUIRY,
    MEETING_OPINION,
    MEMBER,
    MONTHS,
    PARKING_ANSWER,
    PARKING_OPINION,
    PARTY,
    PARTY_OPINION,
    PUBLIC,
    RENT_ANSWER,
    RENT_INQUIRY,
    REPORT_ACKNOWLEDGEMENT,
    REPORT_STEP,
    REPORT_SUBJECT,
    REPORT_TEXT,
    REPORTER_CONTACT,
    REPORTER_NAME,
    REPRESENTATIVE,
    RESIDENT,
    SEASONAL,
    VARYING,
    Item,
    Line,
    Step,
)
from ledger.application import CommunityLedger, Ledger
from ledger.application.community import SYSTEM
from ledger.attachments import FileAttachmentStore
from ledger.chain.hashing import Head
from ledger.domain.finance_period import statement_title, yuan
from ledger.domain.vocabulary import ObjectionForm, ReviewOutcome, ReviewStage
from ledger.domain.working_days import CHINA_TIME
from ledger.sealed_identity import ReportKey


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What :func:`create_demo` made (or found already made)."""

    community_id: str
    disclosures: int
    finance_entries: int
    objections: int
    opinions: int
    inquiries: int
    reports: int
    head: Head


def create_demo(
    ledger: Ledger,
    *,
    today: dt.date | None = None,
    files: FileAttachmentStore | None = None,
    report_key: ReportKey | None = None,
) -> DemoSummary:
    """Create 天海社区 with its record; running it again in the same month stores nothing.
    The vouchers and attached documents are put in ``files`` (with none, the record
    names the same files, which the service would then not have). With the street
    disciplinary committee's ``report_key``, it is registered and a report filed."""
    anchor = (today or dt.date.today()).replace(day=1)
    months = [_shift(anchor, n) for n in range(-MONTHS, 0)]
    book = ledger.add_community(COMMUNITY)
    owed = _calendar(book)
    entries, last_month = _record_finance(book, months, files)
    ctx = _context(anchor)
    items = (*ITEMS, _accounts_item(months[-1], last_month))
    ids = {
        item.slug: _disclose(book, item, ctx, anchor, n, files, owed)
        for n, item in enumerate(items)
    }
    objections = _objections(book, ctx, anchor, ids)
    opinions = _opinions(book, anchor, ids)
    asked = _inquiries(book, anchor)
    reported = _report(book, anchor, report_key) if report_key is not None else 0
    return DemoSummary(
        COMMUNITY.id, len(items), entries, objections, opinions, asked, reported, book.head()
    )


# --- dates and text -------------------------------------------------------------------


def _shift(month: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after ``month``."""
    year, index = divmod(month.year * 12 + month.month - 1 + n, 12)
    return dt.date(year, index + 1, 1)


#: The representatives' meeting of the month is held this many days after its first.
MEETING_DAYS: Final = 16


def _context(anchor: dt.date) -> dict[str, str]:
    """The fields the demo's texts may use, all from the month of ``today``."""
    last = _shift(anchor, -1)
    meet = anchor + dt.timedelta(days=MEETING_DAYS)  # the notice is posted well before
    weekday = "一二三四五六日"[meet.weekday()]
    return {
        "y": str(anchor.year),
        "m": str(anchor.month),
        "q": str((anchor.month - 1) // 3 + 1),
        "py": str(last.year),
        "pm": str(last.month),
        "meet": f"{meet.year}年{meet.month}月{meet.day}日（星期{weekday}）",
    }


# --- finance ----------------------------------------------------------------------------


def _month_lines(month: dt.date) -> list[Line]:
    """The entries of one month. They depend on the calendar month only, so that a run in
    a later month books the same amounts under the same keys."""
    office, what, fen, supplier = VARYING[month.month]
    return [
        *EVERY_MONTH,
        Line("office", EXPENSE, "office", office, "海秀文具商行", "打印纸、墨盒等办公用品"),
        Line("activities", EXPENSE, "activities", fen, supplier, f"{what}物资"),
        *SEASONAL.get(month.month, ()),
    ]


def _record(
    book: CommunityLedger, period: str, line: Line, key: str, files: FileAttachmentStore | None
) -> str:
    """Book one line with its voucher; answers the entry's ID."""
    voucher = demo_file(
        files, [f"Voucher, period {period}", f"account {line.account}: {line.amount_fen} fen"]
    )
    result = book.record_entry(
        CLERK,
        key,
        kind=line.kind,
        amount_fen=line.amount_fen,
        account=line.account,
        counterparty=line.counterparty,
        voucher_sha256=voucher,
        period=period,
        memo=line.memo,
    )
    return str(result.result["id"])


def _record_finance(
    book: CommunityLedger, months: list[dt.date], files: FileAttachmentStore | None
) -> tuple[int, list[Line]]:
    """Book every month, then a duplicated voucher and its red-ink reversal (红字冲销).
    Answers the number of entries and the last month's lines, reversal included."""
    count = 0
    for month in months:
        period = f"{month:%Y-%m}"
        for line in _month_lines(month):
            _record(book, period, line, f"demo:finance:{period}:{line.slug}", files)
            count += 1
    # The clerk books one office voucher twice; the monthly check of the democratic
    # finance group (民主理财) finds it, and it is reversed in the next period: entries
    # are never edited.
    wrong, fix = f"{months[-2]:%Y-%m}", f"{months[-1]:%Y-%m}"
    office = next(x for x in _month_lines(months[-2]) if x.slug == "office")
    duplicate = _record(book, wrong, office, f"demo:finance:{wrong}:office-duplicate", files)
    book.reverse_entry(
        CLERK,
        f"demo:finance:{wrong}:office-duplicate:reversal",
        duplicate,
        period=fix,
        voucher_sha256=demo_file(files, [f"Red-ink reversal, period {fix}", f"of {wrong} office"]),
        reason=f"{wrong}办公费凭证重复记账，经民主理财小组核对发现，红字冲销。",
    )
    reversal = replace(office, amount_fen=-office.amount_fen, memo=f"冲销{wrong}重复记账")
    return count + 2, [*_month_lines(months[-1]), reversal]


def _accounts_item(month: dt.date, lines: list[Line]) -> Item:
    """The monthly income and expense disclosure (收支明细), from the booked lines."""
    parts = []
    for kind, label in ((INCOME, "收入"), (EXPENSE, "支出")):
        mine = [x for x in lines if x.kind is kind]
        detail = "；".join(
            f"{ACCOUNT_NAMES[x.account]}{yuan(x.amount_fen)}（{x.memo}）" for x in mine
        )
        parts.append(f"{label}合计{yuan(sum(x.amount_fen for x in mine))}：{detail}。")
    balance = sum(x.amount_fen if x.kind is INCOME else -x.amount_fen for x in lines)
    body = "".join(parts) + f"本月结余{yuan(balance)}。原始凭证每周三下午可到居委会查阅。"
    title = statement_title(f"{month:%Y-%m}")
    return Item("accounts", "income_expense", INTERNAL, title, body)


# --- disclosures ------------------------------------------------------------------------


def _disclose(
    book: CommunityLedger,
    item: Item,
    ctx: dict[str, str],
    anchor: dt.date,
    n: int,
    files: FileAttachmentStore | None,
    owed: dict[tuple[str, str], tuple[str, str]],
) -> str:
    """Draft one item, say which obligation of the calendar it fulfils (if one is of
    its category and scope), review and post it, then withdraw or archive it if it says
    so. Answers the disclosure's ID."""
    key = f"demo:{anchor:%Y-%m}:{item.slug}"
    start = anchor + dt.timedelta(days=item.starts)
    end = start + dt.timedelta(days=item.days - 1)
    posting = {"period_from": start.isoformat(), "period_until": end.isoformat()}
    content: dict[str, Any] = {
        "category": item.category,
        "title": item.title.format_map(ctx),
        "body": item.body.format_map(ctx),
        "scope": item.scope,
        "planned_from": start.isoformat(),
        "planned_until": end.isoformat(),
        "attachments": [demo_file(files, [item.slug, line]) for line in item.attachments],
    }
    first = {**content, "body": item.rejected[1]} if item.rejected else content
    did = str(book.draft_disclosure(CLERK, f"{key}:draft", **first).result["id"])
    obligation = owed.get((item.category, item.scope))
    if obligation is not None:
        period = _period(obligation[1], anchor, start)
        book.declare_coverage(
            CLERK, f"{key}:covers", did, obligation_id=obligation[0], period=period
        )
    if item.rejected:
        # The committee sends the vague first draft back; the clerk completes it.
        book.submit_for_review(CLERK, f"{key}:submit-1", did)
        step = (ReviewStage.COMMITTEE, MEMBER, item.rejected[0])
        _review(book, did, f"{key}:round-1", step, ok=False)
        book.revise_draft(CLERK, f"{key}:revise", did, **content)
    book.submit_for_review(CLERK, f"{key}:submit", did)
    # The seeds' gates (ledger.domain.gates): an item not public goes through 保密审查,
    # and every item is reviewed by the committee and by the party branch.
    if item.secret or item.scope is not PUBLIC:
        for step in CONFIDENTIALITY:
            _review(book, did, key, step)
    reviewer = (CHAIR, MEMBER)[n % 2]  # the committee shares the work
    opinion = COMMITTEE_OPINIONS[n % len(COMMITTEE_OPINIONS)]
    _review(book, did, key, (ReviewStage.COMMITTEE, reviewer, opinion))
    _review(book, did, key, (ReviewStage.PARTY_BRANCH, PARTY, PARTY_OPINION))
    for channel in item.channels:
        book.publish(CLERK, f"{key}:publish:{channel}", did, channel=channel, **posting)
    if item.withdraw:
        book.withdraw(CLERK, f"{key}:withdraw", did, reason=item.withdraw)
    if item.archive:
        # 公开后资料建档保存备查: the posting period is over, the file is kept.
        book.archive(CLERK, f"{key}:archive", did)
    return did


def _review(book: CommunityLedger, did: str, key: str, step: Step, *, ok: bool = True) -> None:
    """Record one review act; its stage names it in the idempotency key."""
    stage, actor, opinion = step
    outcome = ReviewOutcome.APPROVED if ok else ReviewOutcome.REJECTED
    book.review(actor, f"{key}:{stage}", did, stage=stage, outcome=outcome, opinion=opinion)


# --- objections -------------------------------------------------------------------------


def _objections(
    book: CommunityLedger, ctx: dict[str, str], anchor: dt.date, ids: dict[str, str]
) -> int:
    """A written objection to the 低保 list, verified by the party branch and corrected;
    an oral objection to the elevator tender, dismissed. Answers how many were raised."""
    key = f"demo:{anchor:%Y-%m}:objection"
    written = book.raise_objection(
        RESIDENT,
        f"{key}:dibao",
        ids["dibao"],
        disclosure_version=1,  # the 低保 list was posted as first drafted
        objector="刘*华（3号楼居民）",
        form=ObjectionForm.WRITTEN,
        content=DIBAO_OBJECTION.format_map(ctx),
    )
    dibao = str(written.result["id"])
    finding = DIBAO_FINDING.format_map(ctx)
    book.verify_objection(PARTY, f"{key}:dibao:verify", dibao, finding=finding)
    book.draft_correction(
        CLERK,
        f"{key}:dibao:draft",
        dibao,
        title="{py}年{pm}月城市最低生活保障金发放公示（更正）".format_map(ctx),
        body=DIBAO.format_map({**ctx, **DIBAO_CORRECTED}),
        explanation=DIBAO_EXPLANATION,
    )
    # The correction is reviewed as the list was: it went through 保密审查, so this does.
    steps = (
        *CONFIDENTIALITY,
        (ReviewStage.COMMITTEE, MEMBER, CORRECTION_OPINION),
        (ReviewStage.PARTY_BRANCH, PARTY, PARTY_OPINION),
    )
    for stage, reviewer, opinion in steps:
        book.review_correction(
            reviewer,
            f"{key}:dibao:{stage}",
            dibao,
            stage=stage,
            outcome=ReviewOutcome.APPROVED,
            opinion=opinion,
        )
    book.publish_correction(CLERK, f"{key}:dibao:correct", dibao)
    # An oral objection is recorded by the clerk on the resident's behalf.
    oral = book.raise_objection(
        CLERK,
        f"{key}:elevators",
        ids["elevators"],
        disclosure_version=1,
        objector="孙*明（7号楼居民，来电口头反映）",
        form=ObjectionForm.ORAL,
        content=ELEVATOR_OBJECTION,
    )
    oral_id = str(oral.result["id"])
    book.dismiss_objection(CHAIR, f"{key}:elevators:dismiss", oral_id, reason=ELEVATOR_DISMISSAL)
    return 2


# --- opinions -----------------------------------------------------------------------------


def _opinions(book: CommunityLedger, anchor: dt.date, ids: dict[str, str]) -> int:
    """A resident's opinion on the parking fees, answered by the clerk in public; a
    representative's on the meeting, its text kept private and not yet answered.
    Answers how many were left."""
    key = f"demo:{anchor:%Y-%m}:opinion"
    parking = book.leave_opinion(
        RESIDENT,
        f"{key}:parking",
        ids["parking"],
        resident=RESIDENT.name,
        text=PARKING_OPINION,
        text_public=True,
    )
    opinion_id = str(parking.result["opinion_id"])
    book.answer_opinion(
        CLERK, f"{key}:parking:answer", ids["parking"], opinion_id, answer=PARKING_ANSWER
    )
    book.leave_opinion(
        REPRESENTATIVE,
        f"{key}:reps-meeting",
        ids["reps-meeting"],
        resident=REPRESENTATIVE.name,
        text=MEETING_OPINION,
        text_public=False,
    )
    return 2


# --- inquiries ----------------------------------------------------------------------------


def _inquiries(book: CommunityLedger, anchor: dt.date) -> int:
    """Two inquiries filed by the representative on the 20th of last month: one the
    clerk answered the next day, one left unanswered and escalated by the service a
    week on, awaiting the committee's meeting. Answers how many were filed."""
    key = f"demo:{anchor:%Y-%m}:inquiry"
    filed_on = _shift(anchor, -1).replace(day=20)
    at = dt.datetime.combine(filed_on, dt.time(10), tzinfo=CHINA_TIME)
    rent = book.file_inquiry(
        REPRESENTATIVE,
        f"{key}:rent",
        representative=REPRESENTATIVE.name,
        question=RENT_INQUIRY,
        on_behalf_of="临街住户",
        now=at,
    )
    book.answer_inquiry(
        CLERK,
        f"{key}:rent:answer",
        str(rent.result["id"]),
        answer=RENT_ANSWER,
        now=at + dt.timedelta(days=1),
    )
    lift = book.file_inquiry(
        REPRESENTATIVE,
        f"{key}:lift",
        representative=REPRESENTATIVE.name,
        question=LIFT_INQUIRY,
        on_behalf_of="3号楼、5号楼低层住户",
        now=at,
    )
    # As the service's worker did once its deadline had passed: the record is whole
    # when the demo is made, and a worker finds nothing more to do.
    book.escalate_inquiry(SYSTEM, str(lift.result["id"]), now=at + dt.timedelta(days=7))
    return 2


# --- a report -----------------------------------------------------------------------------


def _report(book: CommunityLedger, anchor: dt.date, key: ReportKey) -> int:
    """The committee's key registered, and one report filed on the 25th of last month,
    acknowledged and being investigated."""
    month = f"demo:{anchor:%Y-%m}"
    if book.report_key() != key:
        book.register_report_key(AUDITOR, f"{month}:report-key", public_key=key.line)
    filed_on = _shift(anchor, -1).replace(day=25)
    at = dt.datetime.combine(filed_on, dt.time(20), tzinfo=CHINA_TIME)
    filed = book.file_report(
        RESIDENT,
        f"{month}:report",
        subject=REPORT_SUBJECT,
        text=REPORT_TEXT,
        name=REPORTER_NAME,
        contact=REPORTER_CONTACT,
        now=at,
    )
    report_id = str(filed.result.result["id"])
    book.acknowledge_report(AUDITOR, f"{month}:report:ack", report_id, note=REPORT_ACKNOWLEDGEMENT)
    book.record_investigation_step(AUDITOR, f"{month}:report:step", report_id, step=REPORT_STEP)
    return 1


# --- the disclosure calendar --------------------------------------------------------------


def _calendar(book: CommunityLedger) -> dict[tuple[str, str], tuple[str, str]]:
    """The calendar drawn from the seeds, adopted by the clerk and approved by the
    committee's chair. Its keys name no month: a later run replays it. Answers each
    obligation's ID and cadence by its (category, scope)."""
    owed: dict[tuple[str, str], tuple[str, str]] = {}
    for slug, title, category, cadence, due_days, scope, basis in CALENDAR:
        key = f"demo:calendar:{slug}"
        adopted = book.adopt_obligation(
            CLERK, key, title=title, category=category, cadence=cadence, due_days=due_days,
            scope=scope, basis=basis,
        )  # fmt: skip
        book.approve_obligation(
            CHAIR, f"{key}:approval", str(adopted.result["id"]), opinion="同意"
        )
        owed[(category, scope)] = (str(adopted.result["id"]), cadence)
    return owed


def _period(cadence: str, anchor: dt.date, start: dt.date) -> str:
    """The period an item posted in the month of ``anchor`` covers: last month, its
    quarter, last year; for a matter, the day its posting starts; before the fact, the
    day of the meeting; none for good."""
    last = _shift(anchor, -1)
    return {
        "monthly": f"{last:%Y-%m}",
        "quarterly": f"{last.year}Q{(last.month - 1) // 3 + 1}",
        "year_end": f"{anchor.year - 1}",
        "per_matter": start.isoformat(),
        "before_the_fact": (anchor + dt.timedelta(days=MEETING_DAYS)).isoformat(),
    }.get(cadence, "")
