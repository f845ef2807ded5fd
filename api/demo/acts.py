"""The demo's acts: a disclosure drafted, reviewed and posted, a finance entry booked,
each scheduled on the clock of the story (:class:`api.demo.story.Story`) and done when
the story is played. :mod:`api.demo.community` tells what happens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from api.demo.files import demo_file
from api.demo.script import (
    CHAIR,
    CLERK,
    COMMITTEE_OPINIONS,
    CONFIDENTIALITY,
    MEMBER,
    PARTY,
    PARTY_OPINION,
    PUBLIC,
    Item,
    Line,
    Step,
)
from api.demo.story import Story
from ledger.application import CommunityLedger
from ledger.attachments import FileAttachmentStore
from ledger.domain.vocabulary import ReviewOutcome, ReviewStage

# --- dates -------------------------------------------------------------------


def shift_months(month: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after ``month``."""
    year, index = divmod(month.year * 12 + month.month - 1 + n, 12)
    return dt.date(year, index + 1, 1)


#: The representatives' meeting of the month is held this many days after its first.
MEETING_DAYS: Final = 16


def texts_of(anchor: dt.date) -> dict[str, str]:
    """The fields the demo's texts may use, all from the month of ``today``."""
    last = shift_months(anchor, -1)
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


def quarter_of_month(month: dt.date) -> str:
    return f"{month.year}Q{(month.month - 1) // 3 + 1}"


def on_day(month: dt.date, day: int) -> dt.date:
    return month.replace(day=day)


#: The story runs to the end of this many days of today's month.
STORY_DAYS: Final = 5


def _review(book: CommunityLedger, did: str, key: str, step: Step, *, ok: bool = True) -> None:
    """Record one review act; its stage names it in the idempotency key."""
    stage, actor, opinion = step
    outcome = ReviewOutcome.APPROVED if ok else ReviewOutcome.REJECTED
    book.review(actor, f"{key}:{stage}", did, stage=stage, outcome=outcome, opinion=opinion)


@dataclass(slots=True)
class Demo:
    """The demo's story, scheduled act by act on :class:`Story`'s clock; ``ids`` are
    the disclosures' IDs by slug, filled in as the acts are played."""

    book: CommunityLedger
    story: Story
    files: FileAttachmentStore | None
    anchor: dt.date
    months: list[dt.date]
    ids: dict[str, str] = field(default_factory=dict)
    owed: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    entries: int = 0
    n: int = 0  # disclosures scheduled, so that the committee's reviewers take turns

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return Story.at(day, hour, minute)

    def then(self, day: dt.date, hour: int, act: Callable[[], object], minute: int = 0) -> None:
        self.story.schedule(self.at(day, hour, minute), lambda _: act())

    # --- a finance entry ----------------------------------------------------------------------

    def record(self, period: str, line: Line, key: str) -> str:
        """Book one line with its voucher; answers the entry's ID."""
        voucher = demo_file(
            self.files,
            [f"Voucher, period {period}", f"account {line.account}: {line.amount_fen} fen"],
        )
        result = self.book.record_entry(
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

    # --- disclosures --------------------------------------------------------------------

    def disclose(
        self,
        item: Item,
        ctx: dict[str, str],
        start: dt.date,
        *,
        key: str,
        period: str | None,
        archive: bool | None = None,
        withdraw_on: dt.date | None = None,
    ) -> None:
        """Draft ``item`` on ``start`` (its posting's first day), say which obligation
        and ``period`` it covers, review and post it that day; withdraw it if it says so
        (on ``withdraw_on``, by default the next day), archive it the day after its
        posting ends if ``archive`` (by default, if the item says so)."""
        end = start + dt.timedelta(days=item.days - 1)
        content: dict[str, Any] = {
            "category": item.category,
            "title": item.title.format_map(ctx),
            "body": item.body.format_map(ctx),
            "scope": item.scope,
            "planned_from": start.isoformat(),
            "planned_until": end.isoformat(),
            "attachments": [demo_file(self.files, [item.slug, line]) for line in item.attachments],
        }
        if item.recipients:
            content["recipients"] = [dict(person) for person in item.recipients]
        first = {**content, "body": item.rejected[1]} if item.rejected else content

        def draft() -> None:
            drafted = self.book.draft_disclosure(CLERK, f"{key}:draft", **first)
            self.ids[item.slug] = str(drafted.result["id"])

        def revise() -> None:
            did = self.ids[item.slug]
            # The committee sends the vague first draft back; the clerk completes it.
            assert item.rejected is not None
            self.book.submit_for_review(CLERK, f"{key}:submit-1", did)
            step = (ReviewStage.COMMITTEE, MEMBER, item.rejected[0])
            _review(self.book, did, f"{key}:round-1", step, ok=False)
            self.book.revise_draft(CLERK, f"{key}:revise", did, **content)

        self.then(start, 8, draft)
        if item.rejected:
            self.then(start, 8, revise, minute=30)
        self.review_and_post(
            item.slug,
            key,
            item,
            start,
            start,
            period=period,
            archive=item.archive if archive is None else archive,
        )
        if item.withdraw:

            def withdraw() -> None:
                did = self.ids[item.slug]
                self.book.withdraw(CLERK, f"{key}:withdraw", did, reason=item.withdraw)

            self.then(withdraw_on or start + dt.timedelta(days=1), 9, withdraw)

    def review_and_post(
        self,
        slug: str,
        key: str,
        item: Item,
        reviewed: dt.date,
        posted: dt.date,
        *,
        period: str | None,
        archive: bool,
    ) -> None:
        """Declare the coverage, submit, review (保密审查 first for an item not public),
        and post on ``posted`` on each of the item's channels; archive the day after the
        posting period (公开后资料建档保存备查)."""
        n, self.n = self.n, self.n + 1
        end = posted + dt.timedelta(days=item.days - 1)
        posting = {"period_from": posted.isoformat(), "period_until": end.isoformat()}

        def submit() -> None:
            did = self.ids[slug]
            obligation = self.owed.get((item.category, item.scope))
            if obligation is not None and period is not None:
                self.book.declare_coverage(
                    CLERK, f"{key}:covers", did, obligation_id=obligation[0], period=period
                )
            self.book.submit_for_review(CLERK, f"{key}:submit", did)

        def review() -> None:
            did = self.ids[slug]
            # The seeds' gates (ledger.domain.gates): an item not public goes through
            # 保密审查, and every item is reviewed by the committee and the party branch.
            if item.secret or item.scope is not PUBLIC:
                for step in CONFIDENTIALITY:
                    _review(self.book, did, key, step)
            reviewer = (CHAIR, MEMBER)[n % 2]  # the committee shares the work
            opinion = COMMITTEE_OPINIONS[n % len(COMMITTEE_OPINIONS)]
            _review(self.book, did, key, (ReviewStage.COMMITTEE, reviewer, opinion))
            _review(self.book, did, key, (ReviewStage.PARTY_BRANCH, PARTY, PARTY_OPINION))

        def publish() -> None:
            for channel in item.channels:
                self.book.publish(
                    CLERK, f"{key}:publish:{channel}", self.ids[slug], channel=channel, **posting
                )

        self.then(reviewed, 9, submit)
        self.then(reviewed, 10, review)
        self.then(posted, 11, publish)
        # Archived once the posting has ended, if that is within the story.
        if archive and end < self.anchor + dt.timedelta(days=STORY_DAYS - 1):
            self.then(
                end + dt.timedelta(days=1),
                9,
                lambda: self.book.archive(CLERK, f"{key}:archive", self.ids[slug]),
            )
