"""Benchmark of the projections' catch-up: how many chain entries a second the worker
applies to every read model, beside a plain read of the same entries.

Run by hand, never by the test suite; it prints tables and asserts nothing::

    .venv/bin/python bench/bench_projections.py
    .ci/with-postgres .venv/bin/python bench/bench_projections.py --entries 200000

A community of N (1,000,000) chained entries like the ledger stores them (4 in 5 a
finance entry, else a drafted disclosure; see bench_ledger.fake_event) is written
straight into the tables; then, per backend and round, a fresh read-model database is
caught up from nothing with ``ProjectionRunner.catch_up`` (every projection of
``gongkai projections run``, then each alone), and the same entries are read by the
runner's source without applying them. Target: at least 20,000 entries/s on SQLite.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

# Run as a script, only bench/ is on sys.path: add the project's root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_ledger import (
    POSTGRES,
    SQLITE,
    Config,
    PostgresSink,
    Run,
    SQLiteSink,
    Target,
    fake_batches,
    median,
    print_summary,
    print_table,
    progress,
)
from ledger.store import open_store
from projections.db import open_read_db
from projections.registry import all_projections
from projections.runner import Projection, ProjectionRunner, store_source

RATE_MIN: Final = 20_000  # entries/s, SQLite, every projection
READ_PAGE: Final = 500


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help="entries per transaction (default: the worker's, 500 growing to 20,000)",
    )
    return parser.parse_args(argv)


def populate(run: Run, entries: int) -> dict[str, tuple[str, str]]:
    """The same chained entries on every backend: backend -> (store URL, community)."""
    community = run.fresh_name("proj")
    sinks: list[SQLiteSink | PostgresSink] = [SQLiteSink(run, community)]
    if run.pg_url:
        sinks.append(PostgresSink(run, community))
    for batch in fake_batches(community, entries, min(50_000, entries)):
        for sink in sinks:
            sink.write(batch)
        if batch[-1].seq % 200_000 == 0:
            progress(f"stored {batch[-1].seq:,} of {entries:,} entries")
    for sink in sinks:
        sink.finish()
    return {sink.source.backend: (sink.source.url, community) for sink in sinks}


def fresh_read_db_url(run: Run, backend: str, url: str) -> str:
    """A store URL whose read-model database is new: SQLite, a new file name beside the
    ledger's; PostgreSQL, the tables are emptied by a rebuild instead."""
    if backend == SQLITE:
        return f"sqlite:///{run.workdir / run.fresh_name('ledger')}.sqlite3"
    return url


def catch_up(
    run: Run,
    backend: str,
    url: str,
    community: str,
    projections: list[Projection],
    batch: int | None,
) -> tuple[float, int]:
    """Seconds to catch ``projections`` up from nothing, and the applications done."""
    with open_store(url) as store:
        db = open_read_db(fresh_read_db_url(run, backend, url))
        try:
            runner = ProjectionRunner(db, projections, store_source(store), batch=batch)
            runner.setup()
            if backend == POSTGRES:  # the same database every round: start from nothing
                for projection in projections:
                    with db.transaction() as tx:
                        for table in projection.tables():
                            tx.execute(f"DELETE FROM {table} WHERE community = ?", (community,))
                        tx.execute(
                            "DELETE FROM projection_tracking WHERE community = ?", (community,)
                        )
            start = time.perf_counter()
            applied = runner.catch_up(community)
            return time.perf_counter() - start, applied
        finally:
            db.close()


def plain_read(url: str, community: str) -> tuple[float, int]:
    """Seconds to read every entry through the runner's source, applying nothing."""
    with open_store(url) as store:
        source = store_source(store)
        start, after, count = time.perf_counter(), 0, 0
        while rows := source(community, after, READ_PAGE):
            after, count = rows[-1][0], count + len(rows)
        return time.perf_counter() - start, count


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pg_url = os.environ.get("GONGKAI_TEST_PG_ADMIN_URL") or None
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-proj-") as workdir:
        config = Config(
            parts=(),
            rounds=args.rounds,
            seconds=1.0,
            events=args.entries,
            batch=min(50_000, args.entries),
            quick=False,
        )
        run = Run(config, Path(workdir), pg_url)
        print("gongkai projection catch-up benchmark")
        print(
            f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{os.cpu_count()} CPUs; {args.entries:,} entries, {args.rounds} rounds, "
            + (
                f"{args.batch:,} entries per transaction"
                if args.batch
                else "the worker's batches (500 entries, growing to 20,000)"
            )
        )
        stores = populate(run, args.entries)
        variants: list[tuple[str, list[Projection] | None]] = [("plain read", None)]
        variants.append(("every projection", all_projections()))
        variants += [(p.name, [p]) for p in all_projections()]
        seconds: dict[tuple[str, str], list[float]] = {}
        for round_ in range(args.rounds):
            for backend, (url, community) in stores.items():
                for label, projections in variants:  # interleaved
                    if projections is None:
                        elapsed, count = plain_read(url, community)
                    else:
                        elapsed, applied = catch_up(
                            run, backend, url, community, projections, args.batch
                        )
                        count = applied // len(projections)
                    if count != args.entries:
                        raise RuntimeError(f"{label} on {backend} saw {count} entries")
                    seconds.setdefault((backend, label), []).append(elapsed)
                    progress(f"round {round_ + 1}: {backend} {label}: {elapsed:.1f} s")
        rows = []
        for (backend, label), times in seconds.items():
            t = median(times)
            rows.append([backend, label, f"{t:.1f}", f"{args.entries / t:,.0f}"])
        print_table(
            f"Catch-up from nothing over {args.entries:,} entries (median of rounds)",
            ["backend", "what", "seconds", "entries/s"],
            rows,
            left=2,
        )
        sqlite_rate = args.entries / median(seconds[(SQLITE, "every projection")])
        print_summary(
            [
                Target(
                    "projection catch-up, sqlite, every projection",
                    f">= {RATE_MIN:,}/s",
                    f"{sqlite_rate:,.0f}/s",
                    sqlite_rate >= RATE_MIN,
                )
            ]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
