"""The residents' voice in the demo's story: the objections to two items of today's
month, the opinions on two, the representative's inquiries of last month and a report
to the street disciplinary committee."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from api.demo.acts import Demo, on_day
from api.demo.script import (
    AUDITOR,
    CHAIR,
    CLERK,
    CONFIDENTIALITY,
    CORRECTION_OPINION,
    DIBAO,
    DIBAO_CORRECTED,
    DIBAO_EXPLANATION,
    DIBAO_FINDING,
    DIBAO_OBJECTION,
    ELEVATOR_DISMISSAL,
    ELEVATOR_OBJECTION,
    LIFT_INQUIRY,
    MEETING_OPINION,
    MEMBER,
    PARKING_ANSWER,
    PARKING_OPINION,
    PARTY,
    PARTY_OPINION,
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
)
from ledger.application.community import SYSTEM
from ledger.domain.vocabulary import ObjectionForm, ReviewOutcome, ReviewStage
from ledger.domain.working_days import deadline
from ledger.errors import InvalidInputError
from ledger.sealed_identity import ReportKey


@dataclass(slots=True)
class ResidentsDemo(Demo):
    """The demo's acts of residents and of those who answer them."""

    def objections(self, ctx: dict[str, str]) -> None:
        """A written objection to the 低保 list on the 2nd, verified by the party branch
        and corrected on the 3rd and 4th; an oral objection to the elevator tender on the
        2nd, dismissed on the 3rd."""
        key = f"demo:{self.anchor:%Y-%m}:objection"
        day = self.anchor
        found: dict[str, str] = {}

        def raise_written() -> None:
            written = self.book.raise_objection(
                RESIDENT,
                f"{key}:dibao",
                self.ids["dibao"],
                disclosure_version=1,  # the 低保 list was posted as first drafted
                objector="刘*华（3号楼居民）",
                form=ObjectionForm.WRITTEN,
                content=DIBAO_OBJECTION.format_map(ctx),
            )
            found["dibao"] = str(written.result["id"])

        def verify_and_draft() -> None:
            dibao = found["dibao"]
            finding = DIBAO_FINDING.format_map(ctx)
            self.book.verify_objection(PARTY, f"{key}:dibao:verify", dibao, finding=finding)
            self.book.draft_correction(
                CLERK,
                f"{key}:dibao:draft",
                dibao,
                title="{py}年{pm}月城市最低生活保障金发放公示（更正）".format_map(ctx),
                body=DIBAO.format_map({**ctx, **DIBAO_CORRECTED}),
                explanation=DIBAO_EXPLANATION,
            )

        def review_and_correct() -> None:
            # Reviewed as the list was: it went through 保密审查, so this does.
            steps = (
                *CONFIDENTIALITY,
                (ReviewStage.COMMITTEE, MEMBER, CORRECTION_OPINION),
                (ReviewStage.PARTY_BRANCH, PARTY, PARTY_OPINION),
            )
            for stage, reviewer, opinion in steps:
                self.book.review_correction(
                    reviewer,
                    f"{key}:dibao:{stage}",
                    found["dibao"],
                    stage=stage,
                    outcome=ReviewOutcome.APPROVED,
                    opinion=opinion,
                )
            self.book.publish_correction(CLERK, f"{key}:dibao:correct", found["dibao"])

        def raise_oral() -> None:
            # An oral objection is recorded by the clerk on the resident's behalf.
            oral = self.book.raise_objection(
                CLERK,
                f"{key}:elevators",
                self.ids["elevators"],
                disclosure_version=1,
                objector="孙*明（7号楼居民，来电口头反映）",
                form=ObjectionForm.ORAL,
                content=ELEVATOR_OBJECTION,
            )
            found["elevators"] = str(oral.result["id"])

        def dismiss() -> None:
            self.book.dismiss_objection(
                CHAIR, f"{key}:elevators:dismiss", found["elevators"], reason=ELEVATOR_DISMISSAL
            )

        self.then(on_day(day, 2), 10, raise_written)
        self.then(on_day(day, 2), 16, raise_oral)
        self.then(on_day(day, 3), 11, verify_and_draft)
        self.then(on_day(day, 3), 15, dismiss)
        self.then(on_day(day, 4), 10, review_and_correct)

    def opinions(self) -> None:
        """A resident's opinion on the parking fees on the 2nd, answered by the clerk in
        public on the 3rd; a representative's on the meeting on the 3rd, its text kept
        private and not yet answered."""
        key = f"demo:{self.anchor:%Y-%m}:opinion"
        day = self.anchor
        found: dict[str, str] = {}

        def parking() -> None:
            left = self.book.leave_opinion(
                RESIDENT,
                f"{key}:parking",
                self.ids["parking"],
                resident=RESIDENT.name,
                text=PARKING_OPINION,
                text_public=True,
            )
            found["parking"] = str(left.result["opinion_id"])

        def answer() -> None:
            self.book.answer_opinion(
                CLERK,
                f"{key}:parking:answer",
                self.ids["parking"],
                found["parking"],
                answer=PARKING_ANSWER,
            )

        def meeting() -> None:
            self.book.leave_opinion(
                REPRESENTATIVE,
                f"{key}:reps-meeting",
                self.ids["reps-meeting"],
                resident=REPRESENTATIVE.name,
                text=MEETING_OPINION,
                text_public=False,
            )

        self.then(on_day(day, 2), 15, parking)
        self.then(on_day(day, 3), 9, answer, minute=30)
        self.then(on_day(day, 3), 16, meeting)

    # --- inquiries and a report -----------------------------------------------------------

    def inquiries(self) -> int:
        """Two inquiries filed by the representative on the 20th of last month: one the
        clerk answered the next day, one left unanswered and escalated by the service a
        week on, awaiting the committee's meeting. None when the working-day calendar
        cannot count their deadline (a year whose holidays it does not know yet): the
        ledger would refuse them. Answers how many are filed."""
        key = f"demo:{self.anchor:%Y-%m}:inquiry"
        filed = on_day(self.months[-1], 20)
        try:
            deadline(filed)
        except InvalidInputError:
            return 0
        found: dict[str, str] = {}

        def file(at: dt.datetime) -> None:
            for slug, question, on_behalf_of in (
                ("rent", RENT_INQUIRY, "临街住户"),
                ("lift", LIFT_INQUIRY, "3号楼、5号楼低层住户"),
            ):
                made = self.book.file_inquiry(
                    REPRESENTATIVE,
                    f"{key}:{slug}",
                    representative=REPRESENTATIVE.name,
                    question=question,
                    on_behalf_of=on_behalf_of,
                    now=at,
                )
                found[slug] = str(made.result["id"])

        def answer(at: dt.datetime) -> None:
            self.book.answer_inquiry(
                CLERK, f"{key}:rent:answer", found["rent"], answer=RENT_ANSWER, now=at
            )

        def escalate(at: dt.datetime) -> None:
            # As the service's worker did once its deadline had passed: the record is
            # whole when the demo is made, and a worker finds nothing more to do.
            self.book.escalate_inquiry(SYSTEM, found["lift"], now=at)

        self.story.schedule(self.at(filed, 10), file)
        self.story.schedule(self.at(filed + dt.timedelta(days=1), 10), answer)
        self.story.schedule(self.at(filed + dt.timedelta(days=7), 10), escalate)
        return 2

    def report(self, report_key: ReportKey) -> None:
        """The committee's key registered, and one report filed on the 25th of last
        month at 20:00, acknowledged the next morning and being investigated."""
        month = f"demo:{self.anchor:%Y-%m}"
        filed = on_day(self.months[-1], 25)
        found: dict[str, str] = {}

        def file(at: dt.datetime) -> None:
            if self.book.report_key() != report_key:
                self.book.register_report_key(
                    AUDITOR, f"{month}:report-key", public_key=report_key.line
                )
            made = self.book.file_report(
                RESIDENT,
                f"{month}:report",
                subject=REPORT_SUBJECT,
                text=REPORT_TEXT,
                name=REPORTER_NAME,
                contact=REPORTER_CONTACT,
                now=at,
            )
            found["id"] = str(made.result.result["id"])

        def handle() -> None:
            self.book.acknowledge_report(
                AUDITOR, f"{month}:report:ack", found["id"], note=REPORT_ACKNOWLEDGEMENT
            )
            self.book.record_investigation_step(
                AUDITOR, f"{month}:report:step", found["id"], step=REPORT_STEP
            )

        self.story.schedule(self.at(filed, 20), file)
        self.then(filed + dt.timedelta(days=1), 9, handle)
