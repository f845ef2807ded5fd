"""Benchmarks: the chained ledger against plain eventsourcing, on SQLite and PostgreSQL.

Run by hand, never by the test suite; it prints tables and asserts nothing::

    make bench     # GONGKAI_PG_DURABLE=1 .ci/with-postgres .venv/bin/python bench/bench_ledger.py
    .ci/with-postgres .venv/bin/python bench/bench_ledger.py --quick --only append

Three measurements:

1. **append**: saves/s of plain eventsourcing against the chained write path (chain and
   idempotency row in one transaction), per backend, events per save and writer count;
2. **verify**: events/s and peak memory of ``ledger.chain.verify.verify_store`` over N stored
   events, against a baseline that only reads the same rows and hashes each once;
3. **communities**: the chained write path on PostgreSQL, one community alone against two
   communities written at the same time by one process each.

The machine may be shared and noisy, so the variants compared are interleaved over a
few rounds (A, B, A, B, ...) and the tables report medians and ratios of medians. Every
measurement writes to a fresh community, table or file, so chains do not grow from one
cell to the next. Without ``GONGKAI_TEST_PG_ADMIN_URL`` the PostgreSQL rows are skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any, Final, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from ledger.application import Ledger
from ledger.chain.hashing import ChainedEvent, Head, chain_events
from ledger.chain.verify import verify_store
from ledger.domain.base import Actor
from ledger.domain.finance import FinanceEntry
from ledger.domain.ids import time_ordered_id
from ledger.domain.vocabulary import Role
from ledger.store import Store, open_store
from ledger.store.base import CommandRecord, Community, events_table
from ledger.store.sqlite import SQLiteStore

SQLITE: Final = "sqlite"
POSTGRES: Final = "postgres"
PLAIN: Final = "plain"
CHAIN_ONLY: Final = "chain only"
CHAINED: Final = "chained"
COMMAND: Final = "command"
OURS: Final = "ours"
BASELINE: Final = "baseline"
PARTS: Final = ("append", "verify", "communities")

# Targets.
APPEND_RATIO_MIN: Final = 0.85
VERIFY_RATIO_MIN: Final = 0.5
VERIFY_SQLITE_RATE_MIN: Final = 200_000
VERIFY_RSS_MAX_MB: Final = 150
COMMUNITIES_RATIO_MIN: Final = 1.6

CLERK: Final = Actor("李娜", Role.CLERK)
VOUCHER: Final = "ab" * 32
FINGERPRINT: Final = hashlib.sha256(b"gongkai bench").digest()
CHAIN_COLUMNS: Final = "seq, prev_hash, hash, originator_id, originator_version, topic, state"
# A child process that has not answered after its work time plus this is stuck.
CHILD_TIMEOUT_SECONDS: Final = 600

SPAWN = mp.get_context("spawn")
T = TypeVar("T")
J = TypeVar("J")


# --- configuration -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    """What to run and how big."""

    parts: tuple[str, ...]
    rounds: int
    seconds: float
    events: int
    batch: int
    quick: bool


@dataclass(slots=True)
class Run:
    """One benchmark run: its configuration, scratch directory and PostgreSQL server."""

    config: Config
    workdir: Path
    pg_url: str | None
    token: str = field(default_factory=lambda: secrets.token_hex(3))
    _counter: Iterator[int] = field(default_factory=itertools.count)
    _schema_ready: set[str] = field(default_factory=set)

    @property
    def backends(self) -> list[str]:
        return [SQLITE, POSTGRES] if self.pg_url else [SQLITE]

    def fresh_name(self, prefix: str) -> str:
        """A new community / schema / file name, unique within this run and database."""
        return f"{prefix}_{self.token}_{next(self._counter)}"

    def require_pg(self) -> str:
        if not self.pg_url:
            raise RuntimeError("no PostgreSQL: run under .ci/with-postgres")
        return self.pg_url

    def store_url(self, backend: str) -> str:
        """The ledger's store on ``backend``: every community of the run lives there."""
        if backend == SQLITE:
            return f"sqlite:///{self.workdir / 'ledger.sqlite3'}"
        return self.require_pg()

    def open_store(self, backend: str) -> Store:
        """The ledger's store on ``backend``, its schema created on first use."""
        store = open_store(self.store_url(backend))
        if backend not in self._schema_ready:
            store.init_schema()
            self._schema_ready.add(backend)
        return store


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run, small sizes")
    parser.add_argument("--only", choices=PARTS, help="run one measurement only")
    parser.add_argument("--events", type=int, help="events stored for verify (1,000,000)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per variant (3)")
    parser.add_argument("--seconds", type=float, help="write time per append cell (3)")
    args = parser.parse_args(argv)
    quick: bool = args.quick
    events: int = args.events or (20_000 if quick else 1_000_000)
    return Config(
        parts=(args.only,) if args.only else PARTS,
        rounds=args.rounds or (1 if quick else 3),
        seconds=args.seconds or (1.0 if quick else 3.0),
        events=events,
        batch=min(50_000, events),
        quick=quick,
    )


# --- output ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """One target of the summary."""

    name: str
    goal: str
    measured: str
    passed: bool


def progress(message: str) -> None:
    """Progress goes to stderr, so that stdout holds only the tables."""
    print(f"  .. {message}", file=sys.stderr, flush=True)


def print_table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1
) -> None:
    """Print a plain-text table; the first ``left`` columns are left-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(f"\n{title}")
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    sys.stdout.flush()


def rate(value: float) -> str:
    return f"{value:,.0f}"


def ratio(value: float) -> str:
    return f"{value:.2f}"


def spread(values: Sequence[float]) -> str:
    """The per-round values, for a feel of the noise."""
    return " ".join(ratio(v) for v in values)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def print_header(run: Run) -> None:
    config = run.config
    print("gongkai benchmarks" + (" (--quick: small sizes, not for conclusions)" * config.quick))
    print(
        f"python {platform.python_version()}, eventsourcing {version('eventsourcing')}, "
        f"psycopg {psycopg.__version__}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs"
    )
    if run.pg_url:
        with psycopg.connect(run.pg_url) as conn:
            shown = {
                name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
                for name in ("server_version", "fsync", "synchronous_commit")
            }
        values = {name: row[0] if row else "?" for name, row in shown.items()}
        print(
            f"PostgreSQL {values['server_version']}: fsync={values['fsync']}, "
            f"synchronous_commit={values['synchronous_commit']}"
        )
    else:
        print("PostgreSQL: none (GONGKAI_TEST_PG_ADMIN_URL unset), PostgreSQL rows skipped")
    print(
        f"rounds {config.rounds} (variants interleaved), {config.seconds:g} s per append "
        f"measurement, verify over {config.events:,} events; medians of the rounds"
    )
    sys.stdout.flush()


# --- child processes ---------------------------------------------------------------------


def _child_main(
    work: Callable[[J, Barrier], T], index: int, job: J, barrier: Barrier, results: Any
) -> None:
    """Run ``work(job, barrier)`` in a spawned process and report its value or error."""
    try:
        value = work(job, barrier)
    except BaseException as e:
        barrier.abort()
        results.put((index, None, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))
        return
    results.put((index, value, None))


def run_in_processes(work: Callable[[J, Barrier], T], jobs: Sequence[J]) -> list[T]:
    """Run ``work`` once per job, each in its own spawned process, and return the
    values in job order. ``work`` waits on the barrier when it is ready, so that all
    processes start their timed part together."""
    barrier = SPAWN.Barrier(len(jobs))
    results = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=_child_main, args=(work, i, job, barrier, results))
        for i, job in enumerate(jobs)
    ]
    for process in processes:
        process.start()
    try:
        answers = [results.get(timeout=CHILD_TIMEOUT_SECONDS) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
    errors = [error for _, _, error in answers if error]
    if errors:
        raise RuntimeError("a benchmark process failed:\n" + "\n".join(errors))
    values: dict[int, T] = {index: value for index, value, _ in answers}
    return [values[i] for i in range(len(jobs))]


# --- 1. append rate ----------------------------------------------------------------------


class PlainLedger(Application[UUID]):
    """Plain eventsourcing: the same aggregates, no chain and no idempotency row."""

    name = "PlainLedger"


@dataclass(frozen=True, slots=True)
class WriterJob:
    """What one writer process writes: ``variant`` is PLAIN (``plain_env`` configures
    the application), CHAIN_ONLY (a chained ``save`` without an idempotency row),
    CHAINED (``save`` with a command record, the real write path) or COMMAND (the full
    ``record_entry`` command); all but PLAIN write ``community`` of ``store_url``."""

    variant: str
    events_per_save: int
    seconds: float
    plain_env: tuple[tuple[str, str], ...] = ()
    store_url: str = ""
    community: str = ""


@dataclass(frozen=True, slots=True)
class AppendCell:
    """One row of the append table."""

    backend: str
    events_per_save: int
    writers: int

    def __str__(self) -> str:
        return f"{self.backend} {self.events_per_save} ev/save {self.writers} writer(s)"


def new_entries(count: int, i: int) -> list[FinanceEntry]:
    """``count`` new finance entries, as the ledger's record_entry command makes them."""
    return [
        FinanceEntry.record(
            CLERK,
            kind="expense",
            amount_fen=100 + i,
            account="office",
            counterparty="天海社区供销社",
            voucher_sha256=VOUCHER,
            period="2026-07",
            memo="",
            reverses=None,
        )
        for _ in range(count)
    ]


def open_writer(job: WriterJob) -> tuple[Callable[[int], None], Callable[[], None]]:
    """The job's ``write(i)`` (one save, or one command) and ``close()``."""
    n = job.events_per_save
    if job.variant == PLAIN:
        app = PlainLedger(env=dict(job.plain_env))

        def write_plain(i: int) -> None:
            app.save(*new_entries(n, i))

        return write_plain, app.close

    ledger = Ledger(open_store(job.store_url))
    community = ledger.community(job.community)
    tag = f"w{os.getpid()}"
    if job.variant == CHAIN_ONLY:

        def write_chain_only(i: int) -> None:
            community.save(*new_entries(n, i))

        return write_chain_only, ledger.close

    if job.variant == CHAINED:

        def write_chained(i: int) -> None:
            record = CommandRecord(f"{tag}-{i}", FINGERPRINT, "{}")
            community.save(*new_entries(n, i), command=record)

        return write_chained, ledger.close

    def write_command(i: int) -> None:
        community.record_entry(
            CLERK,
            f"{tag}-{i}",
            kind="expense",
            amount_fen=100 + i,
            account="office",
            counterparty="天海社区供销社",
            voucher_sha256=VOUCHER,
            period="2026-07",
        )

    return write_command, ledger.close


def append_writer(job: WriterJob, barrier: Barrier) -> tuple[int, float]:
    """Child process: write for ``job.seconds``; answer (writes, elapsed seconds)."""
    write, close = open_writer(job)
    try:
        write(0)  # connections, prepared statements and caches, untimed
        barrier.wait(timeout=CHILD_TIMEOUT_SECONDS)
        count = 0
        start = time.perf_counter()
        deadline = start + job.seconds
        while True:
            count += 1
            write(count)
            now = time.perf_counter()
            if now >= deadline:
                return count, now - start
    finally:
        close()


def plain_env(run: Run, backend: str, name: str) -> dict[str, str]:
    """eventsourcing's configuration of a plain application writing to ``name`` (a
    file beside the ledger's on SQLite, a schema of its own on PostgreSQL)."""
    if backend == SQLITE:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(run.workdir / f"{name}.sqlite3"),
            "SQLITE_LOCK_TIMEOUT": "60",
        }
    params = conninfo_to_dict(run.require_pg())
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(params.get("host") or "localhost"),
        "POSTGRES_PORT": str(params.get("port") or "5432"),
        "POSTGRES_USER": str(params.get("user") or ""),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_SCHEMA": name,
        # The ledger's pool and lock timeout (ledger.store.postgres.PostgresStore).
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "12",
        "POSTGRES_LOCK_TIMEOUT": "60",
    }


def prepare_plain(run: Run, backend: str) -> tuple[tuple[str, str], ...]:
    """Create a fresh plain table (once, before the timed part) and return the
    environment its writers use, which does not create tables."""
    name = run.fresh_name("plain")
    env = plain_env(run, backend, name)
    if backend == POSTGRES:
        with psycopg.connect(run.require_pg(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    PlainLedger(env={**env, "CREATE_TABLE": "y"}).close()
    return tuple({**env, "CREATE_TABLE": "n"}.items())


def prepare_community(run: Run, backend: str) -> tuple[str, str]:
    """A fresh community with its chart of accounts: (store URL, community ID)."""
    community_id = run.fresh_name("c")
    with Ledger(run.open_store(backend)) as ledger:
        ledger.add_community(Community(community_id, f"基准社区 {community_id}"))
    return run.store_url(backend), community_id


def writer_jobs(run: Run, cell: AppendCell, variant: str) -> list[WriterJob]:
    """The jobs of one measurement of ``cell``, writing to a fresh table or community."""
    seconds = run.config.seconds
    if variant == PLAIN:
        env = prepare_plain(run, cell.backend)
        job = WriterJob(PLAIN, cell.events_per_save, seconds, plain_env=env)
    else:
        url, community_id = prepare_community(run, cell.backend)
        job = WriterJob(
            variant, cell.events_per_save, seconds, store_url=url, community=community_id
        )
    return [job] * cell.writers


def writer_rates(jobs: Sequence[WriterJob]) -> list[float]:
    """Saves (or commands) per second of each writer, run at the same time."""
    return [count / elapsed for count, elapsed in run_in_processes(append_writer, jobs)]


def bench_append(run: Run) -> list[Target]:
    """Plain against chained saves/s, interleaved; the full command as information."""
    cells = [
        AppendCell(backend, events, writers)
        for backend in run.backends
        for events in (1, 10)
        for writers in (1, 4)
    ]
    command_cells = [AppendCell(backend, 1, 1) for backend in run.backends]
    samples: dict[tuple[AppendCell, str], list[float]] = defaultdict(list)
    for round_no in range(1, run.config.rounds + 1):
        measured = [(cell, v) for cell in cells for v in (PLAIN, CHAIN_ONLY, CHAINED)]
        measured += [(cell, COMMAND) for cell in command_cells]
        for cell, variant in measured:
            total = sum(writer_rates(writer_jobs(run, cell, variant)))
            samples[cell, variant].append(total)
            progress(f"append round {round_no}: {cell}: {variant} {rate(total)} saves/s")
    return report_append(cells, command_cells, samples)


def report_append(
    cells: Sequence[AppendCell],
    command_cells: Sequence[AppendCell],
    samples: dict[tuple[AppendCell, str], list[float]],
) -> list[Target]:
    rows: list[list[str]] = []
    targets: list[Target] = []
    for cell in cells:
        plain, chain = samples[cell, PLAIN], samples[cell, CHAIN_ONLY]
        keyed = samples[cell, CHAINED]
        value = median(chain) / median(plain)
        per_round = [c / p for c, p in zip(chain, plain, strict=True)]
        rows.append(
            [
                cell.backend,
                str(cell.events_per_save),
                str(cell.writers),
                rate(median(plain)),
                rate(median(chain)),
                rate(median(keyed)),
                rate(median(keyed) * cell.events_per_save),
                ratio(value),
                spread(per_round),
                ratio(median(keyed) / median(plain)),
            ]
        )
        targets.append(
            Target(
                f"append chained/plain, {cell}",
                f">= {APPEND_RATIO_MIN}",
                ratio(value),
                value >= APPEND_RATIO_MIN,
            )
        )
    print_table(
        "1. Append rate (saves/s, all writers together; median of rounds)",
        [
            "backend",
            "ev/save",
            "writers",
            "plain saves/s",
            "chained saves/s",
            "+key saves/s",
            "+key ev/s",
            "chained/plain",
            "per round",
            "+key/plain",
        ],
        rows,
        left=3,
    )
    print(
        "   chained: the chain alone (save without an idempotency key); +key: the real write\n"
        "   path, chain and idempotency row in one transaction. The target is on the chain."
    )
    for cell in command_cells:
        commands = median(samples[cell, COMMAND])
        saves = median(samples[cell, CHAINED])
        print(
            f"   informational, {cell.backend}, 1 writer: full record_entry command "
            f"(validation, idempotency look-up, chart read, chained save): "
            f"{rate(commands)} commands/s = {ratio(commands / saves)} x chained save"
        )
    return targets


# --- 2. verify rate ----------------------------------------------------------------------

COUNTERPARTIES: Final = (
    "天海社区供销社",
    "城东五金建材店",
    "天海物业服务有限公司",
    "市第一人民医院",
    "光明印刷厂",
    "王建国",
    "李桂兰",
    "张秀英（低保户）",
)
MEMOS: Final = (
    "",
    "购买办公用品：打印纸、墨盒",
    "春节慰问困难户",
    "道路修缮材料款，见附件发票",
    "社区活动中心七月水电费",
    "独居老人助餐补贴",
)
TITLES: Final = (
    "关于2026年7月社区财务收支情况的公示",
    "天海社区老旧小区改造项目招标结果公示",
    "关于调整社区低保对象名单的公告",
    "社区居民代表会议决议事项公开",
)
BODIES: Final = (
    "经居务监督委员会审核，现将有关情况予以公示，公示期七天。",
    "如有异议，请于公示期内向社区居委会或居务监督委员会反映。",
    "本次共涉及十二户居民，具体名单见公开栏及附件。",
)
FINANCE_TOPIC: Final = "gongkai/finance/entry-recorded"
DISCLOSURE_TOPIC: Final = "gongkai/disclosure/drafted"


def fake_event(rng: random.Random, seq: int, when: datetime) -> tuple[str, bytes]:
    """A (topic, state) like eventsourcing stores for the ledger's events: 4 in 5 a
    finance entry, else a drafted disclosure; about 300-420 bytes of JSON."""
    common: dict[str, Any] = {
        "timestamp": {"_type_": "datetime_iso", "_data_": when.isoformat()},
    }
    if seq % 5:
        state = {
            **common,
            "originator_topic": "ledger.domain.finance:FinanceEntry",
            "actor": "李娜",
            "actor_role": "clerk",
            "kind": "expense",
            "amount_fen": rng.randrange(100, 5_000_000),
            "account": "office",
            "counterparty": rng.choice(COUNTERPARTIES),
            "voucher_sha256": rng.randbytes(32).hex(),
            "period": f"2026-{1 + seq % 12:02d}",
            "memo": rng.choice(MEMOS),
            "reverses": None,
        }
        topic = FINANCE_TOPIC
    else:
        state = {
            **common,
            "originator_topic": "ledger.domain.disclosure:Disclosure",
            "actor": "王芳",
            "actor_role": "clerk",
            "category": "finance",
            "title": rng.choice(TITLES),
            "body": rng.choice(BODIES),
            "attachments": [],
            "scope": "public",
            "planned_from": "2026-07-01",
            "planned_until": "2026-07-08",
        }
        topic = DISCLOSURE_TOPIC
    return topic, json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode()


def fake_batches(
    community_id: str, total: int, batch: int, seed: int = 20260701
) -> Iterator[list[ChainedEvent]]:
    """``total`` chained events of ``community_id`` in batches of ``batch``."""
    rng = random.Random(seed)
    start = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    head = Head(0, b"")
    while head.seq < total:
        events: list[tuple[UUID, int, str, bytes]] = []
        for seq in range(head.seq + 1, min(total, head.seq + batch) + 1):
            # A second apart, and to the microsecond as the ledger stamps them.
            when = start + timedelta(seconds=seq, microseconds=1 + seq * 7919 % 999_999)
            topic, state = fake_event(rng, seq, when)
            # Each event begins an aggregate, whose ID the ledger makes as it does.
            oid = time_ordered_id(int(when.timestamp() * 1000), rng.getrandbits(74))
            events.append((oid, 1, topic, state))
        chained = chain_events(community_id, head, events)
        head = Head(chained[-1].seq, chained[-1].hash)
        yield chained


@dataclass(frozen=True, slots=True)
class VerifySource:
    """Where one backend's copy of the verify chain is stored."""

    backend: str
    url: str
    community: str
    sqlite_path: str = ""


class SQLiteSink:
    """Inserts chained events straight into a community's SQLite file."""

    def __init__(self, run: Run, community_id: str) -> None:
        store = run.open_store(SQLITE)
        with closing(store):
            store.add_community(Community(community_id, "核验基准社区"))
            assert isinstance(store, SQLiteStore)
            self.path = store.community_path(community_id)
        self.source = VerifySource(SQLITE, store.url, community_id, str(self.path))
        self.conn = sqlite3.connect(self.path)
        self.conn.execute("PRAGMA synchronous=OFF")
        self.insert = (
            f"INSERT INTO {events_table(community_id)} ({CHAIN_COLUMNS}) VALUES (?,?,?,?,?,?,?)"
        )

    def write(self, batch: Sequence[ChainedEvent]) -> None:
        with self.conn:
            self.conn.executemany(
                self.insert,
                [
                    (
                        e.seq,
                        e.prev_hash,
                        e.hash,
                        e.originator_id.hex,
                        e.originator_version,
                        e.topic,
                        e.state,
                    )
                    for e in batch
                ],
            )

    def finish(self) -> None:
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()


class PostgresSink:
    """COPYs chained events straight into a community's PostgreSQL table."""

    def __init__(self, run: Run, community_id: str) -> None:
        store = run.open_store(POSTGRES)
        with closing(store):
            store.add_community(Community(community_id, "核验基准社区"))
        self.source = VerifySource(POSTGRES, store.url, community_id)
        self.table = sql.Identifier(events_table(community_id))
        self.conn = psycopg.connect(store.url)
        self.copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            self.table, sql.SQL(CHAIN_COLUMNS)
        )

    def write(self, batch: Sequence[ChainedEvent]) -> None:
        with self.conn.cursor() as cursor, cursor.copy(self.copy) as copy:
            copy.set_types(["int8", "bytea", "bytea", "uuid", "int8", "text", "bytea"])
            for e in batch:
                copy.write_row(
                    (
                        e.seq,
                        e.prev_hash,
                        e.hash,
                        e.originator_id,
                        e.originator_version,
                        e.topic,
                        e.state,
                    )
                )
        self.conn.commit()

    def finish(self) -> None:
        # Set hint bits and statistics now, so that no verify pass pays for them.
        self.conn.autocommit = True
        self.conn.execute(sql.SQL("VACUUM (FREEZE, ANALYZE) {}").format(self.table))
        self.conn.close()
        # And write the dirty pages out, so that no later measurement shares the disk
        # with that checkpoint (CHECKPOINT needs the superuser, when there is one).
        super_url = os.environ.get("GONGKAI_TEST_PG_SUPER_URL")
        if super_url:
            with psycopg.connect(super_url, autocommit=True) as conn:
                conn.execute("CHECKPOINT")


def populate(run: Run, community_id: str) -> list[VerifySource]:
    """Store the same ``events`` chained events on every backend, straight into the
    tables (not through the application, which would take hours)."""
    started = time.perf_counter()
    sinks: list[SQLiteSink | PostgresSink] = [SQLiteSink(run, community_id)]
    if run.pg_url:
        sinks.append(PostgresSink(run, community_id))
    config = run.config
    for batch in fake_batches(community_id, config.events, config.batch):
        for sink in sinks:
            sink.write(batch)
        if batch[-1].seq % 200_000 == 0:
            progress(f"verify: stored {batch[-1].seq:,} of {config.events:,} events")
    for sink in sinks:
        sink.finish()
    progress(f"verify: populated in {time.perf_counter() - started:.0f} s")
    return [sink.source for sink in sinks]


@dataclass(frozen=True, slots=True)
class VerifyJob:
    kind: str  # OURS or BASELINE
    source: VerifySource


def baseline_sqlite(source: VerifySource, batch: int = 10_000) -> int:
    """Read the rows the way SQLiteStore.chain_rows does and SHA-256 each row once."""
    sha256 = hashlib.sha256
    uri = f"{Path(source.sqlite_path).resolve().as_uri()}?mode=ro"
    count = 0
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        conn.execute("BEGIN")
        cursor = conn.execute(
            f"SELECT {CHAIN_COLUMNS} FROM {events_table(source.community)} ORDER BY seq"
        )
        while rows := cursor.fetchmany(batch):
            for seq, prev, digest, oid, version, topic, state in rows:
                sha256(
                    b"".join(
                        (
                            seq.to_bytes(8, "big"),
                            prev,
                            digest,
                            bytes.fromhex(oid),
                            version.to_bytes(8, "big"),
                            topic.encode(),
                            state,
                        )
                    )
                ).digest()
            count += len(rows)
    return count


def baseline_postgres(source: VerifySource, batch: int = 10_000) -> int:
    """Read the rows the way PostgresStore.chain_rows does (server-side binary cursor,
    uuid_send and convert_to) and SHA-256 each row once."""
    sha256 = hashlib.sha256
    count = 0
    with psycopg.connect(source.url, autocommit=False) as conn:
        conn.read_only = True
        with conn.cursor(name="bench_baseline", binary=True) as cursor:
            cursor.itersize = batch
            cursor.execute(
                sql.SQL(
                    "SELECT seq, prev_hash, hash, uuid_send(originator_id), "
                    "originator_version, convert_to(topic, 'UTF8'), state "
                    "FROM {} ORDER BY seq"
                ).format(sql.Identifier(events_table(source.community)))
            )
            while rows := cursor.fetchmany(batch):
                for seq, prev, digest, oid, version, topic, state in rows:
                    sha256(
                        b"".join(
                            (
                                seq.to_bytes(8, "big"),
                                prev,
                                digest,
                                oid,
                                version.to_bytes(8, "big"),
                                topic,
                                state,
                            )
                        )
                    ).digest()
                count += len(rows)
    return count


def verify_pass(job: VerifyJob, barrier: Barrier) -> tuple[int, float, float]:
    """Child process: one pass; answer (events, seconds, peak RSS in MB)."""
    barrier.wait(timeout=CHILD_TIMEOUT_SECONDS)
    source = job.source
    start = time.perf_counter()
    if job.kind == OURS:
        with open_store(source.url) as store:
            count = verify_store(store, source.community).count
    elif source.backend == SQLITE:
        count = baseline_sqlite(source)
    else:
        count = baseline_postgres(source)
    elapsed = time.perf_counter() - start
    return count, elapsed, peak_rss_mb()


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MB.

    On Linux a spawned child's ``ru_maxrss`` starts at its parent's RSS (the high-water
    mark survives the fork and the exec), so the peak of the process's own image,
    ``VmHWM``, is read instead where there is one.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def bench_verify(run: Run) -> list[Target]:
    """Our verifier against read-and-hash, interleaved, each pass in a fresh process."""
    sources = populate(run, run.fresh_name("verify"))
    rates: dict[tuple[str, str], list[float]] = defaultdict(list)
    peaks: dict[tuple[str, str], list[float]] = defaultdict(list)
    for round_no in range(1, run.config.rounds + 1):
        for source in sources:
            for kind in (OURS, BASELINE):
                [(count, elapsed, peak)] = run_in_processes(verify_pass, [VerifyJob(kind, source)])
                if count != run.config.events:
                    raise RuntimeError(f"{kind} read {count} events, not {run.config.events}")
                rates[source.backend, kind].append(count / elapsed)
                peaks[source.backend, kind].append(peak)
                progress(
                    f"verify round {round_no}: {source.backend} {kind}: "
                    f"{rate(count / elapsed)} events/s, {peak:.0f} MB"
                )
    return report_verify(run, [s.backend for s in sources], rates, peaks)


def report_verify(
    run: Run,
    backends: Sequence[str],
    rates: dict[tuple[str, str], list[float]],
    peaks: dict[tuple[str, str], list[float]],
) -> list[Target]:
    rows: list[list[str]] = []
    targets: list[Target] = []
    for backend in backends:
        ours, base = rates[backend, OURS], rates[backend, BASELINE]
        value = median(ours) / median(base)
        peak = max(peaks[backend, OURS])
        rows.append(
            [
                backend,
                rate(median(ours)),
                rate(median(base)),
                ratio(value),
                spread([o / b for o, b in zip(ours, base, strict=True)]),
                f"{peak:.0f}",
                f"{max(peaks[backend, BASELINE]):.0f}",
            ]
        )
        targets.append(
            Target(
                f"verify ours/baseline, {backend}",
                f">= {VERIFY_RATIO_MIN}",
                ratio(value),
                value >= VERIFY_RATIO_MIN,
            )
        )
        targets.append(
            Target(
                f"verify peak RSS, {backend}",
                f"< {VERIFY_RSS_MAX_MB} MB",
                f"{peak:.0f} MB",
                peak < VERIFY_RSS_MAX_MB,
            )
        )
        if backend == SQLITE:
            targets.append(
                Target(
                    "verify rate, sqlite",
                    f">= {rate(VERIFY_SQLITE_RATE_MIN)} ev/s",
                    f"{rate(median(ours))} ev/s",
                    median(ours) >= VERIFY_SQLITE_RATE_MIN,
                )
            )
    print_table(
        f"2. Verify rate over {run.config.events:,} stored events (median of rounds; "
        "peak RSS = the whole pass process's VmHWM, max over rounds)",
        [
            "backend",
            "ours ev/s",
            "baseline ev/s",
            "ours/baseline",
            "per round",
            "ours peak MB",
            "baseline peak MB",
        ],
        rows,
    )
    print(
        "   baseline: the same SELECT as the store's chain_rows, one SHA-256 per row over "
        "its concatenated fields, nothing checked"
    )
    return targets


# --- 3. two communities at once ----------------------------------------------------------


def bench_communities(run: Run) -> list[Target]:
    """One community written alone against two written at once, one process each; the
    same for plain eventsourcing, each "community" a table in a schema of its own."""
    cell = AppendCell(POSTGRES, 1, 1)
    alone: dict[str, list[float]] = defaultdict(list)
    together: dict[str, list[list[float]]] = defaultdict(list)
    for round_no in range(1, run.config.rounds + 1):
        for variant in (CHAINED, PLAIN):
            [single] = writer_rates(writer_jobs(run, cell, variant))
            alone[variant].append(single)
            pair = writer_rates(writer_jobs(run, cell, variant) + writer_jobs(run, cell, variant))
            together[variant].append(pair)
            progress(
                f"communities round {round_no}: {variant}: alone {rate(single)}, together "
                f"{' + '.join(rate(r) for r in pair)} saves/s"
            )
    rows = []
    values: dict[str, float] = {}
    for variant, label in ((CHAINED, "gongkai (+key)"), (PLAIN, "plain eventsourcing")):
        totals = [sum(pair) for pair in together[variant]]
        values[variant] = median(totals) / median(alone[variant])
        rows.append(
            [
                label,
                rate(median(alone[variant])),
                rate(median([p[0] for p in together[variant]])),
                rate(median([p[1] for p in together[variant]])),
                rate(median(totals)),
                ratio(values[variant]),
                spread([t / a for t, a in zip(totals, alone[variant], strict=True)]),
            ]
        )
    print_table(
        "3. Two communities at once on PostgreSQL (1 event/save, one writer process per "
        "community; saves/s, median of rounds)",
        [
            "",
            "alone",
            "together: A",
            "together: B",
            "together: total",
            "together/alone",
            "per round",
        ],
        rows,
        left=1,
    )
    print(
        "   plain eventsourcing: the same aggregates, each writer's table in a schema of its\n"
        "   own; it shows what two durable writers reach together on this machine."
    )
    value = values[CHAINED]
    return [
        Target(
            "two communities together/alone, postgres",
            f">= {COMMUNITIES_RATIO_MIN}",
            ratio(value),
            value >= COMMUNITIES_RATIO_MIN,
        )
    ]


# --- main --------------------------------------------------------------------------------


def print_summary(targets: Sequence[Target]) -> None:
    print_table(
        "Summary",
        ["target", "goal", "measured", "result"],
        [[t.name, t.goal, t.measured, "PASS" if t.passed else "MISS"] for t in targets],
        left=4,
    )
    missed = sum(not t.passed for t in targets)
    print(f"\n{len(targets) - missed} of {len(targets)} targets met")


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    pg_url = os.environ.get("GONGKAI_TEST_PG_ADMIN_URL") or None
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-") as workdir:
        run = Run(config, Path(workdir), pg_url)
        print_header(run)
        targets: list[Target] = []
        if "append" in config.parts:
            targets += bench_append(run)
        if "verify" in config.parts:
            targets += bench_verify(run)
        if "communities" in config.parts:
            if pg_url:
                targets += bench_communities(run)
            else:
                print("\n3. Two communities at once: skipped, no PostgreSQL")
        print_summary(targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
