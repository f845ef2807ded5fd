"""Benchmark of the street's compliance reports: the disclosure calendar's compliance
view (:func:`projections.compliance.compliance`) and the 十个防止 report
(:func:`projections.ten_preventions.ten_preventions`) for every community of a street,
cold and after a projection step.

Run by hand, never by the test suite; it prints tables and asserts nothing::

    .venv/bin/python -m bench.bench_compliance                     # 50 communities x 5 years
    .venv/bin/python -m bench.bench_compliance --communities 3 --years 1   # a quick check
    ... -m bench.bench_compliance [--communities N] [--years Y] [--rounds R] [--keep DIR]
        [--profile]

The record is made the way the ledger makes it: through the application API
(``Ledger``, ``CommunityLedger``), on SQLite, with eventsourcing's clock set to each
act's China time. Each community adopts the demo's calendar (``api.demo.script.CALENDAR``:
monthly finance and 低保 lists, the quarterly work plan, the year-end targets, matters
posted one by one, meetings posted before the fact, the long-term policies) and, for Y
years ending in December 2026, books its monthly finance entries and posts what it owes,
each item drafted, declared, submitted, reviewed at every stage the gates ask and
published; most on time, some late, some never, a few withdrawn, most archived after
their posting period; a few get residents' opinions (most answered) and one objection a
year (some verified). Then every read model (``projections.registry.all_projections``)
is caught up with ``ProjectionRunner``. Building 50 x 5 years takes about 2 minutes
(a full run 2.5): ``--keep DIR`` keeps the store there and uses it again when asked
for the same sizes (a run then takes about 15 s).

1. **Cold.** In a fresh process (its imports done), a new read-model connection
   computes the report for every community, judged on 2027-01-31: the compliance view
   alone, and separately the 十个防止 report (which includes it). A second pass in the
   same process is shown beside it (warm). The operating system's page cache is not
   dropped. Target: each under 2 s.
2. **After a projection step.** In a copy of the store, one community's clerk posts
   one more matter (drafted and reviewed beforehand, the read models caught up): its
   publication is one entry; the runner catches every projection up with it, and the
   street's report is computed again in the same process and connection, as the
   service would: through the communities' results kept under their projections'
   positions (``projections.kept_reports.KeptReports``, warmed by the street's reports
   before the first step, as a running service's would be), so that only the community
   that moved is computed again. Target: catch-up + street report under 100 ms, for
   each report. Beside it, untimed in the target: the street's report computed afresh
   for every community (what each step cost before the results were kept; it must
   agree with the kept one), and the one community that changed computed alone.

Medians of R (5) rounds, the variants interleaved; the results' digests must agree.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import hashlib
import io
import itertools
import json
import os
import platform
import pstats
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any, Final

# Run as a script, only bench/ is on sys.path: add the project's root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.demo.script import CALENDAR, EVERY_MONTH
from bench.bench_ledger import (
    Target,
    median,
    print_summary,
    print_table,
    progress,
    run_in_processes,
)
from ledger.application import CommunityLedger, Ledger
from ledger.domain.base import Actor
from ledger.domain.clock import HeldClock, held_at
from ledger.domain.obligation import Cadence
from ledger.domain.vocabulary import STAGE_NAMES, ReviewStage, Role
from ledger.errors import InvalidTransitionError
from ledger.store import open_store
from ledger.store.base import Community
from projections.calendar import calendar
from projections.compliance import MET, compliance, due_on, period_bounds, periods_owed
from projections.db import ReadDB, open_read_db
from projections.kept_reports import KeptReports
from projections.registry import all_projections
from projections.runner import ProjectionRunner, store_source
from projections.ten_preventions import ten_preventions

COLD_MAX: Final = 2.0  # seconds, the street's report from a fresh process
STEP_MAX: Final = 0.100  # seconds, catch-up of one entry + the street's report again
END_YEAR: Final = 2026
CHINA: Final = dt.timezone(dt.timedelta(hours=8))
FORMAT: Final = 1  # of the kept store: a change to how the record is made bumps it
LEDGER_FILE: Final = "ledger.sqlite3"
MANIFEST: Final = "manifest.json"
COMPLIANCE: Final = "compliance"
TEN: Final = "ten preventions"

CLERK: Final = Actor("李娜", Role.CLERK)
CHAIR: Final = Actor("王建国", Role.COMMITTEE_CHAIR)
MEMBER: Final = Actor("陈红梅", Role.COMMITTEE_MEMBER)
PARTY: Final = Actor("赵志刚", Role.PARTY_REVIEWER)
RESIDENT: Final = Actor("刘*华", Role.RESIDENT)
#: Who signs each stage: three people for the confidentiality review, the committee's
#: member for its 审核, the party branch's reviewer for its 审查.
REVIEWERS: Final[dict[ReviewStage, Actor]] = {
    ReviewStage.FIRST: CLERK,
    ReviewStage.SECOND: CHAIR,
    ReviewStage.FINAL: PARTY,
    ReviewStage.COMMITTEE: MEMBER,
    ReviewStage.PARTY_BRANCH: PARTY,
}
#: What becomes of a period owed, and how often.
ON_TIME, LATE, NEVER, WITHDRAWN = "on time", "late", "never", "withdrawn"
FATES: Final = ((ON_TIME, 0.82), (LATE, 0.11), (NEVER, 0.05), (WITHDRAWN, 0.02))
#: Days an item stays posted, by cadence (a meeting's notice: until the meeting).
POSTED_DAYS: Final = {
    Cadence.MONTHLY: 30,
    Cadence.QUARTERLY: 30,
    Cadence.YEAR_END: 60,
    Cadence.PER_MATTER: 15,
}
MATTERS_A_YEAR: Final = 4  # per-matter items, and meetings, a year


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--years", type=int, default=5, help=f"of record, ending {END_YEAR}")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--keep", type=Path, help="build the store here, or use the one already there"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the cold street 十个防止 report"
    )
    return parser.parse_args(argv)


# --- the record ---------------------------------------------------------------------------


@dataclass(slots=True)
class Clock:
    """The time the ledger stamps each event with, set before each act."""

    time: dt.datetime = dt.datetime(END_YEAR, 1, 1, 9, tzinfo=CHINA)
    held: HeldClock | None = None

    @property
    def now(self) -> dt.datetime:
        return self.time

    @now.setter
    def now(self, time: dt.datetime) -> None:
        self.time = time
        if self.held is not None:
            self.held.set(time)


@contextmanager
def clock_set(clock: Clock) -> Iterator[None]:
    """The ledger's clock is held at ``clock``'s time (ledger.domain.clock)."""
    with held_at(clock.time) as held:
        clock.held = held
        try:
            yield
        finally:
            clock.held = None


def key() -> str:
    return str(uuid.uuid4())


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)


@dataclass(frozen=True, slots=True)
class Duty:
    """One obligation of the community's calendar."""

    obligation_id: str
    slug: str
    title: str
    category: str
    cadence: Cadence
    due_days: int
    scope: str


@dataclass(slots=True)
class Plan:
    """One community's acts, each at its China time, played in time order."""

    book: CommunityLedger
    rng: random.Random
    today: dt.date
    acts: list[tuple[dt.datetime, int, Callable[[], object]]] = field(default_factory=list)
    _order: Iterator[int] = field(default_factory=itertools.count)

    def on(self, when: dt.datetime, act: Callable[[], object]) -> None:
        if when.date() <= self.today:
            self.acts.append((when, next(self._order), act))

    def play(self, clock: Clock) -> None:
        for when, _, act in sorted(self.acts, key=lambda a: (a[0], a[1])):
            clock.now = when
            act()


def stages_for(scope: str) -> list[ReviewStage]:
    """The stages the seeds' gates ask of an item of ``scope``."""
    secret = (
        [ReviewStage.FIRST, ReviewStage.SECOND, ReviewStage.FINAL] if scope != "public" else []
    )
    return [*secret, ReviewStage.COMMITTEE, ReviewStage.PARTY_BRANCH]


def review(book: CommunityLedger, did: str, stages: Sequence[ReviewStage]) -> None:
    for stage in stages:
        book.review(
            REVIEWERS[stage], key(), did, stage=stage.value, outcome="approved", opinion="同意"
        )


def named_stages(refusal: str) -> list[ReviewStage]:
    """The stages a refused publication names, in the order they are signed."""
    return [s for s in REVIEWERS if STAGE_NAMES[s] in refusal or f"({s.value})" in refusal]


def publish(book: CommunityLedger, box: dict[str, str], posted: dt.date, until: dt.date) -> None:
    """Publish; if the gates ask for a stage not yet reviewed, review it and publish."""
    for _ in range(3):
        try:
            book.publish(
                CLERK, key(), box["id"], channel="board",
                period_from=posted.isoformat(), period_until=until.isoformat(),
            )  # fmt: skip
            return
        except InvalidTransitionError as refusal:
            stages = named_stages(str(refusal))
            if not stages:
                raise
            review(book, box["id"], stages)
    raise RuntimeError(f"disclosure {box['id']} could not be published")


def draft(book: CommunityLedger, box: dict[str, str], duty: Duty, period: str) -> None:
    label = period or "长期"
    box["id"] = str(
        book.draft_disclosure(
            CLERK, key(), category=duty.category, scope=duty.scope,
            title=f"{duty.title}（{label}）",
            body=f"{duty.title}，{label}：详见附表。居民如有意见，可在公示期内向社区反映。",
            planned_from=f"{END_YEAR - 10}-01-01", planned_until=f"{END_YEAR + 10}-12-31",
        ).result["id"]
    )  # fmt: skip
    book.declare_coverage(CLERK, key(), box["id"], obligation_id=duty.obligation_id, period=period)
    book.submit_for_review(CLERK, key(), box["id"])
    review(book, box["id"], stages_for(duty.scope))


def leave_opinion(book: CommunityLedger, box: dict[str, str]) -> None:
    box["opinion"] = str(
        book.leave_opinion(
            RESIDENT, key(), box["id"], resident="刘*华", text="建议公布明细。", text_public=True
        ).result["opinion_id"]
    )


def answer_opinion(book: CommunityLedger, box: dict[str, str]) -> None:
    book.answer_opinion(CLERK, key(), box["id"], box["opinion"], answer="已补充明细，谢谢。")


def raise_objection(book: CommunityLedger, box: dict[str, str]) -> None:
    box["objection"] = str(
        book.raise_objection(
            RESIDENT, key(), box["id"], disclosure_version=1, objector="刘*华",
            form="written", content="公示的家庭人口与实际不符。",
        ).result["id"]
    )  # fmt: skip


def settle_objection(book: CommunityLedger, box: dict[str, str], verified: bool) -> None:
    if verified:
        book.verify_objection(PARTY, key(), box["objection"], finding="经核实，反映属实。")
    else:
        book.dismiss_objection(PARTY, key(), box["objection"], reason="经核实，公示无误。")


def fate(rng: random.Random) -> str:
    return rng.choices([f for f, _ in FATES], [w for _, w in FATES])[0]


def post_item(
    plan: Plan, duty: Duty, period: str, posted: dt.date | None, until: dt.date, what: str
) -> dict[str, str]:
    """Plan one item: drafted and reviewed a day or two before ``posted`` (never posted
    when None), published, then as its fate and luck say (:func:`afterwards`)."""
    box: dict[str, str] = {}
    book, rng = plan.book, plan.rng
    drafted = (posted or until) - dt.timedelta(days=rng.randint(0, 2))
    plan.on(at(drafted, 9, rng.randint(0, 50)), functools.partial(draft, book, box, duty, period))
    if posted is not None:
        plan.on(at(posted, 15), functools.partial(publish, book, box, posted, until))
        afterwards(plan, box, duty.scope, posted, until, what)
    return box


def afterwards(
    plan: Plan, box: dict[str, str], scope: str, posted: dt.date, until: dt.date, what: str
) -> None:
    """A posted item withdrawn (its fate), given a resident's opinion (1 in 12 public
    items, most answered the same day), and archived after its posting period (9 in 10,
    unless an opinion waits)."""
    book, rng = plan.book, plan.rng
    down = posted + dt.timedelta(days=rng.randint(3, 10)) if what == WITHDRAWN else None
    if down is not None:
        plan.on(at(down, 10), lambda: book.withdraw(CLERK, key(), box["id"], reason="内容需更正"))
    waiting = False
    if scope == "public" and rng.random() < 0.08:
        opined = posted + dt.timedelta(days=2)
        plan.on(at(opined, 11), functools.partial(leave_opinion, book, box))
        waiting = rng.random() >= 0.85
        if not waiting:
            plan.on(at(opined, 16), functools.partial(answer_opinion, book, box))
    if not waiting and rng.random() < 0.9:
        last = max(until, down or until, posted + dt.timedelta(days=2))
        archived = last + dt.timedelta(days=rng.randint(1, 15))
        plan.on(at(archived, 17), lambda: book.archive(CLERK, key(), box["id"]))


def periodic(plan: Plan, duty: Duty, since: dt.date) -> list[tuple[dict[str, str], dt.date]]:
    """Every period a monthly, quarterly or year-end duty owes; answers the items
    posted, with the day each was."""
    rng, posted_items = plan.rng, []
    for period in periods_owed(duty.cadence, since, plan.today):
        _, last = period_bounds(duty.cadence, period)
        due = due_on(duty.cadence, period, duty.due_days)
        assert due is not None
        what = fate(rng)
        if what == NEVER and rng.random() < 0.5:
            continue  # not even drafted
        if what == LATE:
            posted: dt.date | None = due + dt.timedelta(days=rng.randint(1, 30))
        elif what == NEVER:
            posted = None
        else:
            posted = last + dt.timedelta(days=rng.randint(1, max(1, (due - last).days)))
        until = (posted or due) + dt.timedelta(days=POSTED_DAYS[duty.cadence])
        box = post_item(plan, duty, period, posted, until, what)
        if posted is not None:
            posted_items.append((box, posted))
    return posted_items


def matters(plan: Plan, duty: Duty, since: dt.date) -> None:
    """Matters posted one by one, and meetings posted before the fact: a few a year."""
    rng, before = plan.rng, duty.cadence is Cadence.BEFORE_THE_FACT
    for year in range(since.year, plan.today.year):
        for _ in range(MATTERS_A_YEAR):
            day = dt.date(year, 1, 15) + dt.timedelta(days=rng.randint(0, 340))
            what = fate(rng)
            if before:  # due_days before the meeting; late: after that
                early = rng.randint(duty.due_days, duty.due_days + 10)
                posted: dt.date | None = day - dt.timedelta(days=early)
                if what == LATE:
                    posted = day - dt.timedelta(days=rng.randint(0, duty.due_days - 1))
                until = day
            else:
                posted = day + dt.timedelta(days=rng.randint(0, duty.due_days))
                if what == LATE:
                    posted = day + dt.timedelta(days=duty.due_days + rng.randint(1, 20))
                until = posted + dt.timedelta(days=POSTED_DAYS[duty.cadence])
            post_item(plan, duty, day.isoformat(), None if what == NEVER else posted, until, what)


def long_term(plan: Plan, duty: Duty, since: dt.date, withdrawn: bool) -> None:
    """The policies, posted for good; in some communities taken down and posted again."""
    until = dt.date(END_YEAR + 5, 12, 31)
    first = since + dt.timedelta(days=3)
    box = post_item(plan, duty, "", first, until, ON_TIME)
    if withdrawn:
        down = dt.date(since.year + (plan.today.year - since.year) // 2, 6, 1)
        plan.on(at(down, 10), lambda: plan.book.withdraw(CLERK, key(), box["id"], reason="修订"))
        post_item(plan, duty, "", down + dt.timedelta(days=30), until, ON_TIME)


def objections(plan: Plan, posted: list[tuple[dict[str, str], dt.date]]) -> None:
    """One objection a year, on a posted 低保 list; two in five are verified."""
    rng = plan.rng
    by_year: dict[int, list[tuple[dict[str, str], dt.date]]] = {}
    for box, day in posted:
        by_year.setdefault(day.year, []).append((box, day))
    for year_items in by_year.values():
        box, day = rng.choice(year_items)
        plan.on(
            at(day + dt.timedelta(days=1), 14), functools.partial(raise_objection, plan.book, box)
        )
        verified = rng.random() < 0.4
        settled = at(day + dt.timedelta(days=2), 10)
        plan.on(settled, functools.partial(settle_objection, plan.book, box, verified))


def finance(plan: Plan, since: dt.date) -> None:
    """The month's regular entries, booked early in the next month."""
    for period in periods_owed(Cadence.MONTHLY, since, plan.today):
        _, last = period_bounds(Cadence.MONTHLY, period)
        booked = at(last + dt.timedelta(days=3), 11)
        for line in EVERY_MONTH:
            plan.on(
                booked,
                functools.partial(
                    plan.book.record_entry, CLERK, key(), kind=line.kind.value,
                    amount_fen=line.amount_fen, account=line.account,
                    counterparty=line.counterparty, memo=line.memo, period=period,
                    voucher_sha256=hashlib.sha256(f"{period}{line.slug}".encode()).hexdigest(),
                ),
            )  # fmt: skip


def adopt_calendar(book: CommunityLedger, clock: Clock, since: dt.date, extra: bool) -> list[Duty]:
    """The demo's calendar, adopted by the clerk and approved by the chair; with
    ``extra``, one more adopted and never approved."""
    clock.now = at(since, 9)
    duties = []
    for slug, title, category, cadence, due_days, scope, basis in CALENDAR:
        oid = str(
            book.adopt_obligation(
                CLERK, key(), title=title, category=category, cadence=cadence,
                due_days=due_days, scope=scope, basis=basis,
            ).result["id"]
        )  # fmt: skip
        book.approve_obligation(CHAIR, key(), oid, opinion="同意")
        duties.append(Duty(oid, slug, title, category, Cadence(cadence), due_days, scope))
    if extra:
        book.adopt_obligation(
            CLERK, key(), title="物业服务收费情况", category="resident_requests",
            cadence="quarterly", due_days=15, scope="public",
        )  # fmt: skip
    return duties


def make_community(ledger: Ledger, n: int, years: int, today: dt.date, seed: int) -> int:
    """Community ``n``'s whole record; answers its entries."""
    clock = Clock()
    since = dt.date(END_YEAR - years + 1, 1, 2)
    with clock_set(clock):
        clock.now = at(since, 8)
        book = ledger.add_community(Community(community_id(n), f"海秀街道第{n + 1}社区"))
        duties = adopt_calendar(book, clock, since, extra=n % 10 == 3)
        plan = Plan(book, random.Random(seed * 1000 + n), today)
        finance(plan, since)
        for duty in duties:
            if duty.cadence in (Cadence.MONTHLY, Cadence.QUARTERLY, Cadence.YEAR_END):
                posted = periodic(plan, duty, since)
                if duty.category == "social_assistance":
                    objections(plan, posted)
            elif duty.cadence is Cadence.LONG_TERM:
                long_term(plan, duty, since, withdrawn=n % 5 == 1)
            else:
                matters(plan, duty, since)
        plan.play(clock)
    return book.head().seq


def community_id(n: int) -> str:
    return f"c{n + 1:02d}"


# --- the store: built, kept, caught up -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Built:
    """The store and what making it took."""

    url: str
    directory: Path
    communities: list[str]
    entries: int
    build_seconds: float
    catch_up_seconds: float
    reused: bool


def store_url(directory: Path) -> str:
    return f"sqlite:///{directory / LEDGER_FILE}"


def wanted(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "communities": args.communities,
        "years": args.years,
        "seed": args.seed,
    }


def kept(directory: Path, args: argparse.Namespace) -> Built | None:
    """The store kept in ``directory`` if it was built for these sizes."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if {k: manifest.get(k) for k in wanted(args)} != wanted(args):
        return None
    return Built(
        store_url(directory), directory,
        [community_id(n) for n in range(args.communities)], manifest["entries"],
        manifest["build_seconds"], manifest["catch_up_seconds"], reused=True,
    )  # fmt: skip


def build(directory: Path, args: argparse.Namespace, today: dt.date) -> Built:
    """Make the street's record in ``directory`` and catch the read models up."""
    for old in directory.glob(f"{Path(LEDGER_FILE).stem}*"):
        old.unlink()
    (directory / MANIFEST).unlink(missing_ok=True)
    url = store_url(directory)
    store = open_store(url)
    store.init_schema()
    entries, started = 0, time.perf_counter()
    with Ledger(store) as ledger:
        for n in range(args.communities):
            entries += make_community(ledger, n, args.years, today, args.seed)
            progress(
                f"community {n + 1} of {args.communities}: {entries:,} entries so far, "
                f"{time.perf_counter() - started:.0f} s"
            )
    build_seconds = time.perf_counter() - started
    ids = [community_id(n) for n in range(args.communities)]
    catch_up_seconds = catch_up_all(url, ids)
    manifest = {**wanted(args), "entries": entries, "build_seconds": build_seconds,
                "catch_up_seconds": catch_up_seconds}  # fmt: skip
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Built(url, directory, ids, entries, build_seconds, catch_up_seconds, reused=False)


def catch_up_all(url: str, communities: Sequence[str]) -> float:
    """Seconds to catch every read model up with every community, from nothing."""
    with open_store(url) as store:
        db = open_read_db(url)
        try:
            runner = ProjectionRunner(db, all_projections(), store_source(store))
            runner.setup()
            started = time.perf_counter()
            for cid in communities:
                runner.catch_up(cid)
            seconds = time.perf_counter() - started
        finally:
            db.close()
    progress(f"read models caught up in {seconds:.1f} s")
    return seconds


def file_sizes(directory: Path) -> dict[str, tuple[int, int]]:
    """Files and bytes: the ledger's (its index and one file per community's chain) and
    the read models', each with its WAL."""
    found: dict[str, tuple[int, int]] = {}
    for path in directory.glob("*.sqlite3*"):
        what = "read models" if ".projections." in path.name else "ledger"
        files, size = found.get(what, (0, 0))
        found[what] = (
            files + (not path.name.endswith(("-wal", "-shm"))),
            size + path.stat().st_size,
        )
    return found


def table_rows(url: str) -> dict[str, int]:
    """Rows of each read model's tables."""
    db = open_read_db(url)
    try:
        found = {}
        with db.reading() as tx:
            for projection in all_projections():
                for table in projection.tables():
                    found[table] = int(tx.query(f"SELECT count(*) FROM {table}")[0][0])
        return found
    finally:
        db.close()


# --- the reports ------------------------------------------------------------------------------

Report = Callable[[ReadDB, str, dt.date], Any]
REPORTS: Final[dict[str, Report]] = {COMPLIANCE: compliance, TEN: ten_preventions}


def street(
    db: ReadDB,
    what: str,
    communities: Sequence[str],
    today: dt.date,
    reports: KeptReports | None = None,
) -> list[Any]:
    """The street's report, computed afresh, or through ``reports`` as the service does."""
    report = REPORTS[what] if reports is None else kept_report(reports, what)
    return [report(db, cid, today) for cid in communities]


def kept_report(reports: KeptReports, what: str) -> Report:
    return {COMPLIANCE: reports.compliance, TEN: reports.ten_preventions}[what]


def digest(results: list[Any]) -> str:
    """The results, in short: equal digests, equal reports."""
    return hashlib.sha256(repr(results).encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class ColdJob:
    url: str
    what: str
    communities: list[str]
    today: dt.date
    profile: bool = False


@dataclass(frozen=True, slots=True)
class ColdResult:
    cold: float
    warm: float
    digest: str
    profile: str = ""


def cold_report(job: ColdJob, barrier: Barrier) -> ColdResult:
    """In a fresh process: the street's report on a new connection, then once more."""
    barrier.wait()
    profiler = cProfile.Profile() if job.profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    db = open_read_db(job.url, create=False)
    results = street(db, job.what, job.communities, job.today)
    if profiler is not None:
        profiler.disable()
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = street(db, job.what, job.communities, job.today)
    warm = time.perf_counter() - started
    db.close()
    if digest(again) != digest(results):
        raise RuntimeError("the warm pass disagrees with the cold one")
    shown = ""
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        shown = out.getvalue()
    return ColdResult(cold, warm, digest(results), shown)


def measure_cold(built: Built, today: dt.date, rounds: int) -> dict[str, list[ColdResult]]:
    found: dict[str, list[ColdResult]] = {COMPLIANCE: [], TEN: []}
    for round_ in range(rounds):
        for what in found:  # interleaved
            job = ColdJob(built.url, what, built.communities, today)
            (result,) = run_in_processes(cold_report, [job])
            found[what].append(result)
            progress(f"round {round_ + 1}: cold {what}: {result.cold * 1000:,.0f} ms")
    return found


def profile_cold(built: Built, today: dt.date) -> str:
    job = ColdJob(built.url, TEN, built.communities, today, profile=True)
    (result,) = run_in_processes(cold_report, [job])
    return result.profile


# --- after a projection step -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    what: str
    catch_up: float
    street: float  # through the kept results
    afresh: float  # every community computed again, as before they were kept
    one: float
    computed: int  # communities the kept street report computed again

    @property
    def total(self) -> float:
        return self.catch_up + self.street

    @property
    def total_afresh(self) -> float:
        return self.catch_up + self.afresh


def matter_duty(db: ReadDB, cid: str) -> str:
    """The community's per-matter obligation."""
    for view in calendar(db, cid):
        if view.value("cadence") == Cadence.PER_MATTER.value:
            return view.obligation_id
    raise RuntimeError(f"{cid} has no per-matter obligation")


def one_step(
    ledger: Ledger,
    runner: ProjectionRunner,
    reports: KeptReports,
    cid: str,
    what: str,
    today: dt.date,
    n: int,
) -> Step:
    """A matter drafted and reviewed (caught up, untimed), its publication recorded,
    then timed: catching up that one entry and the street's report again through the
    kept results; then, for comparison, the street's report computed afresh."""
    db, book, clock = runner.db, ledger.community(cid), Clock(at(today, 10, n % 60))
    communities = [c.id for c in ledger.store.communities()]
    duty = Duty(matter_duty(db, cid), "matters", "重大事项", "council_decisions",
                Cadence.PER_MATTER, 5, "public")  # fmt: skip
    box: dict[str, str] = {}
    with clock_set(clock):
        draft(book, box, duty, (today - dt.timedelta(days=1)).isoformat())
        runner.catch_up(cid)
        publish(book, box, today, today + dt.timedelta(days=15))
    misses = reports.misses
    started = time.perf_counter()
    applied = runner.catch_up(cid)
    caught_up = time.perf_counter()
    results = street(db, what, communities, today, reports)
    done = time.perf_counter()
    afresh = street(db, what, communities, today)
    recomputed = time.perf_counter()
    REPORTS[what](db, cid, today)
    one = time.perf_counter() - recomputed
    if digest(results) != digest(afresh):
        raise RuntimeError(f"the kept street {what} disagrees with the one computed afresh")
    if applied != len(runner.projections):
        raise RuntimeError(f"the step applied {applied} entries, not one to each projection")
    shown = [
        w for _, owed in compliance(db, cid, today) for w in owed if box["id"] in w.disclosures
    ]
    if [w.status for w in shown] != [MET]:
        raise RuntimeError(f"the matter posted in {cid} shows as {shown}")
    return Step(what, caught_up - started, done - caught_up, recomputed - done, one,
                reports.misses - misses)  # fmt: skip


def measure_steps(built: Built, workdir: Path, today: dt.date, rounds: int) -> list[Step]:
    """In a copy of the store (the kept one stays as built), a step per report and round."""
    copy = workdir / "step"
    copy.mkdir()
    for path in built.directory.glob("*.sqlite3*"):
        shutil.copy2(path, copy / path.name)
    url = store_url(copy)
    steps = []
    with Ledger(open_store(url)) as ledger:
        db = open_read_db(url, create=False)
        try:
            runner = ProjectionRunner(db, all_projections(), store_source(ledger.store))
            runner.setup()
            for cid in built.communities:  # nothing to do: opens the connection
                runner.catch_up(cid)
            reports = KeptReports()
            for what in (COMPLIANCE, TEN):  # as a running service would have
                street(db, what, built.communities, today, reports)
            for round_ in range(rounds):
                for n, what in enumerate((COMPLIANCE, TEN)):
                    cid = built.communities[(2 * round_ + n) % len(built.communities)]
                    step = one_step(ledger, runner, reports, cid, what, today, 2 * round_ + n)
                    steps.append(step)
                    progress(
                        f"round {round_ + 1}: step in {cid}, {what}: catch-up "
                        f"{step.catch_up * 1000:.1f} ms + street {step.street * 1000:.1f} ms "
                        f"(afresh {step.afresh * 1000:.0f} ms)"
                    )
        finally:
            db.close()
    return steps


# --- what it found, and the tables -------------------------------------------------------------


def findings(url: str, communities: Sequence[str], today: dt.date) -> list[list[str]]:
    """The street's totals: what the compliance view and the 十个防止 found."""
    db = open_read_db(url, create=False)
    try:
        statuses: Counter[str] = Counter()
        for result in street(db, COMPLIANCE, communities, today):
            for _, owed in result:
                statuses.update(w.status for w in owed)
                statuses["expired (still posted)"] += sum(bool(w.expired) for w in owed)
        ten: Counter[tuple[str, str]] = Counter()
        for result in street(db, TEN, communities, today):
            for p in result:
                ten[(p.key, p.name)] += len(p.findings) if p.computable else 0
    finally:
        db.close()
    return [
        *[
            [f"compliance: {status}", f"{count:,}", ""]
            for status, count in sorted(statuses.items())
        ],
        *[[f"ten preventions: {k}", f"{count:,}", name] for (k, name), count in ten.items()],
    ]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def print_record(built: Built, today: dt.date) -> None:
    n = len(built.communities)
    sizes, rows_of = file_sizes(built.directory), table_rows(built.url)
    rows = [
        ["communities", f"{n}"],
        ["entries (events), all communities", f"{built.entries:,}"],
        ["entries per community", f"{built.entries / n:,.0f}"],
        ["built through the API in", f"{built.build_seconds:,.0f} s"
         + (" (kept from an earlier run)" if built.reused else "")],
        ["every read model caught up in", f"{built.catch_up_seconds:,.1f} s "
         f"({built.entries / built.catch_up_seconds:,.0f} entries/s)"],
        *[[f"{what}: {files} files", f"{size / 2**20:,.1f} MiB"]
          for what, (files, size) in sizes.items()],
        *[[f"rows {table}", f"{count:,}"] for table, count in rows_of.items()],
        ["rows, every read model", f"{sum(rows_of.values()):,}"],
    ]  # fmt: skip
    print_table(f"The street's record (judged on {today})", ["what", "value"], rows, left=1)
    print_table(
        "What the reports find, street totals",
        ["what", "count", "name"],
        findings(built.url, built.communities, today),
    )


def print_cold(cold: dict[str, list[ColdResult]], n: int) -> None:
    rows = []
    for what, results in cold.items():
        digests = {r.digest for r in results}
        if len(digests) != 1:
            raise RuntimeError(f"cold {what}: the rounds disagree: {digests}")
        seconds = median([r.cold for r in results])
        rows.append([
            what, ms(seconds), ms(seconds / n), ms(median([r.warm for r in results])),
            " ".join(f"{r.cold * 1000:.0f}" for r in results), digests.pop(),
        ])  # fmt: skip
    print_table(
        f"Cold: the street's report ({n} communities) from a fresh process and connection (ms)",
        ["report", "cold", "per community", "warm, same process", "each round", "digest"],
        rows,
    )


def print_steps(steps: list[Step]) -> None:
    rows = []
    for what in (COMPLIANCE, TEN):
        mine = [s for s in steps if s.what == what]
        rows.append([
            what, ms(median([s.catch_up for s in mine])), ms(median([s.street for s in mine])),
            ms(median([s.total for s in mine])), " ".join(f"{s.total * 1000:.1f}" for s in mine),
            ",".join(str(s.computed) for s in mine), ms(median([s.afresh for s in mine])),
            ms(median([s.total_afresh for s in mine])), ms(median([s.one for s in mine])),
        ])  # fmt: skip
    print_table(
        "After a projection step: one publication caught up, the street's report again "
        "through the kept results; beside it, computed afresh (ms)",
        ["report", "catch-up", "street, kept", "catch-up + street", "each round",
         "computed again", "street afresh", "catch-up + afresh", "one community"],
        rows,
    )  # fmt: skip


def summary(cold: dict[str, list[ColdResult]], steps: list[Step]) -> list[Target]:
    targets = []
    for what in (COMPLIANCE, TEN):
        seconds = median([r.cold for r in cold[what]])
        targets.append(
            Target(f"cold street {what}", f"< {COLD_MAX:g} s", f"{ms(seconds)} ms",
                   seconds < COLD_MAX)
        )  # fmt: skip
        total = median([s.total for s in steps if s.what == what])
        targets.append(
            Target(f"step + street {what}", f"< {STEP_MAX * 1000:.0f} ms", f"{ms(total)} ms",
                   total < STEP_MAX)
        )  # fmt: skip
    return targets


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    today = dt.date(END_YEAR + 1, 1, 31)
    print("gongkai street compliance benchmark")
    print(
        f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs; {args.communities} communities x {args.years} years "
        f"({END_YEAR - args.years + 1}-01 to {END_YEAR}-12), judged on {today}; "
        f"{args.rounds} rounds, medians"
    )
    sys.stdout.flush()
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-compliance-") as scratch:
        workdir = Path(scratch)
        directory = args.keep or workdir / "street"
        directory.mkdir(parents=True, exist_ok=True)
        built = kept(directory, args) if args.keep else None
        if built is None:
            progress(f"building the street's record in {directory}")
            built = build(directory, args, today)
        else:
            progress(f"using the record kept in {directory}")
        print_record(built, today)
        cold = measure_cold(built, today, args.rounds)
        print_cold(cold, len(built.communities))
        if args.profile:
            print("\ncProfile of the cold street 十个防止 report (cumulative)")
            print(profile_cold(built, today))
        steps = measure_steps(built, workdir, today, args.rounds)
        print_steps(steps)
        print_summary(summary(cold, steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
