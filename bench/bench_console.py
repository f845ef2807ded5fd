"""Benchmark of the staff console: its task pages under a fixed, open-loop load, signed
in with the session cookie, beside a trivial route at the same rate; and a 10 MiB upload
against the same bytes sent to a route that discards them.

Run by hand, never by the test suite; it prints tables and asserts nothing::

    .venv/bin/python bench/bench_console.py
    .venv/bin/python bench/bench_console.py --seconds 5 --upload-rounds 3   # a quick check

The service is set up as ``bench/bench_board_load.py`` sets it up (``gongkai demo``,
200 more published disclosures, the read models caught up), with a clerk's account. One
uvicorn server (one worker process: the generator needs the other core) serves
:func:`bench_app`: ``create_app`` with two extra routes, ``GET /bench/trivial`` (a tiny
JSON object) and ``POST /bench/discard`` (reads the body as it streams and keeps
nothing).

1. **Task pages at a fixed rate.** The generator is a small asyncio client that keeps a
   schedule: request *i* is sent at ``start + i / rate`` whatever the answers before it
   (an open loop, as wrk2 and vegeta run), and its latency is counted from that planned
   time, so that a slow server cannot hide its queue (no coordinated omission). Each
   target is loaded for ``--seconds`` at ``--rate`` requests a second, in turn: the
   trivial route, the clerk's console home (工作台), an item's review page and the draft
   form. The table gives the median, p99 and worst latency and the rate reached.
   Target: each task page's p99 < 50 ms at 100 requests a second.
2. **Upload.** ``--upload-rounds`` times in turn, a fresh 10 MiB PDF-looking body
   (random bytes after ``%PDF-1.7``) is sent to ``POST /bench/discard`` and to the
   clerk's ``POST /v1/communities/tianhai/attachments`` (streamed to the file store,
   hashed, type-checked and fsync'ed). Target: median upload time <= 1.5 x median
   discard time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from fastapi import FastAPI, Request

from api.service.app import create_app
from api.service.settings import Settings
from bench.bench_board_load import (
    COMMUNITY,
    TRIVIAL_PATH,
    Workload,
    free_port,
    gongkai,
    prepare,
    serving,
    trivial,
)
from bench.bench_ledger import Target, median, print_summary, print_table, progress, ratio

CLERK: Final = "bench.clerk"
DISCARD_PATH: Final = "/bench/discard"
UPLOAD_PATH: Final = f"/v1/communities/{COMMUNITY}/attachments"
P99_MAX_MS: Final = 50.0
UPLOAD_RATIO_MAX: Final = 1.5
REQUEST_TIMEOUT_S: Final = 10.0


async def discard(request: Request) -> dict[str, int]:
    """Read the body as it streams in and keep none of it."""
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return {"size": size}


def bench_app() -> FastAPI:
    """uvicorn's factory: the service of the environment's settings, sealer off, with
    the trivial and the discarding routes."""
    app = create_app(Settings(checkpoint_interval=0))
    app.add_api_route(TRIVIAL_PATH, trivial, methods=["GET"], tags=["bench"])
    app.add_api_route(DISCARD_PATH, discard, methods=["POST"], tags=["bench"])
    return app


def server_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--factory", "bench.bench_console:bench_app",
        "--app-dir", str(Path(__file__).resolve().parents[1]), "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Clerk:
    password: str
    token: str


def add_clerk(workdir: Path, workload: Workload) -> Clerk:
    password = secrets.token_urlsafe(15)
    password_file = workdir / "clerk.password"
    password_file.write_text(password, encoding="utf-8")
    gongkai(
        "users", "add", "--db", workload.db_url, "--username", CLERK, "--role", "clerk",
        "--community", COMMUNITY, "--name", "李娜", "--password-file", str(password_file),
    )  # fmt: skip
    token = gongkai("users", "token", "--db", workload.db_url, CLERK, "--label", "bench")
    return Clerk(password, token.strip())


@dataclass(frozen=True, slots=True)
class LoadRun:
    target: str
    sent: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def open_loop(
    base: str, path: str, cookies: dict[str, str], rate: float, seconds: float, target: str
) -> LoadRun:
    """Request ``path`` at ``rate`` a second for ``seconds``, each at its planned time."""
    count = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, limits=limits, timeout=REQUEST_TIMEOUT_S
    ) as client:
        await client.get(path)  # one untimed request: the connection and the page's caches

        async def one(planned: float) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, planned - time.perf_counter()))
            try:
                response = await client.get(path)
                if response.status_code != 200:
                    errors += 1
                    return
            except httpx.HTTPError:
                errors += 1
                return
            latencies.append((time.perf_counter() - planned) * 1000)

        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(start + i / rate) for i in range(count)))
        took = time.perf_counter() - start
    return LoadRun(target, count, errors, took, latencies)


def sign_in(base: str, clerk: Clerk) -> dict[str, str]:
    """The clerk's session cookie, from the console's own sign-in."""
    with httpx.Client(base_url=base) as client:
        response = client.post("/v1/login", json={"username": CLERK, "password": clerk.password})
        response.raise_for_status()
        return dict(client.cookies)


def an_item(base: str, cookies: dict[str, str]) -> str:
    """The review page of an item of the board, as the console links to it."""
    with httpx.Client(base_url=base, cookies=cookies) as client:
        items = client.get(f"/v1/communities/{COMMUNITY}/board").json()["items"]
    return f"/console/c/{COMMUNITY}/items/{items[len(items) // 2]['disclosure_id']}"


def timed_post(base: str, path: str, body: bytes, token: str) -> float:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/pdf"}
    with httpx.Client(base_url=base, timeout=60) as client:
        started = time.perf_counter()
        response = client.post(path, content=body, headers=headers)
        took = time.perf_counter() - started
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")
    return took


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="per target (30)")
    parser.add_argument("--rate", type=float, default=100.0, help="requests a second (100)")
    parser.add_argument("--items", type=int, default=200, help="more disclosures (200)")
    parser.add_argument("--upload-mib", type=int, default=10, help="upload size (10)")
    parser.add_argument("--upload-rounds", type=int, default=10, help="each way (10)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-console-") as tmp:
        workdir = Path(tmp)
        workload = prepare(workdir, args.items)
        clerk = add_clerk(workdir, workload)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with serving(workload, server_command(port), workdir / "uvicorn.log"):
            cookies = sign_in(base, clerk)
            targets = {
                "trivial route": TRIVIAL_PATH,
                "console home (工作台)": "/console",
                "item review page": an_item(base, cookies),
                "draft form": f"/console/c/{COMMUNITY}/new",
            }
            runs = []
            for name, path in targets.items():
                progress(f"{name}: {args.rate:.0f}/s for {args.seconds:.0f} s")
                runs.append(
                    asyncio.run(open_loop(base, path, cookies, args.rate, args.seconds, name))
                )
            size = args.upload_mib << 20
            discards: list[float] = []
            uploads: list[float] = []
            for n in range(args.upload_rounds):
                body = b"%PDF-1.7\n" + os.urandom(size - 9)
                discards.append(timed_post(base, DISCARD_PATH, body, clerk.token))
                uploads.append(timed_post(base, UPLOAD_PATH, body, clerk.token))
                progress(f"upload round {n + 1}: {discards[-1]:.3f} s / {uploads[-1]:.3f} s")
    print(f"gongkai console benchmark: {args.rate:.0f} requests/s for {args.seconds:.0f} s "
          f"per target, open loop; {args.upload_mib} MiB x {args.upload_rounds}")  # fmt: skip
    print_table(
        "Task pages at a fixed rate (latency from each request's planned time, ms)",
        ["target", "sent", "errors", "rate/s", "p50", "p99", "max"],
        [
            [
                r.target,
                str(r.sent),
                str(r.errors),
                f"{len(r.latencies_ms) / r.seconds:.1f}",
                f"{r.quantile(0.5):.1f}",
                f"{r.quantile(0.99):.1f}",
                f"{max(r.latencies_ms, default=float('nan')):.1f}",
            ]
            for r in runs
        ],
    )
    upload_ratio = median(uploads) / median(discards)
    print_table(
        f"Upload of {args.upload_mib} MiB (seconds)",
        ["route", "median", "rounds"],
        [
            ["discard (reads, keeps nothing)", f"{median(discards):.3f}",
             " ".join(f"{d:.3f}" for d in discards)],
            ["attachments (stored)", f"{median(uploads):.3f}",
             " ".join(f"{u:.3f}" for u in uploads)],
            ["upload / discard", ratio(upload_ratio),
             " ".join(ratio(u / d) for u, d in zip(uploads, discards, strict=True))],
        ],
    )  # fmt: skip
    summary = [
        Target(
            f"{r.target} p99 at {args.rate:.0f}/s",
            f"< {P99_MAX_MS:.0f} ms",
            f"{r.quantile(0.99):.1f} ms, {r.errors} errors",
            r.quantile(0.99) < P99_MAX_MS and r.errors == 0,
        )
        for r in runs[1:]
    ]
    summary.append(
        Target("upload / discard", f"<= {UPLOAD_RATIO_MAX}", ratio(upload_ratio),
               upload_ratio <= UPLOAD_RATIO_MAX)
    )  # fmt: skip
    print_summary(summary)
    print(json.dumps({"upload_ratio": upload_ratio}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
