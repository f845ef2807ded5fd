"""The representatives' meetings in the demo's story: last month's, called by the
residents' committee on the 1st, noticed on the 2nd, held on the 12th with 41 of the 45
representatives, one resolution passed and one not, and the passed one posted on the
13th; and this month's, whose notice is the board's meeting notice of the 1st."""

from __future__ import annotations

import datetime as dt

from api.demo.acts import MEETING_DAYS, on_day, texts_of
from api.demo.script import (
    CLERK,
    ITEMS,
    LAST_MEETING_AGENDA,
    LAST_MEETING_PRESENT,
    LAST_MEETING_VOTES,
    REPRESENTATIVES_COUNT,
    RESOLUTION,
)
from api.demo.voices import ResidentsDemo

PLACE = "社区二楼议事厅"


def representatives(count: int) -> list[str]:
    """The representatives present, as the sign-in sheet numbers them (代表01 ...)."""
    return [f"居民代表{n:02d}" for n in range(1, count + 1)]


class MeetingsDemo(ResidentsDemo):
    """The demo's acts of the residents' committee's meetings."""

    def meetings(self) -> None:
        last = self.months[-1]
        key = f"demo:{self.anchor:%Y-%m}:meeting"
        starts = self.at(on_day(last, 12), 14, 30)
        found: dict[str, str] = {}

        def call() -> None:
            made = self.book.call_meeting(
                CLERK, f"{key}:last", kind="representatives", members=REPRESENTATIVES_COUNT,
                agenda=list(LAST_MEETING_AGENDA), place=PLACE, starts_at=starts,
            )  # fmt: skip
            found["last"] = str(made.result["id"])

        def notice() -> None:
            self.book.post_meeting_notice(CLERK, f"{key}:last:notice", found["last"])

        def hold() -> None:
            present = representatives(LAST_MEETING_PRESENT)
            self.book.record_attendance(CLERK, f"{key}:last:present", found["last"],
                                        present=present)  # fmt: skip
            for n, (title, yes, no, abstaining) in enumerate(LAST_MEETING_VOTES, start=1):
                self.book.vote_resolution(
                    CLERK, f"{key}:last:vote-{n}", found["last"], title=title,
                    votes_for=yes, votes_against=no, abstaining=abstaining,
                )  # fmt: skip

        def post() -> None:
            self.book.post_resolution(
                CLERK, f"{key}:last:posted", found["last"], number=1,
                disclosure_id=self.ids[RESOLUTION.slug],
            )  # fmt: skip

        self.then(on_day(last, 1), 15, call)
        self.then(on_day(last, 2), 9, notice)
        self.story.schedule(starts, lambda _: hold())
        resolution_day = on_day(last, 13)
        self.disclose(RESOLUTION, texts_of(self.anchor), resolution_day,
                      key=f"{key}:resolution", period=None)  # fmt: skip
        self.then(resolution_day, 15, post)
        self.this_months_meeting(key)

    def this_months_meeting(self, key: str) -> None:
        """Called on the 1st; its notice is the board's meeting notice, posted that day."""
        notice_item = next(i for i in ITEMS if i.slug == "reps-meeting")
        starts = self.at(self.anchor + dt.timedelta(days=MEETING_DAYS), 14, 30)
        found: dict[str, str] = {}

        def call() -> None:
            made = self.book.call_meeting(
                CLERK, f"{key}:this", kind="representatives", members=REPRESENTATIVES_COUNT,
                agenda=["审议临街用房续租事项", "审议老旧小区改造二期加装电梯实施方案",
                        "通报近六个月财务收支"],
                place=PLACE, starts_at=starts,
            )  # fmt: skip
            found["this"] = str(made.result["id"])

        def notice() -> None:
            self.book.post_meeting_notice(
                CLERK,
                f"{key}:this:notice",
                found["this"],
                disclosure_id=self.ids[notice_item.slug],
            )

        self.then(self.anchor, 7, call)
        self.then(self.anchor, 12, notice)  # once the notice is on the board (11:00)
