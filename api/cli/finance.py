"""``gongkai finance export``: a community's finances as a Fiscal Data Package (zip)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from api.cli.common import EXIT_OK, UsageError, add_db
from ledger.store import default_url, open_store
from projections.db import open_read_db
from projections.finance.package import build_package, write_zip


def cmd_finance_export(args: argparse.Namespace) -> int:
    url = args.db or default_url()
    with open_store(url) as store:
        community = store.community(args.community)  # a clear error for an unknown one
        head = store.max_seq(community.id)
    db = open_read_db(url, create=False)  # 'gongkai db init' made its tables
    try:
        package = build_package(
            db,
            community.id,
            as_of=args.as_of,
            period_from=args.period_from,
            period_to=args.period_to,
            community_name=community.name,
        )
    finally:
        db.close()
    path = Path(args.output)
    try:
        write_zip(package.files, path, overwrite=args.force)
    except FileExistsError:
        raise UsageError(f"{path} exists: pass --force to replace it") from None
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    print(
        f"wrote {path}: {package.entry_count:,} finance entries of {community.id} "
        f"as of entry {package.as_of}"
    )
    if args.as_of is None and package.as_of < head:
        # Not an error: the worker may simply be behind. But the reader should know
        # that the ledger already holds more than the package shows.
        print(
            f"note: the ledger has {head} entries; the finance read model has applied "
            f"{package.as_of} (run 'gongkai projections run --once' to catch up)",
            file=sys.stderr,
        )
    return EXIT_OK


def add_finance_commands(sub: Any) -> None:
    finance = sub.add_parser("finance", help="the finance read model").add_subparsers(
        dest="finance_command", required=True, metavar="ACTION"
    )
    export = finance.add_parser(
        "export", help="write the finances as a Fiscal Data Package (CSV + datapackage.json)"
    )
    add_db(export)
    export.add_argument("--community", required=True, metavar="ID")
    export.add_argument(
        "--as-of",
        type=_entry,
        metavar="SEQ",
        help="as the record stood after this chain entry (default: the latest applied)",
    )
    export.add_argument("--from", dest="period_from", metavar="YYYY-MM", help="first month")
    export.add_argument("--to", dest="period_to", metavar="YYYY-MM", help="last month")
    export.add_argument("-o", "--output", required=True, metavar="FILE.zip")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    export.set_defaults(func=cmd_finance_export)


def _entry(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a chain entry is a number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a chain entry is 0 or more")
    return value
