"""``gongkai projections``: rebuild the read models, or keep them current as a worker."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from api.cli.common import EXIT_OK, add_db
from api.service.escalation import escalate_due, escalation_hook
from ledger.application import Ledger
from ledger.store import default_url, open_store
from ledger.store.backend import Store
from projections.db import ReadDB, open_read_db
from projections.registry import all_projections
from projections.runner import ProjectionRunner, store_source
from projections.worker import ProjectionWorker


def init_read_models(store_url: str, *, service_role: str | None = None) -> None:
    """Create the read models' tables (part of ``gongkai db init``)."""
    db = open_read_db(store_url, create=True)
    try:
        ProjectionRunner(db, all_projections(), lambda *_: []).setup()
        grant_service_role(db, service_role)
    finally:
        db.close()


def catch_up_read_models(store: Store, store_url: str, communities: list[str]) -> int:
    """Bring every read model of ``communities`` up to the ledger (``gongkai demo`` does,
    so that the first page served is current); how many applications."""
    db = open_read_db(store_url, create=False)
    try:
        runner = ProjectionRunner(db, all_projections(), store_source(store))
        return sum(runner.catch_up(community) for community in communities)
    finally:
        db.close()


def grant_service_role(db: ReadDB, role: str | None) -> None:
    """PostgreSQL: let the service's role read and write the tables of ``db`` (it
    creates none)."""
    if role is not None:
        db.grant(role)


def _runner_and_communities(
    args: argparse.Namespace,
) -> tuple[Any, Any, ProjectionRunner, list[str]]:
    url = args.db or default_url()
    store = open_store(url)
    db = open_read_db(url, create=False)  # 'gongkai db init' made its tables
    runner = ProjectionRunner(db, all_projections(), store_source(store), batch=args.batch)
    communities = [args.community] if args.community else [c.id for c in store.communities()]
    if args.community:
        store.community(args.community)  # a clear error for an unknown one
    return store, db, runner, communities


def _progress(community: str, every: float = 5.0) -> Callable[[int], None]:
    """Report how far a long catch-up has come, at most every ``every`` seconds."""
    started = last_report = time.monotonic()

    def report(entry: int) -> None:
        nonlocal last_report
        now = time.monotonic()
        if now - last_report >= every:
            last_report = now
            print(
                f"{community}: up to entry {entry:,} ({now - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    return report


def cmd_projections_rebuild(args: argparse.Namespace) -> int:
    store, db, runner, communities = _runner_and_communities(args)
    try:
        names = [args.name] if args.name else []
        for community in communities:
            started = time.perf_counter()
            applied = runner.rebuild(community, names, _progress(community))
            elapsed = time.perf_counter() - started
            print(
                f"{community}: rebuilt {', '.join(names) or 'all projections'} "
                f"({applied} applications, {elapsed:.1f} s)"
            )
    finally:
        db.close()
        store.close()
    return EXIT_OK


def cmd_projections_run(args: argparse.Namespace) -> int:
    store, db, runner, communities = _runner_and_communities(args)
    # The worker also escalates the inquiries due (api/service/escalation.py).
    ledger = Ledger(store)
    print(f"projections worker: {', '.join(communities) or 'no communities yet'}", file=sys.stderr)
    try:
        if args.once:
            # Once, as a script runs it: a failure is this command's failure (exit 2).
            for community in communities:
                applied = runner.catch_up(community, _progress(community))
                if applied:
                    print(f"{community}: applied {applied}", file=sys.stderr, flush=True)
                escalated = escalate_due(ledger, db, community)
                for inquiry_id in escalated:
                    print(f"{community}: inquiry {inquiry_id} escalated", file=sys.stderr)
                if escalated:  # the read models show the escalations too when it stops
                    runner.catch_up(community, _progress(community))
            return EXIT_OK

        def every_community() -> list[str]:
            # Communities added since start are picked up, unless one was named.
            return [args.community] if args.community else [c.id for c in store.communities()]

        def report(community: str, count: int) -> None:
            print(f"{community}: applied {count}", file=sys.stderr, flush=True)

        # The same loop as the service's worker: a failing batch is logged and retried
        # after a growing delay rather than ending the worker.
        worker = ProjectionWorker(
            runner,
            every_community,
            poll=args.interval,
            on_applied=report,
            progress=_progress,
            after_pass=escalation_hook(ledger, db),
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: worker.stop())
        log_to_stderr()
        worker.run()
    finally:
        ledger.close()
        db.close()
        store.close()
    return EXIT_OK


def log_to_stderr() -> None:
    """gongkai's own log lines (a worker's failures and retries, the sealer's
    checkpoints) on stderr; uvicorn, when it runs, configures only its own loggers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    root = logging.getLogger("gongkai")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def add_projection_commands(sub: Any) -> None:
    projections = sub.add_parser("projections", help="read models").add_subparsers(
        dest="projections_command", required=True, metavar="ACTION"
    )
    rebuild = projections.add_parser("rebuild", help="rebuild read models from the ledger")
    rebuild.add_argument(
        "name", nargs="?", choices=[p.name for p in all_projections()], help="default all"
    )
    run = projections.add_parser(
        "run", help="keep the read models current and escalate the inquiries due (a worker)"
    )
    run.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    run.add_argument("--once", action="store_true", help="catch up once and stop")
    for parser in (rebuild, run):
        add_db(parser)
        parser.add_argument("--community", metavar="ID", help="only this community")
        parser.add_argument(
            "--batch",
            type=int,
            default=None,
            help="entries per transaction (default: 500, growing to 20,000 while behind)",
        )
    rebuild.set_defaults(func=cmd_projections_rebuild)
    run.set_defaults(func=cmd_projections_run)
