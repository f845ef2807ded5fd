"""The demo community 天海社区 (``tianhai``), made through the public application API.

The six months before today's month and that month's first five days, told in the
order they happen and stamped when they happen (:mod:`api.demo.story`): the disclosure
calendar adopted on the first day; each month's entries, closed, signed off and posted
as the next month's statement (one late), with a red-ink reversal; each month's 低保
list (one late, one never posted, one left up unarchived); the first 公开制度, a
long-term item, taken down early; then a disclosure in every category and every scope,
the whole review flow (a rejection, the party branch, the three-stage confidentiality
review), an objection that leads to a correction and one dismissed, opinions,
inquiries and a report (:mod:`api.demo.voices`).

Everything is derived from the month of ``now`` and every command has a deterministic
idempotency key, so a second run in the same month stores nothing: every command answers
``replayed=True``. Finance keys name only the accounting period, so a run in a later
month replays the months it shares with an earlier run. Residents' names are masked
(张*英), as on a real board.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import partial
from typing import Final

from api.demo.acts import MEETING_DAYS, on_day, quarter_of_month, shift_months, texts_of
from api.demo.files import demo_file
from api.demo.meetings import MeetingsDemo
from api.demo.script import (
    AID_RECIPIENTS,
    BOARD,
    CALENDAR,
    CHAIR,
    CLERK,
    COMMUNITY,
    DUPLICATE_FOUND,
    ERASURE_GROUND,
    ERASURE_REASON,
    EVERY_MONTH,
    EXPENSE,
    FIRST_POLICIES,
    INTERNAL,
    ITEMS,
    LATE_AID,
    LATE_STATEMENT,
    MEMBER,
    MISSING_AID,
    MONTHS,
    MOVED_AWAY,
    MOVED_AWAY_MONTHS,
    PAST_AID_BODY,
    PAST_AID_TITLE,
    PAST_WORK_BODY,
    PAST_WORK_TITLE,
    POLICIES_DOWN,
    PUBLIC,
    SCREEN,
    SEASONAL,
    SIGN_OFF_OPINION,
    UNARCHIVED_AID,
    VARYING,
    Item,
    Line,
)
from api.demo.story import Story
from ledger.application import CommunityLedger, Ledger
from ledger.attachments import FileAttachmentStore
from ledger.chain.hashing import Head
from ledger.domain import clock
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
    now: dt.datetime | None = None,
    files: FileAttachmentStore | None = None,
    report_key: ReportKey | None = None,
) -> DemoSummary:
    """Create 天海社区 with the six months before ``now``'s month and that month's first
    days, each act stamped when it happens in the story (:mod:`api.demo.story`); running
    it again in the same month stores nothing. The vouchers and attached documents are
    put in ``files`` (with none, the record names the same files, which the service would
    then not have). With the street disciplinary committee's ``report_key``, it is
    registered and a report filed."""
    moment = now or dt.datetime.now(dt.UTC)
    anchor = moment.astimezone(CHINA_TIME).date().replace(day=1)
    months = [shift_months(anchor, n) for n in range(-MONTHS, 0)]
    with clock.held_at(Story.at(months[0], 8)):  # its chart adopted as the story begins
        book = ledger.add_community(COMMUNITY)
    story = Story(anchor, moment)
    demo = _Demo(book, story, files, anchor, months)
    demo.calendar()
    demo.finance()
    demo.months_before()
    demo.this_month()
    demo.meetings()
    demo.erasure()
    asked = demo.inquiries()
    if report_key is not None:
        demo.report(report_key)
    story.play(floor=_last_stamp(book))
    return DemoSummary(
        COMMUNITY.id,
        len(demo.ids),
        demo.entries,
        2,
        2,
        asked,
        1 if report_key is not None else 0,
        book.head(),
    )


def _last_stamp(book: CommunityLedger) -> dt.datetime | None:
    """When the chain's last entry was recorded, if it has any."""
    head = book.head()
    if head.seq == 0:
        return None
    (last,) = book.entries(after=head.seq - 1, limit=1)
    stamp = json.loads(last.state)["timestamp"]
    # eventsourcing's JSON transcoder writes a datetime as {"_type_": ..., "_data_": iso}.
    return dt.datetime.fromisoformat(str(stamp["_data_"] if isinstance(stamp, dict) else stamp))


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


#: The posting period of the months before's 低保 lists (公示期).
AID_DAYS: Final = 20
#: The day of its month each of a month's entries is booked on, in order (from the 16th).
FIRST_BOOKING_DAY: Final = 16


@dataclass(slots=True)
class _Demo(MeetingsDemo):
    """The demo's story: its calendar, its books and what it posted month by month."""

    # --- the disclosure calendar ----------------------------------------------------

    def calendar(self) -> None:
        """The calendar drawn from the seeds, adopted by the clerk and approved by the
        committee's chair on the story's first day, before its first submission. Its
        keys name no month: a later run replays it."""
        for n, obligation in enumerate(CALENDAR):
            self.then(self.months[0], 8, partial(self.adopt, *obligation), minute=n)

    def adopt(
        self,
        slug: str,
        title: str,
        category: str,
        cadence: str,
        due_days: int,
        scope: str,
        basis: str,
    ) -> None:
        key = f"demo:calendar:{slug}"
        adopted = self.book.adopt_obligation(
            CLERK,
            key,
            title=title,
            category=category,
            cadence=cadence,
            due_days=due_days,
            scope=scope,
            basis=basis,
        )
        oid = str(adopted.result["id"])
        self.book.approve_obligation(CHAIR, f"{key}:approval", oid, opinion="同意")
        self.owed[(category, scope)] = (oid, cadence)

    def finance(self) -> None:
        """Each month's entries, booked from the 16th; one office voucher booked twice
        in the fifth month, found at that month's sign-off (民主理财) and reversed in red
        ink (红字冲销) in the next period: entries are never edited."""
        for month in self.months:
            period = f"{month:%Y-%m}"
            for n, line in enumerate(_month_lines(month)):
                key = f"demo:finance:{period}:{line.slug}"
                self.then(
                    on_day(month, FIRST_BOOKING_DAY + n),
                    10,
                    partial(self.record, period, line, key),
                )
                self.entries += 1
        wrong, fix = self.months[-2], self.months[-1]
        office = next(x for x in _month_lines(wrong) if x.slug == "office")
        key = f"demo:finance:{wrong:%Y-%m}:office-duplicate"

        booked: dict[str, str] = {}

        def duplicate() -> None:
            booked["id"] = self.record(f"{wrong:%Y-%m}", office, key)

        def reverse() -> None:
            self.book.reverse_entry(
                CLERK,
                f"{key}:reversal",
                booked["id"],
                period=f"{fix:%Y-%m}",
                voucher_sha256=demo_file(
                    self.files,
                    [f"Red-ink reversal, period {fix:%Y-%m}", f"of {wrong:%Y-%m} office"],
                ),
                reason=f"{wrong:%Y-%m}办公费凭证重复记账，经民主理财小组核对发现，红字冲销。",
            )

        self.then(on_day(wrong, 28), 10, duplicate)
        # After the sign-off of the month it was booked in (see statement()).
        self.then(on_day(fix, 3), 11, reverse)
        self.entries += 2

    def statement(self, month: dt.date, posted_on: int) -> None:
        """The month closed on the 2nd of the next, signed off by the democratic finance
        group on the 3rd, drafted from the close, reviewed on the 4th and posted on
        ``posted_on`` (the 10th is its due date), then archived when its posting ends."""
        period, after = f"{month:%Y-%m}", shift_months(month, 1)
        key = f"demo:finance:{period}"
        slug = f"statement-{period}"
        found = DUPLICATE_FOUND.format(period=period) if month == self.months[-2] else ""

        def close() -> None:
            self.book.close_period(CLERK, f"{key}:close", period=period)

        def sign_off() -> None:
            self.book.sign_off_statement(
                MEMBER, f"{key}:sign-off", period=period, opinion=found or SIGN_OFF_OPINION
            )

        def draft() -> None:
            drafted = self.book.draft_statement(CLERK, f"{key}:statement", period=period)
            self.ids[slug] = str(drafted.result["id"])

        self.then(on_day(after, 2), 9, close)
        self.then(on_day(after, 3), 9, sign_off)
        self.then(on_day(after, 3), 10, draft)
        posted = on_day(after, posted_on)
        self.review_and_post(
            slug,
            key,
            Item(slug, "income_expense", INTERNAL, "", ""),
            on_day(after, 4),
            posted,
            period=period,
            archive=True,
        )

    # --- the months before today's -----------------------------------------------------

    def months_before(self) -> None:
        """The first 公开制度 (long-term, taken down early); each month's statement and 低保
        list posted in the next month (one statement late, one list late, one never
        posted, one left up unarchived); each quarter's work posted after it ends; the
        elderly allowance list of last month, archived when its seven days end."""
        first = self.months[0]
        down = on_day(self.months[POLICIES_DOWN], 27)
        self.disclose(
            FIRST_POLICIES, {}, first, key="demo:policies-first", period="", withdraw_on=down
        )
        for n, month in enumerate(self.months[:-1]):
            self.statement(month, 13 if n == LATE_STATEMENT else 5)
            if n != MISSING_AID:
                self.aid_list(month, 15 if n == LATE_AID else 6, archive=n != UNARCHIVED_AID)
            if month.month % 3 == 0:
                self.work(month)
        self.statement(self.months[-1], 5)
        elderly = next(i for i in ITEMS if i.slug == "elderly-allowance")
        start = self.anchor + dt.timedelta(days=elderly.starts)
        ctx = texts_of(self.anchor)
        self.disclose(
            elderly, ctx, start, key=f"demo:{self.anchor:%Y-%m}:{elderly.slug}", period=None
        )

    def aid_list(self, month: dt.date, posted_on: int, *, archive: bool) -> None:
        """The month's 低保 list as posted in the next month: its recipients sealed person
        by person (the body names none), one of them only on the first months' lists."""
        period = f"{month:%Y-%m}"
        early = self.months.index(month) < MOVED_AWAY_MONTHS
        people = (*AID_RECIPIENTS, MOVED_AWAY) if early else AID_RECIPIENTS
        total = sum(int(str(p["amount_fen"])) for p in people)
        item = Item(
            f"dibao-{period}",
            "social_assistance",
            PUBLIC,
            PAST_AID_TITLE.format(y=month.year, m=month.month),
            PAST_AID_BODY.format(m=month.month, n=len(people), total=f"{total // 100:,}"),
            days=AID_DAYS,
            secret=True,
            recipients=people,
        )
        start = on_day(shift_months(month, 1), posted_on)
        self.disclose(item, {}, start, key=f"demo:{period}:dibao", period=period, archive=archive)

    def erasure(self) -> None:
        """The chair erases the personal data of the recipient who moved away, on the
        20th of the fourth month: her entries on the early lists read [已删除]."""
        person = str(MOVED_AWAY["person_id"])
        self.then(
            on_day(self.months[3], 20), 10,
            lambda: self.book.erase_person(
                CHAIR, f"demo:erasure:{person}", person_id=person, ground=ERASURE_GROUND,
                reason=ERASURE_REASON,
            ),
        )  # fmt: skip

    def work(self, month: dt.date) -> None:
        """The quarter ending with ``month``: its work posted on the 8th of the next month
        (due by the 15th)."""
        quarter = quarter_of_month(month)
        title = PAST_WORK_TITLE.format(y=month.year, q=quarter[-1])
        item = Item(f"work-{quarter}", "work_plan", PUBLIC, title, PAST_WORK_BODY, (BOARD, SCREEN))
        self.disclose(
            item,
            {},
            on_day(shift_months(month, 1), 8),
            key=f"demo:{quarter}:work",
            period=quarter,
            archive=True,
        )

    # --- today's month ------------------------------------------------------------------

    def this_month(self) -> None:
        """Every item of :data:`ITEMS` but the elderly allowance list posted on the month's
        first day, then the objections and opinions on them."""
        ctx = texts_of(self.anchor)
        for item in ITEMS:
            if item.slug == "elderly-allowance":
                continue
            start = self.anchor + dt.timedelta(days=item.starts)
            obligation = self.owed_cadence(item)
            period = _period(obligation, self.anchor, start) if obligation else None
            self.disclose(
                item, ctx, start, key=f"demo:{self.anchor:%Y-%m}:{item.slug}", period=period
            )
        self.objections(ctx)
        self.opinions()

    def owed_cadence(self, item: Item) -> str:
        """The cadence of the calendar's obligation of the item's category and scope, ''
        if it has none."""
        for _, _, category, cadence, _, scope, _ in CALENDAR:
            if (category, scope) == (item.category, item.scope):
                return cadence
        return ""


def _period(cadence: str, anchor: dt.date, start: dt.date) -> str:
    """The period an item posted in the month of ``anchor`` covers: last month, its
    quarter, its year; for a matter, the day its posting starts; before the fact, the
    day of the meeting; none for good."""
    last = shift_months(anchor, -1)
    return {
        "monthly": f"{last:%Y-%m}",
        "quarterly": quarter_of_month(last),
        "year_end": f"{last.year}",
        "per_matter": start.isoformat(),
        "before_the_fact": (anchor + dt.timedelta(days=MEETING_DAYS)).isoformat(),
    }.get(cadence, "")
