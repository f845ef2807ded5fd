"""The ``gongkai`` command line.

Exit status: 0 success; 1 the record failed verification; 2 bad usage or an error
(bad input, unknown community, store unavailable), always with a message on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from eventsourcing.persistence import PersistenceError

from api.accounts import open_accounts
from api.cli_common import EXIT_ERROR, EXIT_OK, EXIT_VERIFY_FAILED, UsageError, add_db
from api.cli_finance import add_finance_commands
from api.cli_projections import add_projection_commands, grant_service_role, init_read_models
from api.cli_seal import add_seal_commands
from api.cli_users import add_user_commands
from api.keyfiles import DEFAULT_KEYS_DIR, log_key_path, vkey_path
from api.witness_cli import add_witness_commands
from ledger.chain import Head
from ledger.errors import GongkaiError
from ledger.note import NoteVerifier, parse_vkey
from ledger.seal import CommunityLog
from ledger.store import default_url, open_store, redacted_url
from ledger.store.base import Community, Store
from ledger.verify import ChainIntegrityError, VerifiedChain, verify_store
from ledger.verify_seal import CheckpointMismatchError, VerifiedCheckpoints, verify_checkpoints


class ProgressLine:
    """A one-line progress display on a terminal, redrawn at most ten times a second."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.started = time.monotonic()
        self.drawn = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.drawn < 0.1 and done < total:
            return
        self.drawn = now
        rate = done / max(now - self.started, 1e-9)
        share = f" ({100 * done // total}%)" if total else ""
        self.stream.write(
            f"\r{self.label}: {done:,}/{total:,}{share}, {rate:,.0f} entries/s\033[K"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()


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


# --- verify ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    chain: VerifiedChain | ChainIntegrityError
    seal: VerifiedCheckpoints | CheckpointMismatchError | None = None


def _log_keys(args: argparse.Namespace, community_id: str) -> list[NoteVerifier]:
    """The log keys to check checkpoints with: --log-key, else the community's .vkey
    file in the keys directory. Never read from the database being checked."""
    if args.log_key:
        return [parse_vkey(k) for k in args.log_key]
    path = vkey_path(log_key_path(Path(args.keys_dir), community_id))
    return [parse_vkey(path.read_text(encoding="utf-8").strip())] if path.exists() else []


def _verify_one(
    store: Store, community_id: str, expect: Head | None, args: argparse.Namespace
) -> VerifyOutcome:
    show_progress = not args.json and sys.stderr.isatty()
    progress = ProgressLine(f"verifying {community_id}", sys.stderr) if show_progress else None
    try:
        chain = verify_store(store, community_id, expect_head=expect, on_progress=progress)
    except ChainIntegrityError as e:
        return VerifyOutcome(e)
    finally:
        if progress is not None:
            progress.close()
    try:
        keys = _log_keys(args, community_id)
        return VerifyOutcome(chain, verify_checkpoints(store, community_id, log_keys=keys))
    except CheckpointMismatchError as e:
        return VerifyOutcome(chain, e)


def _verify_report(outcome: VerifyOutcome) -> dict[str, Any]:
    chain = outcome.chain
    if isinstance(chain, ChainIntegrityError):
        return {
            "community": chain.community_id,
            "ok": False,
            "seq": chain.seq,
            "defect": chain.defect.value,
            "detail": chain.detail,
        }
    report: dict[str, Any] = {
        "community": chain.community_id,
        "ok": True,
        "count": chain.count,
        "head": str(chain.head) if chain.count else None,
    }
    seal = outcome.seal
    if isinstance(seal, CheckpointMismatchError):
        report.update(
            ok=False,
            checkpoint=seal.tree_size,
            defect="checkpoint mismatch",
            detail=seal.detail,
        )
    elif seal is not None and seal.count:
        report["checkpoints"] = {
            "count": seal.count,
            "latest_size": seal.latest_size,
            "signatures_checked_with": seal.signed_by,
        }
    return report


def _verify_line(r: dict[str, Any]) -> str:
    if not r["ok"] and "checkpoint" in r:
        return (
            f"{r['community']}: FAILED at the checkpoint of size {r['checkpoint']}: {r['detail']}"
        )
    if not r["ok"]:
        return f"{r['community']}: FAILED at entry {r['seq']}: {r['defect']}: {r['detail']}"
    line = f"{r['community']}: intact, {r['count']:,} entries, head {r['head'] or 'empty'}"
    cps = r.get("checkpoints")
    if cps and cps["count"]:
        line += f"; {cps['count']} signed checkpoint(s) match, latest of size {cps['latest_size']}"
        if cps["signatures_checked_with"]:
            line += f", signatures checked with {cps['signatures_checked_with']}"
        else:
            line += " (signatures not checked: give --log-key)"
    return line


def cmd_verify(args: argparse.Namespace) -> int:
    expect = None
    if args.expect_head:
        try:
            expect = Head.parse(args.expect_head)
        except ValueError as e:
            raise UsageError(f"--expect-head: {e}") from None
    with open_store(args.db) as store:
        if args.community:
            ids = [store.community(args.community).id]
        else:
            ids = [c.id for c in store.communities()]
            if expect is not None and len(ids) != 1:
                raise UsageError("--expect-head needs --community when there are several")
        outcomes = [_verify_one(store, cid, expect, args) for cid in ids]
    reports = [_verify_report(o) for o in outcomes]
    ok = all(r["ok"] for r in reports)
    if args.json:
        print(json.dumps({"ok": ok, "communities": reports}, ensure_ascii=False, indent=2))
    else:
        for r in reports:
            print(_verify_line(r))
        if not ids:
            print("no communities in this store")
    return EXIT_OK if ok else EXIT_VERIFY_FAILED


# --- demo and serve --------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from api.demo_seal import seal_demo
    from ledger.application import Ledger
    from ledger.demo import create_demo

    store = open_store(args.db)
    store.init_schema()
    with Ledger(store) as ledger:
        summary = create_demo(ledger)
        sealed = seal_demo(ledger.store, summary.community_id, Path(args.keys_dir))
    print(f"demo community ready: {summary}")
    print(f"sealed: checkpoint of size {sealed.tree_size}, cosigned by the committee")
    print(f"log key:       {sealed.log_vkey}")
    print(f"committee key: {sealed.committee_vkey}")
    print(f"(private keys and .vkey files in {args.keys_dir})")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app, log_vkeys
    from api.settings import Settings

    settings = Settings.from_env().model_copy(update={"db_url": args.db or default_url()})
    with open_store(settings.db_url) as store:
        communities = store.communities()  # fails early, clearly, if there is no schema
        vkeys = log_vkeys(store, settings)
        cosigners = {c.id: CommunityLog(store, c.id).cosigners() for c in communities}
    print(
        f"serving {len(communities)} communities from {redacted_url(settings.db_url)} "
        f"on http://{args.host}:{args.port}",
        file=sys.stderr,
    )
    for community in communities:
        if community.id in vkeys:
            print(f"{community.id} log key: {vkeys[community.id]}", file=sys.stderr)
        for c in cosigners[community.id]:
            print(f"{community.id} {c.role} seal ({c.label}): {c.vkey}", file=sys.stderr)
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

    verify = sub.add_parser("verify", help="recompute and check every chain hash")
    add_db(verify)
    verify.add_argument("--community", metavar="ID", help="only this community")
    verify.add_argument(
        "--expect-head", metavar="SEQ:HASH", help="a head printed by an earlier verify"
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.add_argument(
        "--log-key",
        metavar="VKEY",
        action="append",
        help="check checkpoint signatures with this log verifier key "
        "(default: KEYS_DIR/ID.log.vkey if present)",
    )
    verify.add_argument(
        "--keys-dir", metavar="DIR", default=str(DEFAULT_KEYS_DIR), help="default data/keys"
    )
    verify.set_defaults(func=cmd_verify)

    demo = sub.add_parser("demo", help="create the demo community tianhai (天海社区), sealed")
    add_db(demo)
    demo.add_argument(
        "--keys-dir", metavar="DIR", default=str(DEFAULT_KEYS_DIR), help="default data/keys"
    )
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the HTTP service")
    add_db(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    add_seal_commands(sub)
    add_witness_commands(sub)
    add_projection_commands(sub)
    add_finance_commands(sub)
    add_user_commands(sub)
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
