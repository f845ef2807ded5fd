"""Benchmark of the board under load: ``GET /v1/communities/tianhai/board`` and the
portal's board page ``GET /c/tianhai``, served by uvicorn and loaded by wrk, beside a
trivial route of the same app in the same server.

Run by hand, never by the test suite; it prints tables and asserts nothing::

    apt-get install wrk                       # the load generator, Debian package wrk
    .venv/bin/python bench/bench_board_load.py
    .venv/bin/python bench/bench_board_load.py --seconds 5 --rounds 1   # a quick check

A SQLite service is set up as an operator would: ``gongkai demo`` (the community
天海社区 with a disclosure of every category and scope), ``gongkai db init``, N (200)
more published disclosures of mixed scopes, a resident's account and bearer token
(``gongkai users add`` and ``gongkai users token``), then ``gongkai projections run
--once`` so that the read models have caught up before the load. One uvicorn server
(one worker process by default: on a two-core machine wrk needs the other core) serves
:func:`bench_app`, which is ``api.service.app.create_app`` with one extra route,
``GET /bench/trivial``, answering a tiny JSON object. Five targets are loaded in turn,
interleaved over the rounds, each by wrk for ``--seconds`` with ``--connections``
connections:

1. ``/bench/trivial``: what the framework and the server cost, with no work;
2. the board as the anonymous public sees it (public items, personal data masked);
3. the board as a signed-in resident of the community sees it (``Authorization:
   Bearer ...``: public and internal items, unmasked);
4. and 5. the portal's board page (HTML, Chinese), anonymous and as the resident, asked
   for with ``Accept-Encoding: gzip, deflate, br`` as browsers ask.

The table reports the median requests/s and median p99 latency of the rounds, and the
board's throughput as a share of the trivial route's. Targets: board ÷ trivial >= 0.5
and board p99 < 50 ms. A run with socket errors (timeouts included) or answers other
than 2xx and 3xx is reported as invalid and left out of the medians.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Final

# Run as a script, only bench/ is on sys.path: add the project's root. uvicorn imports
# this module too (for bench_app), with the root on its path already.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import FastAPI

from api.demo.script import CHAIR, CLERK, PARTY
from api.service.app import create_app
from api.service.settings import Settings
from bench.bench_ledger import (
    Target,
    median,
    print_summary,
    print_table,
    progress,
    rate,
    ratio,
    spread,
)
from ledger.application import Ledger
from ledger.domain.vocabulary import CATEGORIES, Channel, ReviewOutcome, ReviewStage, Scope
from ledger.store import open_store

ROOT: Final = Path(__file__).resolve().parents[1]
COMMUNITY: Final = "tianhai"
TRIVIAL_PATH: Final = "/bench/trivial"
BOARD_PATH: Final = f"/v1/communities/{COMMUNITY}/board"
RESIDENT: Final = "bench.resident"

PAGE_PATH: Final = f"/c/{COMMUNITY}"

TRIVIAL: Final = "trivial"
BOARD: Final = "board, anonymous"
BOARD_SIGNED_IN: Final = "board, resident"
PAGE: Final = "board page, anonymous"
PAGE_SIGNED_IN: Final = "board page, resident"
TARGETS: Final = (TRIVIAL, BOARD, BOARD_SIGNED_IN, PAGE, PAGE_SIGNED_IN)
#: Where each target is, and whether it is seen signed in.
PATHS: Final = {
    TRIVIAL: TRIVIAL_PATH,
    BOARD: BOARD_PATH,
    BOARD_SIGNED_IN: BOARD_PATH,
    PAGE: PAGE_PATH,
    PAGE_SIGNED_IN: PAGE_PATH,
}
SIGNED_IN: Final = (BOARD_SIGNED_IN, PAGE_SIGNED_IN)
#: What every browser sends, and so what the page targets send: the portal compresses
#: the kept board page once per view (api.portal.routes.board_page).
BROWSER: Final = {"Accept-Encoding": "gzip, deflate, br"}

# Targets.
RATIO_MIN: Final = 0.5
P99_MAX_MS: Final = 50.0

# A request wrk has not seen answered after this long is a socket error (a timeout) and
# left out of its latency figures: long enough that a slow board shows in the p99.
WRK_TIMEOUT_S: Final = 10
SERVER_START_TIMEOUT_S: Final = 60
# Five of ten items public, three internal, two for the leadership (班子内部).
SCOPE_CYCLE: Final = (Scope.PUBLIC,) * 5 + (Scope.INTERNAL,) * 3 + (Scope.LEADERSHIP,) * 2


# --- the service -------------------------------------------------------------------------


def trivial() -> dict[str, str]:
    """The trivial route: a tiny JSON object, no dependency, no database. A plain
    ``def``, like the board's, so that both go through the same thread pool."""
    return {"status": "ok"}


def bench_app() -> FastAPI:
    """uvicorn's factory: the service of the environment's settings (``GONGKAI_DB``,
    ``GONGKAI_KEYS_DIR``) with the sealer off, plus the trivial route."""
    app = create_app(Settings(checkpoint_interval=0))
    app.add_api_route(TRIVIAL_PATH, trivial, methods=["GET"], tags=["bench"])
    return app


@dataclass(frozen=True, slots=True)
class Workload:
    """The service's data: its database URL, keys directory and the resident's token."""

    db_url: str
    keys_dir: Path
    token: str


def clean_env(**settings: str) -> dict[str, str]:
    """This environment without the caller's GONGKAI_ settings, with ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    return env | settings


def gongkai(*args: str) -> str:
    """Run ``gongkai ARGS`` in a child process (as an operator would); its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli.main", *args],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"gongkai {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def add_disclosures(db_url: str, count: int) -> None:
    """``count`` published disclosures of mixed scopes and every category, drafted,
    reviewed (a third of them by the party branch too) and posted on the board."""
    today = dt.date.today()
    posting = {
        "period_from": today.isoformat(),
        "period_until": (today + dt.timedelta(days=29)).isoformat(),
    }
    approved = ReviewOutcome.APPROVED
    with Ledger(open_store(db_url)) as ledger:
        book = ledger.community(COMMUNITY)
        for n in range(count):
            key = f"bench:{n}"
            category = CATEGORIES[n % len(CATEGORIES)]
            # Now and then a contact's mobile number, which the public view masks.
            contact = "，联系人13812345678" if n % 7 == 0 else ""
            did = book.draft_disclosure(
                CLERK,
                f"{key}:draft",
                category=category.code,
                title=f"{category.name}公示（第{n + 1}号）{contact}",
                body=f"天海社区{category.name}事项第{n + 1}号，详见居委会公开栏及电子屏。",
                scope=SCOPE_CYCLE[n % len(SCOPE_CYCLE)],
                planned_from=posting["period_from"],
                planned_until=posting["period_until"],
            ).result["id"]
            book.submit_for_review(CLERK, f"{key}:submit", did)
            book.review(
                CHAIR,
                f"{key}:committee",
                did,
                stage=ReviewStage.COMMITTEE,
                outcome=approved,
                opinion="内容真实、具体，同意公开。",
            )
            book.review(
                PARTY,
                f"{key}:party",
                did,
                stage=ReviewStage.PARTY_BRANCH,
                outcome=approved,
                opinion="经党支部审查，同意公开。",
            )
            book.publish(CLERK, f"{key}:publish", did, channel=Channel.BOARD, **posting)
            if (n + 1) % 100 == 0:
                progress(f"published {n + 1} of {count} disclosures")


def prepare(workdir: Path, items: int) -> Workload:
    """The demo community, ``items`` more disclosures, a resident's token, and the read
    models caught up."""
    db_url = f"sqlite:///{workdir / 'gongkai.sqlite3'}"
    keys_dir = workdir / "keys"
    started = time.perf_counter()
    gongkai("demo", "--db", db_url, "--keys-dir", str(keys_dir))
    gongkai("db", "init", "--db", db_url)
    add_disclosures(db_url, items)
    password_file = workdir / "resident.password"
    password_file.write_text(secrets.token_urlsafe(15), encoding="utf-8")
    gongkai(
        "users", "add", "--db", db_url, "--username", RESIDENT, "--role", "resident",
        "--community", COMMUNITY, "--name", "刘*华", "--password-file", str(password_file),
    )  # fmt: skip
    token = gongkai("users", "token", "--db", db_url, RESIDENT, "--label", "bench").strip()
    gongkai("projections", "run", "--db", db_url, "--once")
    progress(f"service data ready in {time.perf_counter() - started:.0f} s")
    return Workload(db_url, keys_dir, token)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "bench.bench_board_load:bench_app",
        "--app-dir", str(ROOT), "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


@contextmanager
def serving(workload: Workload, command: list[str], log: Path) -> Iterator[None]:
    """The uvicorn server of ``command`` running until the block ends."""
    port = int(command[command.index("--port") + 1])
    with log.open("w") as stderr:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=clean_env(GONGKAI_DB=workload.db_url, GONGKAI_KEYS_DIR=str(workload.keys_dir)),
            stdout=stderr,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"uvicorn stopped ({server.returncode}): {log.read_text()}")
            try:
                get(f"http://127.0.0.1:{port}{TRIVIAL_PATH}", {})
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn did not answer: {log.read_text()}") from None
                time.sleep(0.2)
        yield
    finally:
        server.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def get(url: str, headers: dict[str, str]) -> bytes:
    """The body of a GET that must answer 200."""
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
        body: bytes = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            return gzip.decompress(body)
        return body


# --- wrk ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    """How wrk loads a target."""

    seconds: float
    connections: int
    threads: int

    def command(
        self, url: str, headers: dict[str, str], seconds: float | None = None
    ) -> list[str]:
        command = [
            "wrk", f"-t{self.threads}", f"-c{self.connections}",
            f"-d{max(1, round(seconds or self.seconds))}s", f"--timeout={WRK_TIMEOUT_S}s",
            "--latency",
        ]  # fmt: skip
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        return [*command, url]


@dataclass(frozen=True, slots=True)
class WrkRun:
    """What one wrk run reported."""

    requests: int
    per_second: float
    percentiles_ms: dict[int, float]
    non_2xx_3xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.non_2xx_3xx + sum(self.socket_errors.values())

    @property
    def valid(self) -> bool:
        return self.errors == 0 and self.requests > 0

    @property
    def p99_ms(self) -> float:
        return self.percentiles_ms[99]

    def describe_errors(self) -> str:
        parts = [f"{self.non_2xx_3xx} non-2xx/3xx"] if self.non_2xx_3xx else []
        parts += [f"{n} {kind}" for kind, n in self.socket_errors.items() if n]
        return ", ".join(parts) or "none"


_UNIT_MS: Final = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE: Final = re.compile(r"^\s*(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_REQUESTS: Final = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_PER_SECOND: Final = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX: Final = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", re.MULTILINE)
_SOCKET: Final = re.compile(
    r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.MULTILINE
)


def parse_wrk(output: str) -> WrkRun:
    """wrk's report (run with ``--latency``): requests, requests/s, the "Latency
    Distribution" percentiles and the error lines, which wrk prints only when not 0."""
    requests, per_second = _REQUESTS.search(output), _PER_SECOND.search(output)
    block = output.partition("Latency Distribution")[2]
    percentiles = {int(p): float(v) * _UNIT_MS[unit] for p, v, unit in _PERCENTILE.findall(block)}
    if requests is None or per_second is None or 99 not in percentiles:
        raise RuntimeError(f"cannot read wrk's report:\n{output}")
    non_2xx = _NON_2XX.search(output)
    socket_errors = _SOCKET.search(output)
    kinds = ("connect", "read", "write", "timeout")
    return WrkRun(
        requests=int(requests[1]),
        per_second=float(per_second[1]),
        percentiles_ms=percentiles,
        non_2xx_3xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=dict(zip(kinds, map(int, socket_errors.groups()), strict=True))
        if socket_errors
        else {},
    )


def run_wrk(command: list[str]) -> WrkRun:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def wrk_version() -> str:
    # wrk has no --version of its own: it prints its banner before the usage, and exits 1.
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0]


# --- the benchmark -----------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="per run (30)")
    parser.add_argument("--connections", type=int, default=50, help="wrk -c (50)")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t (2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--items", type=int, default=200, help="disclosures added (200)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (1)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per target (3)")
    args = parser.parse_args(argv)
    if args.connections < args.threads or min(args.threads, args.rounds, args.workers) < 1:
        parser.error("needs threads, rounds and workers >= 1 and connections >= threads")
    if args.seconds < 1 or args.items < 0 or args.warmup < 0:
        parser.error("needs --seconds >= 1, --items >= 0 and --warmup >= 0")
    return args


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def print_header(args: argparse.Namespace, load: Load, server: list[str]) -> None:
    print("gongkai board under load")
    print(
        f"python {platform.python_version()}, uvicorn {package_version('uvicorn')}, "
        f"fastapi {package_version('fastapi')}, starlette {package_version('starlette')}, "
        f"{wrk_version()}, {os.cpu_count()} CPUs"
    )
    print(
        f"uvicorn extras: uvloop {package_version('uvloop')}, "
        f"httptools {package_version('httptools')} (without them: asyncio and h11)"
    )
    print(
        f"{args.rounds} rounds of {args.seconds:g} s per target, interleaved "
        f"({', '.join(TARGETS)}), {args.warmup:g} s warm-up per target; "
        f"{args.connections} connections, {args.threads} wrk threads, "
        f"{args.workers} uvicorn worker(s); {args.items} disclosures added to the demo"
    )
    print("server: python " + " ".join(server[1:]).replace(str(ROOT), "."))
    print("wrk:    " + " ".join(load.command("http://127.0.0.1:PORT/PATH", {})))
    sys.stdout.flush()


def check_targets(base: str, headers: dict[str, dict[str, str]]) -> list[list[str]]:
    """One GET of each target before the load: it must answer what is meant (the board
    in the view of its reader, the page with as many items as the JSON board posts to
    the same reader). Rows of what each answered."""
    rows = []
    posted: dict[bool, int] = {}
    for target in TARGETS:
        path = PATHS[target]
        body = get(base + path, headers[target])
        if target == TRIVIAL:
            rows.append([target, path, "-", f"{len(body):,}"])
            continue
        signed_in = target in SIGNED_IN
        if path == PAGE_PATH:
            articles = body.count(b"<article>")
            if articles != posted[signed_in]:
                raise RuntimeError(f"{target}: {articles} items, the JSON board posts {posted}")
            rows.append([target, path, f"{articles} (HTML)", f"{len(body):,}"])
            continue
        answer: dict[str, Any] = json.loads(body)
        if answer["public_view"] == signed_in:
            raise RuntimeError(f"{target}: public_view is {answer['public_view']}")
        items = answer["items"]
        posted[signed_in] = sum(1 for item in items if item["status"] == "published")
        scopes = sorted({item["scope"] for item in items})
        what = f"{len(items)} ({', '.join(scopes)})"
        rows.append([target, path, what, f"{len(body):,}"])
    return rows


def measure(
    args: argparse.Namespace, load: Load, base: str, headers: dict[str, dict[str, str]]
) -> dict[str, list[WrkRun]]:
    urls = {t: base + PATHS[t] for t in TARGETS}
    if args.warmup:
        for target in TARGETS:
            warm = run_wrk(load.command(urls[target], headers[target], args.warmup))
            progress(f"warm-up {target}: {rate(warm.per_second)} req/s")
    runs: dict[str, list[WrkRun]] = {t: [] for t in TARGETS}
    for round_no in range(1, args.rounds + 1):
        for target in TARGETS:  # interleaved
            run = run_wrk(load.command(urls[target], headers[target]))
            runs[target].append(run)
            progress(
                f"round {round_no}: {target}: {rate(run.per_second)} req/s, "
                f"p99 {run.p99_ms:.1f} ms, errors: {run.describe_errors()}"
            )
    return runs


def report(args: argparse.Namespace, runs: dict[str, list[WrkRun]]) -> list[Target]:
    print_table(
        "Every run",
        ["round", "target", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors"],
        [
            [
                str(n),
                target,
                f"{run.requests:,}",
                rate(run.per_second),
                f"{run.percentiles_ms.get(50, float('nan')):.1f}",
                f"{run.percentiles_ms.get(90, float('nan')):.1f}",
                f"{run.p99_ms:.1f}",
                run.describe_errors() if run.errors else "-",
            ]
            for n in range(1, args.rounds + 1)
            for target in TARGETS
            for run in [runs[target][n - 1]]
        ],
        left=2,
    )
    trivial_runs = runs[TRIVIAL]
    trivial_valid = [r.per_second for r in trivial_runs if r.valid]
    rows: list[list[str]] = []
    targets: list[Target] = []
    for target in TARGETS:
        valid = [r for r in runs[target] if r.valid]
        invalid = f"{len(runs[target]) - len(valid)} of {len(runs[target])}"
        if not valid:
            rows.append([target, "-", "-", "-", "-", invalid])
            per_second = p99 = None
        else:
            per_second = median([r.per_second for r in valid])
            p99 = median([r.p99_ms for r in valid])
        share = per_second / median(trivial_valid) if per_second and trivial_valid else None
        per_round = [
            b.per_second / t.per_second
            for b, t in zip(runs[target], trivial_runs, strict=True)
            if b.valid and t.valid
        ]
        if per_second is not None and p99 is not None:
            rows.append(
                [
                    target,
                    rate(per_second),
                    f"{p99:.1f}",
                    ratio(share) if share is not None else "-",
                    spread(per_round) if target != TRIVIAL else "",
                    invalid,
                ]
            )
        if target == TRIVIAL:
            continue
        targets.append(
            Target(
                f"{target} ÷ trivial, req/s",
                f">= {RATIO_MIN}",
                ratio(share) if share is not None else "no valid run",
                share is not None and share >= RATIO_MIN,
            )
        )
        targets.append(
            Target(
                f"{target}, p99 latency",
                f"< {P99_MAX_MS:g} ms",
                f"{p99:.1f} ms" if p99 is not None else "no valid run",
                p99 is not None and p99 < P99_MAX_MS,
            )
        )
    print_table(
        f"The board beside a trivial route (wrk -t{args.threads} -c{args.connections}, "
        f"{args.seconds:g} s per run; medians of the valid runs)",
        ["target", "req/s", "p99 ms", "÷ trivial", "per round", "invalid runs"],
        rows,
    )
    print(
        "   invalid: a run with socket errors (a timeout is one) or answers other than\n"
        "   2xx/3xx; its figures are left out. wrk shares the machine with the server."
    )
    return targets


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print(
            "bench_board_load: wrk is not on PATH; install it first, e.g. on Debian or "
            "Ubuntu: sudo apt-get update && sudo apt-get install -y wrk",
            file=sys.stderr,
        )
        return 2
    load = Load(args.seconds, args.connections, args.threads)
    port = free_port()
    command = server_command(port, args.workers)
    print_header(args, load, command)
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-board-") as workdir:
        workload = prepare(Path(workdir), args.items)
        bearer = {"Authorization": f"Bearer {workload.token}"}
        headers = {t: bearer if t in SIGNED_IN else {} for t in TARGETS}
        for target in (PAGE, PAGE_SIGNED_IN):
            headers[target] = {**headers[target], **BROWSER}
        base = f"http://127.0.0.1:{port}"
        with serving(workload, command, Path(workdir) / "uvicorn.log"):
            print_table(
                "What each target answers",
                ["target", "path", "items (scopes)", "bytes"],
                check_targets(base, headers),
                left=3,
            )
            runs = measure(args, load, base, headers)
        print_summary(report(args, runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
