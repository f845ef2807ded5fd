"""The ``gongkai`` command line.

Exit status: 0 success; 1 the record failed verification; 2 bad usage or an error
(bad input, unknown community, store unavailable), always with a message on stderr;
3 ``gongkai verify`` found nothing wrong but could not check signatures (no log key).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from eventsourcing.persistence import PersistenceError

from api.accounts import open_accounts
from api.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    UsageError,
    add_attachments_dir,
    add_db,
    attachment_store,
)
from api.cli.evaluation import add_evaluation_commands
from api.cli.finance import add_finance_commands
from api.cli.projections import (
    add_projection_commands,
    catch_up_read_models,
    grant_service_role,
    init_read_models,
    log_to_stderr,
)
from api.cli.reports import add_report_commands
from api.cli.seal import add_seal_commands
from api.cli.users import add_user_commands
from api.cli.verify import add_verify_command
from api.service.keyfiles import DEFAULT_KEYS_DIR
from api.witness.cli import add_witness_commands
from ledger.errors import GongkaiError
from ledger.seal.community_log import CommunityLog
from ledger.store import default_url, open_store, redacted_url
from ledger.store.base import Community

# --- db and community ----------------------------------------------------------------


def cmd_db_init(args: argparse.Namespace) -> int:
    with open_store(args.db) as store:
        store.init_schema(service_role=args.service_role)
        names = ", ".join(c.id for c in store.communities()) or "none yet"
    url = args.db or default_url()
    # Beside the ledger: the read models' tables and the accounts', which the service
    # and the projection worker never create themselves.
    init_read_models(url, service_role=args.service_role)
    with open_accounts(url, create=True) as accounts:
        grant_service_role(accounts.db, args.service_role)
    print(f"schema ready at {store.url} (communities: {names})")
    return EXIT_OK


def cmd_community_add(args: argparse.Namespace) -> int:
    from ledger.application import Ledger

    with Ledger(open_store(args.db)) as ledger:
        community = ledger.add_community(Community(args.id, args.name)).community
    print(f"community {community.id} ({community.name}) is ready")
    return EXIT_OK


def cmd_community_list(args: argparse.Namespace) -> int:
    with open_store(args.db) as store:
        for community in store.communities():
            print(f"{community.id}\t{community.name}")
    return EXIT_OK


# --- demo and serve --------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from api.demo.accounts import (
        DEMO_REPORT_KEY,
        accounts_file_for,
        demo_report_key,
        ensure_demo_accounts,
    )
    from api.demo.community import create_demo
    from api.demo.seal import seal_demo
    from ledger.application import Ledger

    url = args.db or default_url()
    store = open_store(url)
    store.init_schema()
    files = attachment_store(args, url)
    accounts_file = (
        Path(args.accounts_file) if args.accounts_file else accounts_file_for(url, args.keys_dir)
    )
    report_key_file = accounts_file.parent / DEMO_REPORT_KEY
    report_key = demo_report_key(report_key_file)
    with Ledger(store, files) as ledger:
        summary = create_demo(ledger, files=files, report_key=report_key)
        sealed = seal_demo(ledger.store, summary.community_id, Path(args.keys_dir))
        # Everything the service reads, so that 'gongkai serve' answers at once: the
        # read models' tables, caught up, and the accounts' tables.
        init_read_models(url)
        applied = catch_up_read_models(ledger.store, url, [summary.community_id])
    with open_accounts(url, create=True) as accounts:
        people = ensure_demo_accounts(accounts, summary.community_id, accounts_file)
    print(f"demo community ready: {summary}")
    print(f"read models caught up ({applied} applications)")
    print(f"sealed: checkpoint of size {sealed.tree_size}, cosigned by the committee")
    print(f"log key:       {sealed.log_vkey}")
    print(f"committee key: {sealed.committee_vkey}")
    print(f"(private keys and .vkey files in {args.keys_dir})")
    roles = ", ".join(f"{p.role.value} {p.username}" for p in people)
    print(f"demo accounts ({roles}), with their passwords, in {accounts_file}")
    print(
        f"the street disciplinary committee's report key (the demo's only: a real "
        f"committee keeps its own off the server) in {report_key_file}"
    )
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.service.app import create_app, log_vkeys
    from api.service.preflight import fix_command, missing_stores
    from api.service.settings import Settings

    settings = Settings.from_env().model_copy(
        update={"db_url": args.db or default_url(), "worker": not args.no_worker}
    )
    missing = missing_stores(settings.db_url)
    if missing:
        # Serving now would answer 503 to every reader: say what to do instead.
        for m in missing:
            print(f"gongkai: cannot serve: {m.store}: {m.detail}", file=sys.stderr)
        if all(m.absent for m in missing):
            print(f"gongkai: create them with: {fix_command(settings.db_url)}", file=sys.stderr)
        return EXIT_ERROR
    with open_store(settings.db_url) as store:
        communities = store.communities()
        vkeys = log_vkeys(store, settings)
        cosigners = {c.id: CommunityLog(store, c.id).cosigners() for c in communities}
    worker = "with" if settings.worker else "without"
    print(
        f"serving {len(communities)} communities from {redacted_url(settings.db_url)} "
        f"on http://{args.host}:{args.port}, {worker} the projection worker",
        file=sys.stderr,
    )
    for community in communities:
        if community.id in vkeys:
            print(f"{community.id} log key: {vkeys[community.id]}", file=sys.stderr)
        for c in cosigners[community.id]:
            print(f"{community.id} {c.role} seal ({c.label}): {c.vkey}", file=sys.stderr)
    log_to_stderr()
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return EXIT_OK


# --- wiring ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gongkai", description="Tamper-evident ledger for community affairs disclosure."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    init = db.add_parser("init", help="create the tables (the service never does)")
    add_db(init)
    init.add_argument(
        "--service-role",
        metavar="ROLE",
        help="PostgreSQL: the role the service connects as; it gets SELECT and INSERT only",
    )
    init.set_defaults(func=cmd_db_init)

    community = sub.add_parser("community", help="communities of this store").add_subparsers(
        dest="community_command", required=True, metavar="ACTION"
    )
    add = community.add_parser("add", help="register a community and create its log")
    add.add_argument("id", help="2-32 characters of a-z, 0-9 and _, e.g. tianhai")
    add.add_argument("--name", required=True, help="the community's name, e.g. 天海社区")
    add_db(add)
    add.set_defaults(func=cmd_community_add)
    listing = community.add_parser("list", help="list registered communities")
    add_db(listing)
    listing.set_defaults(func=cmd_community_list)

    add_verify_command(sub)

    demo = sub.add_parser("demo", help="create the demo community tianhai (天海社区), sealed")
    add_db(demo)
    demo.add_argument(
        "--keys-dir", metavar="DIR", default=str(DEFAULT_KEYS_DIR), help="default data/keys"
    )
    demo.add_argument(
        "--accounts-file",
        metavar="FILE",
        help="where the demo accounts' passwords go (default: demo-accounts.txt beside "
        "an SQLite database, else beside the keys directory)",
    )
    add_attachments_dir(demo, "the demo's vouchers and documents go")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the HTTP service")
    add_db(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="do not keep the read models current in this process "
        "(when 'gongkai projections run' does it apart)",
    )
    serve.set_defaults(func=cmd_serve)

    add_seal_commands(sub)
    add_witness_commands(sub)
    add_projection_commands(sub)
    add_finance_commands(sub)
    add_user_commands(sub)
    add_report_commands(sub)
    add_evaluation_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as e:
        parser.print_usage(sys.stderr)
        print(f"gongkai: error: {e}", file=sys.stderr)
    except GongkaiError as e:
        print(f"gongkai: error: {e}", file=sys.stderr)
    except PersistenceError as e:
        # The store failed under eventsourcing (e.g. tables from an older schema).
        print(f"gongkai: error: the database refused: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("gongkai: interrupted", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
