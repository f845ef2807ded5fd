"""Benchmark of how soon a command shows on the board: the time from a command's
acknowledgement to the first answer of the JSON board that includes it, with the
projection worker inside ``gongkai serve``.

Run by hand, never by the test suite; it prints tables and asserts nothing::

    .venv/bin/python bench/bench_board_latency.py                      # SQLite
    .ci/with-postgres .venv/bin/python bench/bench_board_latency.py    # and PostgreSQL
    ... bench/bench_board_latency.py [--seconds S] [--rate R] [--only sqlite|postgres]
        [--sealer-off]

Per backend: ``gongkai demo`` in a fresh store (SQLite in a scratch directory; on
PostgreSQL a database of its own when ``GONGKAI_TEST_PG_SUPER_URL`` allows, else the
test database), then ``gongkai serve`` as ``make run`` starts it (the worker in its
process, the sealer on, signing after each publication, unless ``--sealer-off``). One
writer posts R (50) commands a second for S (30) s, on a fixed schedule, over one
kept-alive connection: a disclosure drafted, submitted, approved by the committee
chair and the party branch, and published, again and again, each command with its own
``Idempotency-Key`` and the clerk's, the chair's or the party reviewer's bearer token.
Beside it one reader fetches the JSON board (``GET /v1/communities/tianhai/board``, the
public view) back to back over its own connection and notes, with each answer, the
entry the board projection had applied (``projected_to``).

A command's latency is the time from its acknowledgement (the writer has read the
answer, which names the command's last entry) to the first board answer whose
``projected_to`` reaches that entry (0 when an answer received earlier already had
it); the reader's round trip, shown beside it, is the resolution. At the end every
published disclosure must be on the board. Targets: median < 100 ms and p99 < 500 ms
on each backend, for every command and for the publications alone.
"""

from __future__ import annotations

import argparse
import bisect
import http.client
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

# Run as a script, only bench/ is on sys.path: add the project's root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_ledger import Target, print_summary, print_table, progress
from ledger.domain.vocabulary import Role

MEDIAN_MAX: Final = 0.100
P99_MAX: Final = 0.500
CLI: Final = "import sys; from api.cli.main import main; sys.exit(main(sys.argv[1:]))"
BOARD: Final = "/v1/communities/tianhai/board"
DRAFT: Final = {
    "category": "social_assistance",
    "title": "低保发放公示",
    "body": "本月低保对象共12户,发放金额合计18,600元。",
    "scope": "public",
    "planned_from": "2026-07-01",
    "planned_until": "2026-07-31",
}
REVIEW: Final = {"stage": "committee", "outcome": "approved", "opinion": "同意"}
PUBLICATION: Final = {
    "channel": "board",
    "period_from": "2026-07-01",
    "period_until": "2026-07-31",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="writing time (30)")
    parser.add_argument("--rate", type=float, default=50.0, help="commands a second (50)")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one backend only")
    parser.add_argument("--sealer-off", action="store_true", help="GONGKAI_CHECKPOINT_INTERVAL=0")
    return parser.parse_args(argv)


# --- the service ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def gongkai(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"gongkai {' '.join(args[:2])}: {done.stderr}")
    return done.stdout


@contextmanager
def fresh_postgres(admin_url: str) -> Iterator[str]:
    """A database of its own (dropped afterwards) if the superuser's URL is known."""
    import psycopg

    super_url = os.environ.get("GONGKAI_TEST_PG_SUPER_URL")
    if not super_url:
        yield admin_url
        return
    name = "gk_latency_" + uuid.uuid4().hex[:8]
    owner = psycopg.conninfo.conninfo_to_dict(admin_url).get("user", "postgres")
    with psycopg.connect(super_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE {name} OWNER "{owner}"')
    try:
        yield admin_url.rpartition("/")[0] + "/" + name
    finally:
        with psycopg.connect(super_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@contextmanager
def service(url: str, workdir: Path, sealer: bool) -> Iterator[tuple[int, dict[str, str]]]:
    """The demo in ``url`` and ``gongkai serve`` on it: (port, tokens by role)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    env["GONGKAI_KEYS_DIR"] = str(workdir / "keys")
    if not sealer:
        env["GONGKAI_CHECKPOINT_INTERVAL"] = "0"
    gongkai("demo", "--db", url, "--keys-dir", str(workdir / "keys"), env=env)
    tokens = {}
    for role in (Role.CLERK, Role.COMMITTEE_CHAIR, Role.PARTY_REVIEWER):
        name = f"bench.{role.value}.{uuid.uuid4().hex[:6]}"
        password = workdir / "password"
        password.write_text(uuid.uuid4().hex + "\n")
        gongkai(
            "users", "add", "--db", url, "--username", name, "--role", role.value,
            "--community", "tianhai", "--password-file", str(password), env=env,
        )  # fmt: skip
        tokens[role.value] = gongkai("users", "token", "--db", url, name, env=env).strip()
    port = free_port()
    log = (workdir / f"serve-{port}.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-c", CLI, "serve", "--db", url, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = request(
                    http.client.HTTPConnection("127.0.0.1", port), "GET", "/healthz"
                )
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("gongkai serve did not start")
            time.sleep(0.1)
        yield port, tokens
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if data is not None else {}
    conn.request(method, path, body=data, headers={**sent, **(headers or {})})
    response = conn.getresponse()
    raw = response.read()
    return response.status, json.loads(raw) if raw else None


# --- the load ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ack:
    command: str
    last_seq: int
    at: float  # when the answer was read


@dataclass(frozen=True, slots=True)
class Load:
    acks: list[Ack]
    samples: list[tuple[float, int]]  # (answer read, projected_to), in order
    round_trips: list[float]
    published: list[str]
    late: float  # the most the writer fell behind its schedule, seconds
    board_ids: set[str]


def run_load(port: int, tokens: dict[str, str], seconds: float, rate: float) -> Load:
    clerk = {"Authorization": f"Bearer {tokens[Role.CLERK.value]}"}
    chair = {"Authorization": f"Bearer {tokens[Role.COMMITTEE_CHAIR.value]}"}
    party = {"Authorization": f"Bearer {tokens[Role.PARTY_REVIEWER.value]}"}
    base = "/v1/communities/tianhai"
    stop = threading.Event()
    samples: list[tuple[float, int]] = []
    round_trips: list[float] = []

    def read() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while not stop.is_set():
            sent = time.monotonic()
            status, body = request(conn, "GET", BOARD)
            received = time.monotonic()
            if status != 200:
                raise RuntimeError(f"the board answered {status}")
            samples.append((received, int(body["projected_to"])))
            round_trips.append(received - sent)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    conn = http.client.HTTPConnection("127.0.0.1", port)
    acks: list[Ack] = []
    published: list[str] = []
    did = ""
    late = 0.0
    total = int(seconds * rate)
    started = time.monotonic()
    for n in range(total):
        due = started + n / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        late = max(late, time.monotonic() - due)
        step = n % 5
        if step == 0:
            command, path, body, who = (
                "draft",
                "/disclosures",
                {**DRAFT, "title": f"公示 {n}"},
                clerk,
            )
        elif step == 1:
            command, path, body, who = "submit", f"/disclosures/{did}/submission", {}, clerk
        elif step == 2:
            command, path, body, who = "review", f"/disclosures/{did}/reviews", REVIEW, chair
        elif step == 3:
            party_review = {**REVIEW, "stage": "party_branch"}
            command, path, body, who = "review", f"/disclosures/{did}/reviews", party_review, party
        else:
            command, path, body, who = (
                "publish",
                f"/disclosures/{did}/publication",
                PUBLICATION,
                clerk,
            )
        headers = {**who, "Idempotency-Key": str(uuid.uuid4())}
        status, answer = request(conn, "POST", base + path, body, headers)
        at = time.monotonic()
        if status != 201:
            raise RuntimeError(f"{command} answered {status}: {answer}")
        acks.append(Ack(command, int(answer["last_seq"]), at))
        if step == 0:
            did = answer["result"]["id"]
        if step == 3:
            published.append(did)
        if n and n % int(rate * 5) == 0:
            progress(f"{n:,} of {total:,} commands")
    # Until the reader has seen the last command applied, or 5 s.
    deadline = time.monotonic() + 5
    while (not samples or samples[-1][1] < acks[-1].last_seq) and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    reader.join(timeout=10)
    _, board = request(conn, "GET", BOARD)
    board_ids = {item["disclosure_id"] for item in board["items"]}
    return Load(acks, samples, round_trips, published, late, board_ids)


def latencies(load: Load, commands: set[str] | None = None) -> list[float]:
    """Each acknowledged command's time to the first board answer that includes it."""
    times = [t for t, _ in load.samples]
    positions = [p for _, p in load.samples]
    # projected_to only grows, so the first answer at or past a seq is a bisection.
    out = []
    for ack in load.acks:
        if commands is not None and ack.command not in commands:
            continue
        i = bisect.bisect_left(positions, ack.last_seq)
        if i == len(positions):
            out.append(float("inf"))  # never seen
        else:
            out.append(max(0.0, times[i] - ack.at))
    return out


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(value: float) -> str:
    return "never" if value == float("inf") else f"{value * 1000:.1f}"


# --- main -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pg_url = os.environ.get("GONGKAI_TEST_PG_ADMIN_URL") or None
    backends = [b for b in ("sqlite", "postgres") if args.only in (None, b)]
    if "postgres" in backends and not pg_url:
        if args.only == "postgres":
            print("no PostgreSQL: run under .ci/with-postgres", file=sys.stderr)
            return 2
        backends.remove("postgres")
    print(
        "gongkai board latency: python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; "
        f"{args.rate:g} commands/s for {args.seconds:g} s, the sealer "
        + ("off" if args.sealer_off else "on")
    )
    rows, targets = [], []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="gongkai-bench-latency-") as workdir:
            progress(f"{backend}: demo, accounts, gongkai serve")
            stores: AbstractContextManager[str] = (
                fresh_postgres(pg_url or "")
                if backend == "postgres"
                else nullcontext(f"sqlite:///{workdir}/gongkai.sqlite3")
            )
            with stores as url, service(url, Path(workdir), not args.sealer_off) as (port, tokens):
                load = run_load(port, tokens, args.seconds, args.rate)
        missing = set(load.published) - load.board_ids
        if missing:
            raise RuntimeError(f"{backend}: {len(missing)} publications not on the board")
        achieved = len(load.acks) / (load.acks[-1].at - load.acks[0].at)
        for label, commands in (("every command", None), ("publications", {"publish"})):
            values = latencies(load, commands)
            median, p99 = statistics.median(values), percentile(values, 0.99)
            rows.append(
                [
                    backend,
                    label,
                    f"{len(values):,}",
                    ms(median),
                    ms(p99),
                    ms(max(values)),
                    ms(statistics.median(load.round_trips)),
                    f"{achieved:.1f}",
                    ms(load.late),
                ]
            )
            targets.append(
                Target(
                    f"{backend}, {label}, median",
                    f"< {MEDIAN_MAX * 1000:.0f} ms",
                    f"{ms(median)} ms",
                    median < MEDIAN_MAX,
                )
            )
            targets.append(
                Target(
                    f"{backend}, {label}, p99",
                    f"< {P99_MAX * 1000:.0f} ms",
                    f"{ms(p99)} ms",
                    p99 < P99_MAX,
                )
            )
    print_table(
        "From a command's acknowledgement to the JSON board (ms)",
        [
            "backend",
            "commands",
            "count",
            "median",
            "p99",
            "max",
            "reader's round trip",
            "commands/s",
            "writer late by",
        ],
        rows,
        left=2,
    )
    print_summary(targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
