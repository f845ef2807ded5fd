"""Benchmarks of the log seal: Merkle proofs, appends with the tree kept up, bundles.

Run by hand, never by the test suite; it prints tables and asserts nothing::

    GONGKAI_PG_DURABLE=1 .ci/with-postgres .venv/bin/python bench/bench_seal.py
    .ci/with-postgres .venv/bin/python bench/bench_seal.py --quick --only proofs

Needs the ``bench`` extra (``pip install -e '.[bench]'``, for pymerkle). Three
measurements, on SQLite and, under ``.ci/with-postgres``, PostgreSQL:

1. **proofs**: a community of N (1,000,000) chained entries, its tree built with
   ``CommunityLog.update_tree`` and a checkpoint signed; the time to generate an
   inclusion proof from the stored tree (``merkle.inclusion_proof`` over
   ``SealStore.read_nodes``, one query per proof) and to verify it, for random leaves,
   beside pymerkle's ``InmemoryTree`` built from the same leaf data;
2. **append**: saves/s of the chained write path alone against the same with a sealer
   thread calling ``CommunityLog.update_tree`` every 0.2 s, as the service's sealer does;
3. **bundle**: ``api.cli.export.export_bundle`` of the whole community of part 1 and
   ``ledger.bundle.verify.verify_bundle`` of the result, each in a fresh process that reports
   its time and peak RSS.

The variants compared are interleaved over a few rounds and the tables report medians
(see ``bench/bench_ledger.py``, whose helpers this reuses). Without
``GONGKAI_TEST_PG_ADMIN_URL`` the PostgreSQL rows are skipped.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import multiprocessing as mp
import os
import platform
import queue
import random
import sqlite3
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import version
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any, Final, TypeVar

# Run as a script (python bench/bench_seal.py), only bench/ is on sys.path: add the
# project's root so that ``bench.bench_ledger`` imports here and in spawned children,
# which inherit sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
import pymerkle
from psycopg import sql

import api.cli.export
import ledger.bundle.stream
from api.cli.export import _attachments as export_attachments
from api.cli.export import export_bundle, parse_range, recorded_day
from bench.bench_ledger import (
    FINGERPRINT,
    POSTGRES,
    SQLITE,
    Config,
    PostgresSink,
    Run,
    SQLiteSink,
    Target,
    fake_batches,
    median,
    new_entries,
    peak_rss_mb,
    print_summary,
    print_table,
    progress,
    rate,
    ratio,
    run_in_processes,
    spread,
)
from ledger.application import Ledger
from ledger.bundle import verify as bundle_verify
from ledger.bundle.contents import BundleContents
from ledger.bundle.entry_pipe import EntryPipe
from ledger.bundle.proof_writer import ProofWriterProcess
from ledger.bundle.verify import verify_bundle
from ledger.bundle.write import write_bundle
from ledger.seal.community_log import CommunityLog
from ledger.seal.keys import KeyKind, format_private_key, generate_key, parse_private_key
from ledger.seal.merkle import inclusion_proof, leaf_hash, verify_inclusion
from ledger.seal.note import parse_vkey
from ledger.seal.signer_state import SignerState
from ledger.store import open_store
from ledger.store.base import CommandRecord, Community, RawRow, events_table, tree_table
from projections.board import fold_board, render_board_html

PARTS: Final = ("proofs", "append", "bundle")
OURS: Final = "ours"
PYMERKLE: Final = "pymerkle"
CHAIN_ONLY: Final = "chain only"
WITH_SEALER: Final = "+sealer"
EXPORT: Final = "export"
VERIFY: Final = "verify-bundle"
REFERENCE: Final = "write_bundle (reference)"

# Targets.
PROOF_TIME_RATIO_MAX: Final = 1.0  # our median proof time / pymerkle's in-memory one
APPEND_RATIO_MIN: Final = 0.8
EXPORT_SECONDS_MAX: Final = 60
VERIFY_SECONDS_MAX: Final = 30
BUNDLE_RSS_MAX_MB: Final = 300

# The service's sealer polls every 2 s; this one is more eager, to bound the cost.
SEALER_PAUSE_SECONDS: Final = 0.2
HOST: Final = "bench.gongkai.example"
WARMUP_PROOFS: Final = 100
PROGRESS_EVERY: Final = 200_000

SPAWN = mp.get_context("spawn")
J = TypeVar("J")
T = TypeVar("T")


# --- configuration -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SealConfig:
    """What to run and how big."""

    parts: tuple[str, ...]
    entries: int
    proofs: int
    rounds: int
    seconds: float
    step_timeout: float
    quick: bool


def parse_args(argv: Sequence[str] | None = None) -> SealConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run, small sizes")
    parser.add_argument("--only", choices=PARTS, help="run one measurement only")
    parser.add_argument("--entries", type=int, help="entries of the sealed community (1,000,000)")
    parser.add_argument("--proofs", type=int, help="random leaves proved per round (3,000)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per variant (3)")
    parser.add_argument("--seconds", type=float, help="write time per append measurement (5)")
    parser.add_argument(
        "--step-timeout",
        type=float,
        help="seconds after which an export or verify-bundle process is stopped (300)",
    )
    args = parser.parse_args(argv)
    quick: bool = args.quick
    return SealConfig(
        parts=(args.only,) if args.only else PARTS,
        entries=args.entries or (20_000 if quick else 1_000_000),
        proofs=args.proofs or (500 if quick else 3_000),
        rounds=args.rounds or (1 if quick else 3),
        seconds=args.seconds or (1.0 if quick else 5.0),
        step_timeout=args.step_timeout or (120.0 if quick else 300.0),
        quick=quick,
    )


def make_run(config: SealConfig, workdir: Path, pg_url: str | None) -> Run:
    """bench_ledger's Run (stores, fresh names), sized for this benchmark."""
    ledger_config = Config(
        parts=(),
        rounds=config.rounds,
        seconds=config.seconds,
        events=config.entries,
        batch=min(50_000, config.entries),
        quick=config.quick,
    )
    return Run(ledger_config, workdir, pg_url)


def print_header(run: Run, config: SealConfig) -> None:
    print(
        "gongkai seal benchmarks" + (" (--quick: small sizes, not for conclusions)" * config.quick)
    )
    print(
        f"python {platform.python_version()}, psycopg {psycopg.__version__}, "
        f"SQLite {sqlite3.sqlite_version}, pymerkle {version('pymerkle')}, "
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
    export_source = Path(api.cli.export.__file__)
    digest = hashlib.sha256(export_source.read_bytes()).hexdigest()[:12]
    modified = datetime.fromtimestamp(export_source.stat().st_mtime).isoformat(timespec="seconds")
    print(
        f"{config.entries:,} entries, {config.proofs:,} proofs and {config.rounds} round(s) "
        f"per variant (interleaved), {config.seconds:g} s per append measurement; "
        f"api/cli/export.py sha256 {digest}... (modified {modified})"
    )
    sys.stdout.flush()


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def micros(value: float) -> str:
    return f"{value:,.1f}"


# --- the sealed community ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SealedLog:
    """One backend's copy of the sealed community: N entries, the tree, a checkpoint."""

    backend: str
    url: str
    community: str
    size: int
    root: bytes
    build_seconds: float
    sign_seconds: float
    sqlite_path: str = ""


@dataclass(frozen=True, slots=True)
class LogKey:
    """The community's log key, as text, so that child processes can load it."""

    private: str
    vkey: str


def prepare_logs(run: Run, config: SealConfig) -> tuple[list[SealedLog], LogKey]:
    """Store the same N chained entries on every backend straight into the tables (as
    bench_ledger's verify does), then build each tree with ``update_tree`` (timed) and
    sign a checkpoint."""
    community_id = run.fresh_name("seal")
    started = time.perf_counter()
    sinks: list[SQLiteSink | PostgresSink] = [SQLiteSink(run, community_id)]
    if run.pg_url:
        sinks.append(PostgresSink(run, community_id))
    for batch in fake_batches(community_id, config.entries, min(50_000, config.entries)):
        for sink in sinks:
            sink.write(batch)
        if batch[-1].seq % PROGRESS_EVERY == 0:
            progress(f"stored {batch[-1].seq:,} of {config.entries:,} entries")
    for sink in sinks:
        sink.finish()
    progress(f"populated in {time.perf_counter() - started:.0f} s")

    key = generate_key(f"{HOST}/{community_id}", KeyKind.LOG)
    logs = []
    for sink in sinks:
        backend = sink.source.backend
        with open_store(sink.source.url) as store:
            log = CommunityLog(store, community_id)

            def report(size: int, backend: str = backend) -> None:
                if size % PROGRESS_EVERY == 0:
                    progress(f"{backend}: update_tree at {size:,} leaves")

            start = time.perf_counter()
            old, new = log.update_tree(on_progress=report)
            build = time.perf_counter() - start
            if (old, new) != (0, config.entries):
                raise RuntimeError(f"update_tree grew the tree from {old} to {new}")
            with tempfile.TemporaryDirectory() as keys_dir:
                # Each store is a new log of its own: its signer starts from the empty tree.
                state = SignerState(
                    Path(keys_dir) / f"{community_id}.log.state", key.verifier(), community_id
                )
                state.create_empty(key.signer())
                start = time.perf_counter()
                checkpoint = log.sign_checkpoint(key.signer(), state, update=False)
                sign = time.perf_counter() - start
        if backend == POSTGRES:
            settle_postgres(sink.source.url, tree_table(community_id))
        progress(f"{backend}: tree of {new:,} leaves in {build:.1f} s, checkpoint signed")
        logs.append(
            SealedLog(
                backend,
                sink.source.url,
                community_id,
                checkpoint.tree_size,
                checkpoint.root,
                build,
                sign,
                sink.source.sqlite_path,
            )
        )
    if len({log.root for log in logs}) != 1:
        raise RuntimeError("the backends' trees have different roots")
    return logs, LogKey(format_private_key(key), key.vkey)


def settle_postgres(url: str, table: str) -> None:
    """Analyze the new tree table (as autovacuum soon would) and write the dirty pages
    out, so that no later measurement pays for either."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
    super_url = os.environ.get("GONGKAI_TEST_PG_SUPER_URL")
    if super_url:
        with psycopg.connect(super_url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")


def report_build(logs: Sequence[SealedLog], pymerkle_seconds: float | None) -> None:
    rows = [
        [
            log.backend,
            f"{log.size:,}",
            f"{log.build_seconds:.1f}",
            rate(log.size / log.build_seconds),
            f"{1000 * log.sign_seconds:.1f}",
        ]
        for log in logs
    ]
    if pymerkle_seconds is not None:
        size = logs[0].size
        rows.append(
            [
                "pymerkle InmemoryTree (in memory)",
                f"{size:,}",
                f"{pymerkle_seconds:.1f}",
                rate(size / pymerkle_seconds),
                "-",
            ]
        )
    print_table(
        "1a. Building the tree (CommunityLog.update_tree over the stored chain; one run)",
        ["backend", "leaves", "seconds", "leaves/s", "sign checkpoint ms"],
        rows,
    )
    print(
        "   update_tree re-checks every entry's hash and link before sealing it, and stores\n"
        "   every complete subtree; pymerkle's append_entries only hashes (for information)."
    )


# --- 1. proofs -----------------------------------------------------------------------------


def leaf_data(log: SealedLog) -> list[bytes]:
    """Every entry's chain hash, in order: the leaf data of the community's tree."""
    with closing(
        sqlite3.connect(f"{Path(log.sqlite_path).resolve().as_uri()}?mode=ro", uri=True)
    ) as conn:
        rows = conn.execute(f"SELECT hash FROM {events_table(log.community)} ORDER BY seq")
        return [bytes(row[0]) for row in rows]


def timed(call: Callable[[int], Any], indices: Sequence[int]) -> tuple[list[float], list[Any]]:
    """Microseconds of ``call(i)`` for each index, and the results."""
    clock = time.perf_counter_ns
    times: list[float] = []
    results: list[Any] = []
    for i in indices:
        start = clock()
        result = call(i)
        times.append((clock() - start) / 1000)
        results.append(result)
    return times, results


def bench_proofs(config: SealConfig, logs: Sequence[SealedLog]) -> list[Target]:
    """Generate and verify inclusion proofs of the same random leaves: ours from the
    stored tree of each backend, pymerkle's from its in-memory tree."""
    size, root = logs[0].size, logs[0].root
    data = leaf_data(next(log for log in logs if log.backend == SQLITE))
    leaves = [leaf_hash(d) for d in data]
    progress(f"proofs: building pymerkle's InmemoryTree of {size:,} leaves")
    start = time.perf_counter()
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    tree.append_entries(data)
    pymerkle_seconds = time.perf_counter() - start
    if tree.get_root() != root:
        raise RuntimeError("pymerkle's root is not the root of our checkpoint")
    del data
    report_build(logs, pymerkle_seconds)
    # Keep the collector from walking pymerkle's millions of nodes during the timings.
    gc.collect()
    gc.freeze()
    try:
        generate, check = time_proofs(config, logs, tree, leaves)
    finally:
        gc.unfreeze()
    return report_proofs(config, size, generate, check)


def time_proofs(
    config: SealConfig, logs: Sequence[SealedLog], tree: pymerkle.InmemoryTree, leaves: list[bytes]
) -> tuple[dict[str, list[list[float]]], dict[str, list[list[float]]]]:
    """Per variant and round, the µs of each proof's generation and verification."""
    size, root = logs[0].size, logs[0].root
    rng = random.Random(20260704)
    indices = rng.sample(range(size), min(size, config.proofs))
    stores = {log.backend: open_store(log.url) for log in logs}
    try:
        readers = {log.backend: stores[log.backend].seal(log.community).read_nodes for log in logs}

        def ours_prove(backend: str) -> Callable[[int], list[bytes]]:
            read = readers[backend]
            return lambda i: inclusion_proof(i, size, read)

        def theirs_prove(i: int) -> pymerkle.InclusionProof:
            return tree.prove_inclusion(i + 1, size)

        def ours_verify(proofs: dict[int, list[bytes]]) -> Callable[[int], None]:
            return lambda i: verify_inclusion(i, size, leaves[i], proofs[i], root)

        def theirs_verify(proofs: dict[int, pymerkle.InclusionProof]) -> Callable[[int], None]:
            return lambda i: pymerkle.verify_inclusion(leaves[i], root, proofs[i])

        variants = [(OURS, log.backend) for log in logs] + [(PYMERKLE, "")]
        for kind, backend in variants:  # connections, caches; and a cross-check
            for i in indices[:WARMUP_PROOFS]:
                if kind == OURS:
                    ours = ours_prove(backend)(i)
                    if ours != theirs_prove(i).path[1:]:
                        raise RuntimeError(f"{backend}: our proof of leaf {i} is not pymerkle's")
                    verify_inclusion(i, size, leaves[i], ours, root)
                else:
                    pymerkle.verify_inclusion(leaves[i], root, theirs_prove(i))

        generate: dict[str, list[list[float]]] = defaultdict(list)
        check: dict[str, list[list[float]]] = defaultdict(list)
        for round_no in range(1, config.rounds + 1):
            rng.shuffle(indices)
            for kind, backend in variants:
                label = f"{kind} {backend}".strip()
                prove = ours_prove(backend) if kind == OURS else theirs_prove
                times, proofs = timed(prove, indices)
                generate[label].append(times)
                by_index = dict(zip(indices, proofs, strict=True))
                verify = ours_verify(by_index) if kind == OURS else theirs_verify(by_index)
                times, _ = timed(verify, indices)
                check[label].append(times)
                progress(
                    f"proofs round {round_no}: {label}: generate "
                    f"{micros(median(generate[label][-1]))} µs, verify "
                    f"{micros(median(check[label][-1]))} µs (medians)"
                )
    finally:
        for store in stores.values():
            store.close()
    return generate, check


def report_proofs(
    config: SealConfig,
    size: int,
    generate: dict[str, list[list[float]]],
    check: dict[str, list[list[float]]],
) -> list[Target]:
    names = {
        f"{OURS} {SQLITE}": "ours, sqlite (stored tree)",
        f"{OURS} {POSTGRES}": "ours, postgres (stored tree)",
        PYMERKLE: "pymerkle InmemoryTree (in memory)",
    }
    theirs = [t for times in generate[PYMERKLE] for t in times]
    theirs_rounds = [median(times) for times in generate[PYMERKLE]]
    rows = []
    targets = []
    for label, name in names.items():
        if label not in generate:
            continue
        made = [t for times in generate[label] for t in times]
        checked = [t for times in check[label] for t in times]
        value = median(made) / median(theirs)
        per_round = [
            median(times) / m for times, m in zip(generate[label], theirs_rounds, strict=True)
        ]
        rows.append(
            [
                name,
                micros(median(made)),
                micros(percentile(made, 0.99)),
                micros(median(checked)),
                micros(percentile(checked, 0.99)),
                ratio(value),
                spread(per_round),
            ]
        )
        if label != PYMERKLE:
            backend = label.split()[1]
            targets.append(
                Target(
                    f"proof generation, ours/pymerkle time, {backend}",
                    f"<= {PROOF_TIME_RATIO_MAX:.2f}",
                    ratio(value),
                    value <= PROOF_TIME_RATIO_MAX,
                )
            )
    print_table(
        f"1b. Inclusion proofs in a tree of {size:,} leaves ({config.proofs:,} random leaves "
        f"x {config.rounds} round(s); µs per proof, median and p99 over all)",
        [
            "",
            "generate",
            "p99",
            "verify",
            "p99",
            "generate / pymerkle's",
            "per round",
        ],
        rows,
    )
    print(
        "   ours: merkle.inclusion_proof over SealStore.read_nodes, one store query (its own\n"
        "   read transaction) per proof; verify: merkle.verify_inclusion. pymerkle:\n"
        "   InmemoryTree.prove_inclusion and pymerkle.verify_inclusion, same leaves and root."
    )
    return targets


# --- 2. append with the tree maintained ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppendJob:
    store_url: str
    community: str
    seconds: float
    sealer: bool


@dataclass(frozen=True, slots=True)
class AppendResult:
    saves: int
    seconds: float
    sealer_passes: int
    longest_pass: float
    unsealed_at_stop: int


def append_writer(job: AppendJob, barrier: Barrier) -> tuple[int, float, int, float, int]:
    """Child process: the chained write path (save with an idempotency row, 1 event per
    save) for ``job.seconds``, with or without a sealer thread in the same process."""
    store = open_store(job.store_url)
    ledger = Ledger(store)
    try:
        community = ledger.community(job.community)
        log = CommunityLog(store, job.community)
        tag = f"w{os.getpid()}"

        def write(i: int) -> None:
            record = CommandRecord(f"{tag}-{i}", FINGERPRINT, "{}")
            community.save(*new_entries(1, i), command=record)

        write(0)  # connections, prepared statements and caches, untimed
        log.update_tree()  # both variants start with the tree up to date
        stop = threading.Event()
        passes = 0
        longest = 0.0
        failure: list[BaseException] = []

        def seal() -> None:
            nonlocal passes, longest
            try:
                while not stop.is_set():
                    began = time.perf_counter()
                    log.update_tree()
                    longest = max(longest, time.perf_counter() - began)
                    passes += 1
                    stop.wait(SEALER_PAUSE_SECONDS)
            except BaseException as e:
                failure.append(e)

        sealer = threading.Thread(target=seal, name="bench-sealer", daemon=True)
        barrier.wait(timeout=600)
        count = 0
        start = time.perf_counter()
        if job.sealer:
            sealer.start()
        deadline = start + job.seconds
        while True:
            count += 1
            write(count)
            now = time.perf_counter()
            if now >= deadline:
                break
        stop.set()
        if job.sealer:
            sealer.join()
        if failure:
            raise failure[0]
        old, new = log.update_tree()
        if new != store.max_seq(job.community):
            raise RuntimeError(f"the tree has {new} leaves, the chain more")
        # A plain tuple: a class of this module would not unpickle in the parent.
        return count, now - start, passes, longest, new - old
    finally:
        ledger.close()


def fresh_community(run: Run, backend: str) -> str:
    community_id = run.fresh_name("a")
    with Ledger(run.open_store(backend)) as ledger:
        ledger.add_community(Community(community_id, f"基准社区 {community_id}"))
    return community_id


def bench_append(run: Run, config: SealConfig) -> list[Target]:
    """Chain only against chain + sealer thread, interleaved, a fresh community each."""
    samples: dict[tuple[str, str], list[AppendResult]] = defaultdict(list)
    for round_no in range(1, config.rounds + 1):
        for backend in run.backends:
            for variant in (CHAIN_ONLY, WITH_SEALER):
                job = AppendJob(
                    run.store_url(backend),
                    fresh_community(run, backend),
                    config.seconds,
                    variant == WITH_SEALER,
                )
                [answer] = run_in_processes(append_writer, [job])
                result = AppendResult(*answer)
                samples[backend, variant].append(result)
                progress(
                    f"append round {round_no}: {backend} {variant}: "
                    f"{rate(result.saves / result.seconds)} saves/s"
                )
    rows = []
    targets = []
    for backend in run.backends:
        alone = [r.saves / r.seconds for r in samples[backend, CHAIN_ONLY]]
        sealed = samples[backend, WITH_SEALER]
        with_sealer = [r.saves / r.seconds for r in sealed]
        value = median(with_sealer) / median(alone)
        rows.append(
            [
                backend,
                rate(median(alone)),
                rate(median(with_sealer)),
                ratio(value),
                spread([s / a for s, a in zip(with_sealer, alone, strict=True)]),
                f"{median([r.sealer_passes for r in sealed]):.0f}",
                f"{max(r.longest_pass for r in sealed):.2f}",
                f"{max(r.unsealed_at_stop for r in sealed):,}",
            ]
        )
        targets.append(
            Target(
                f"append with sealer / chain only, {backend}",
                f">= {APPEND_RATIO_MIN}",
                ratio(value),
                value >= APPEND_RATIO_MIN,
            )
        )
    print_table(
        f"2. Appends with the tree maintained (saves/s, 1 event per save, 1 writer, "
        f"{config.seconds:g} s each; median of rounds)",
        [
            "backend",
            "chain only",
            "+sealer",
            "+sealer/chain only",
            "per round",
            "sealer passes",
            "longest pass s",
            "max unsealed at stop",
        ],
        rows,
    )
    print(
        "   the chained write path: CommunityLedger.save with an idempotency row; +sealer: a\n"
        f"   thread in the writer's process calling update_tree, then sleeping "
        f"{SEALER_PAUSE_SECONDS:g} s, in a loop.\n"
        "   sealer passes: update_tree calls in the run (median of rounds); longest pass: the\n"
        "   longest call (max of rounds; a call returns only once it finds nothing new); max\n"
        "   unsealed at stop: entries the tree lacked when the writer stopped (max of rounds)."
    )
    return targets


# --- 3. bundle -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BundleJob:
    url: str
    community: str
    path: str
    key: LogKey


@dataclass(frozen=True, slots=True)
class StepResult:
    """One export, write or verify-bundle process: seconds (``None`` if it was stopped),
    peak RSS in MB (if stopped: so far), entries done (if stopped: so far), bundle bytes."""

    seconds: float | None
    peak_mb: float
    entries: int
    size: int = 0

    @property
    def done(self) -> bool:
        return self.seconds is not None


Counter = Any  # a multiprocessing RawValue("q"): entries done, read by the parent if stopped


def counting(function: Callable[..., T], counter: Counter) -> Callable[..., T]:
    """``function``, counting its calls in ``counter`` (a step's progress)."""

    def counted(*args: Any, **kwargs: Any) -> T:
        counter.value += 1
        return function(*args, **kwargs)

    return counted


def export_step(job: BundleJob, counter: Counter) -> tuple[float, float, int, int]:
    """Child process: export the whole community (an open date range)."""
    # One call per entry; counted so that a stopped export says how far it got.
    ledger.bundle.stream.check_entry = counting(ledger.bundle.stream.check_entry, counter)
    key = parse_private_key(job.key.private)
    everything = parse_range(None, None, None)
    # A long export's proofs are written by a process of export_bundle's own, which
    # reports its peak memory: it counts too.
    writers: list[ProofWriterProcess] = []
    original_finish = ProofWriterProcess.finish

    def finish(self: ProofWriterProcess) -> tuple[str, int]:
        writers.append(self)
        return original_finish(self)

    ProofWriterProcess.finish = finish  # type: ignore[method-assign]
    with open_store(job.url) as store:
        start = time.perf_counter()
        summary = export_bundle(store, job.community, everything, Path(job.path), key)
        elapsed = time.perf_counter() - start
    worker_mb = sum((w.peak_kb or 0) for w in writers) / 1024
    return elapsed, peak_rss_mb() + worker_mb, summary.entries, summary.size


def verify_step(job: BundleJob, counter: Counter) -> tuple[float, float, int, int]:
    """Child process: verify the bundle offline against the log key."""
    bundle_verify.check_entry = counting(bundle_verify.check_entry, counter)
    # A large bundle's proofs are checked by a process of verify_bundle's own, which
    # reports its peak memory: it counts too.
    workers: list[EntryPipe] = []
    original_finish = EntryPipe.finish

    def finish(self: EntryPipe, *, complete: bool) -> dict[str, Any]:
        workers.append(self)
        return original_finish(self, complete=complete)

    EntryPipe.finish = finish  # type: ignore[method-assign]
    verifier = parse_vkey(job.key.vkey)
    start = time.perf_counter()
    report = verify_bundle(Path(job.path), [verifier])
    elapsed = time.perf_counter() - start
    worker_mb = sum((w.peak_kb or 0) for w in workers) / 1024
    return elapsed, peak_rss_mb() + worker_mb, report.entries, Path(job.path).stat().st_size


def reference_step(job: BundleJob, counter: Counter) -> tuple[float, float, int, int]:
    """Child process: the bundle export_bundle writes of the whole community, written by
    ``write_bundle`` with every proof computed from the whole tree read into memory; for
    verify-bundle to check when export was stopped. Not a target."""
    key = parse_private_key(job.key.private)
    with open_store(job.url) as store:
        start = time.perf_counter()
        community = store.community(job.community)
        log = CommunityLog(store, community.id)
        checkpoint = log.latest_checkpoint()
        size = checkpoint.tree_size
        levels = [
            log.seal.read_node_range(level, 0, size >> level) for level in range(size.bit_length())
        ]

        def read(nodes: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
            return {(level, idx): levels[level][idx] for level, idx in nodes}

        def rows() -> Iterator[RawRow]:
            return itertools.takewhile(lambda r: r[0] <= size, store.chain_rows(community.id))

        def proofs() -> Iterator[list[bytes]]:
            for index in range(size):
                counter.value += 1
                yield inclusion_proof(index, size, read)

        referenced = {digest.hex() for row in rows() for digest in export_attachments(row[6])}
        board = render_board_html(
            community.name, fold_board(rows()), as_of=str(last_day(log, size) or "?")
        )
        contents = BundleContents(
            community_id=community.id,
            community_name=community.name,
            origin=key.name,
            first_seq=1,
            last_seq=size,
            rows=rows(),
            proofs=proofs(),
            signed_checkpoint=log.cosigned_note(checkpoint),
            tree_size=size,
            board_html=board,
            attachments={},
            attachments_missing=sorted(referenced),
        )
        summary = write_bundle(Path(job.path), contents, key.signer(), overwrite=True)
        elapsed = time.perf_counter() - start
    return elapsed, peak_rss_mb(), summary.entries, summary.size


def last_day(log: CommunityLog, seq: int) -> date | None:
    rows = log.seal.chain_rows(seq - 1, 1)
    return recorded_day(rows[0][6]) if rows else None


def _step_main(work: Callable[[J, Counter], T], job: J, counter: Counter, results: Any) -> None:
    try:
        results.put((work(job, counter), None))
    except BaseException as e:
        results.put((None, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))


def vm_hwm_mb(pid: int) -> float:
    """The peak RSS so far of a running process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_step(
    work: Callable[[J, Counter], tuple[float, float, int, int]], job: J, timeout: float
) -> StepResult:
    """``work(job, counter)`` in a fresh spawned process, stopped after ``timeout`` s."""
    counter = SPAWN.RawValue("q", 0)
    results = SPAWN.Queue()
    process = SPAWN.Process(target=_step_main, args=(work, job, counter, results))
    process.start()
    try:
        value, error = results.get(timeout=timeout)
    except queue.Empty:
        peak = vm_hwm_mb(process.pid) if process.pid else float("nan")
        process.kill()
        process.join()
        return StepResult(None, peak, int(counter.value))
    process.join(timeout=30)
    if error:
        raise RuntimeError(f"a benchmark process failed:\n{error}")
    return StepResult(*value)


def bench_bundle(
    run: Run, config: SealConfig, logs: Sequence[SealedLog], key: LogKey
) -> list[Target]:
    """Export the whole community, then verify the bundle, each in a fresh process. If
    no export finishes in time, verify a bundle written directly instead."""
    size = logs[0].size
    steps: list[tuple[str, str, StepResult]] = []
    targets: list[Target] = []
    verified_one = False
    for log in logs:
        path = run.workdir / f"{log.backend}.bundle.zip"
        job = BundleJob(log.url, log.community, str(path), key)
        progress(f"bundle: {log.backend}: exporting {size:,} entries")
        exported = run_step(export_step, job, config.step_timeout)
        progress(f"bundle: {log.backend}: export {describe(exported, size, config)}")
        steps.append((EXPORT, log.backend, exported))
        targets += step_targets(f"{EXPORT}, {log.backend}", EXPORT_SECONDS_MAX, exported, config)
        if exported.done:
            if exported.entries != size:
                raise RuntimeError(f"the bundle holds {exported.entries} entries, not {size}")
            verified = run_step(verify_step, job, config.step_timeout)
            progress(f"bundle: {log.backend}: verify-bundle {describe(verified, size, config)}")
            what = f"{log.backend} export"
            steps.append((VERIFY, what, verified))
            targets += step_targets(f"{VERIFY}, {what}", VERIFY_SECONDS_MAX, verified, config)
            verified_one = True
        path.unlink(missing_ok=True)
    if not verified_one:
        log = logs[0]
        path = run.workdir / "reference.bundle.zip"
        job = BundleJob(log.url, log.community, str(path), key)
        progress("bundle: no export finished: writing the bundle with write_bundle instead")
        written = run_step(reference_step, job, 3 * config.step_timeout)
        steps.append((REFERENCE, log.backend, written))
        if written.done:
            verified = run_step(verify_step, job, config.step_timeout)
            progress(f"bundle: reference: verify-bundle {describe(verified, size, config)}")
            what = "reference bundle"
            steps.append((VERIFY, what, verified))
            targets += step_targets(f"{VERIFY}, {what}", VERIFY_SECONDS_MAX, verified, config)
        path.unlink(missing_ok=True)
    report_bundle(config, size, steps)
    return targets


def step_targets(
    name: str, seconds: float, result: StepResult, config: SealConfig
) -> list[Target]:
    return [
        Target(
            f"{name}: time",
            f"< {seconds} s",
            seconds_cell(result, config) + " s",
            result.seconds is not None and result.seconds < seconds,
        ),
        Target(
            f"{name}: peak RSS",
            f"< {BUNDLE_RSS_MAX_MB} MB",
            f"{result.peak_mb:.0f} MB" + " so far (stopped)" * (not result.done),
            result.done and result.peak_mb < BUNDLE_RSS_MAX_MB,
        ),
    ]


def report_bundle(
    config: SealConfig, size: int, steps: Sequence[tuple[str, str, StepResult]]
) -> None:
    rows = []
    for step, what, result in steps:
        elapsed = result.seconds if result.seconds is not None else config.step_timeout
        rows.append(
            [
                step,
                what,
                f"{result.entries:,}",
                seconds_cell(result, config),
                rate(result.entries / elapsed) if elapsed else "-",
                f"{result.peak_mb:.0f}" + " so far" * (not result.done),
                f"{result.size / 2**20:,.0f}" if result.size else "-",
            ]
        )
    print_table(
        f"3. A bundle of the whole community ({size:,} entries; one run each, each step in "
        "a fresh process)",
        ["step", "of", "entries", "seconds", "entries/s", "peak RSS MB", "bundle MB"],
        rows,
        left=2,
    )
    print(
        "   export: api.cli.export.export_bundle, open date range; verify-bundle:\n"
        "   ledger.bundle.verify.verify_bundle against the log key; peak RSS: the process's\n"
        "   VmHWM plus the peak of the process each starts for the proofs, as it reports it.\n"
        f"   A step still running after {config.step_timeout:g} s is stopped: 'entries' is\n"
        "   then how many it had done, and its peak RSS is read just before it is stopped."
    )
    for step, what, result in steps:
        if not result.done and result.entries:
            projected = size * config.step_timeout / result.entries
            print(
                f"   {step} {what}: stopped at {result.entries:,} of {size:,} entries; "
                f"at that rate the whole would take ~{projected:,.0f} s"
            )
    if any(step == REFERENCE for step, _, _ in steps):
        print(
            f"   {REFERENCE}: no export finished, so the bundle verified is the one export\n"
            "   writes, written by ledger.bundle.write.write_bundle with the proofs computed\n"
            "   from the whole tree read into memory (not a target)."
        )


def seconds_cell(result: StepResult, config: SealConfig) -> str:
    if result.seconds is None:
        return f"> {config.step_timeout:g}"
    return f"{result.seconds:.1f}"


def describe(result: StepResult, size: int, config: SealConfig) -> str:
    if result.seconds is None:
        return (
            f"stopped after {config.step_timeout:g} s at {result.entries:,} of {size:,} "
            f"entries, {result.peak_mb:.0f} MB so far"
        )
    return f"{result.seconds:.1f} s, {result.peak_mb:.0f} MB"


# --- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    pg_url = os.environ.get("GONGKAI_TEST_PG_ADMIN_URL") or None
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-seal-") as workdir:
        run = make_run(config, Path(workdir), pg_url)
        print_header(run, config)
        targets: list[Target] = []
        if "proofs" in config.parts or "bundle" in config.parts:
            logs, key = prepare_logs(run, config)
            if "proofs" in config.parts:
                targets += bench_proofs(config, logs)
                gc.collect()  # pymerkle's tree, whose nodes point at their parents
            else:
                report_build(logs, None)
        if "append" in config.parts:
            targets += bench_append(run, config)
        if "bundle" in config.parts:
            targets += bench_bundle(run, config, logs, key)
        print_summary(targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
