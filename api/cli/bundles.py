"""gongkai export --community ID -o FILE [--period Q | --from DATE --to DATE] [--force]
gongkai verify-bundle FILE --key VKEY [--key VKEY ...]

Signed archive bundles for auditors: written from the store with the log key, and
checked offline against keys taken from elsewhere."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from api.cli.common import EXIT_OK, EXIT_VERIFY_FAILED, add_attachments_dir, attachment_store
from api.cli.log_key import add_checkpoint_args, load_log_key
from ledger.errors import VerificationError
from ledger.seal.note import parse_vkey
from ledger.store import open_store


def cmd_export(args: argparse.Namespace) -> int:
    from api.cli.export import export_bundle, parse_range

    dates = parse_range(args.period, args.date_from, args.date_to)
    key = load_log_key(args)
    files = attachment_store(args, args.db)
    with open_store(args.db) as store:
        summary = export_bundle(
            store,
            args.community,
            dates,
            Path(args.output),
            key,
            overwrite=args.force,
            files=files,
            personal_keys=args.with_personal_keys,
        )
    print(
        f"wrote {summary.path}: {summary.entries:,} entries, {summary.attachments:,} "
        f"attachments, {len(summary.files)} files, sha256 {summary.sha256}"
    )
    return EXIT_OK


def cmd_verify_bundle(args: argparse.Namespace) -> int:
    from ledger.bundle.verify import verify_bundle

    keys = [parse_vkey(k) for k in args.key]
    try:
        report = verify_bundle(Path(args.file), keys)
    except VerificationError as e:
        print(f"bundle FAILED verification: {e}")
        return EXIT_VERIFY_FAILED
    print(f"bundle verified: {report.community} ({report.community_name}), origin {report.origin}")
    for check in report.checks:
        print(f"  ✓ {check}")
    for ignored in report.ignored_signatures:
        print(f"  - ignored a signature by an unknown key: {ignored}")
    return EXIT_OK


def add_bundle_commands(sub: Any) -> None:
    """``gongkai export`` and ``gongkai verify-bundle``."""
    export = sub.add_parser("export", help="write a signed archive bundle for auditors")
    add_checkpoint_args(export, witness=False)
    export.add_argument("--period", help="a quarter, e.g. 2026Q3")
    export.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD")
    export.add_argument("-o", "--output", required=True, metavar="FILE")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    export.add_argument(
        "--with-personal-keys",
        action="store_true",
        help="for readers who may see personal data (the street's auditors) only: carry the "
        "keys that open the aid lists' recipients; a public bundle has none",
    )
    add_attachments_dir(export, "the attachments are")
    export.set_defaults(func=cmd_export)

    vb = sub.add_parser("verify-bundle", help="check an archive bundle offline")
    vb.add_argument("file", metavar="FILE")
    vb.add_argument(
        "--key",
        action="append",
        required=True,
        metavar="VKEY",
        help="a trusted verifier key: the log's, and any committee or witness keys",
    )
    vb.set_defaults(func=cmd_verify_bundle)
