"""``gongkai reports``: the street disciplinary committee's side of reports (举报), on
the committee's own computer. ``keygen`` makes the key pair whose public half is
registered for a community (in the console, or ``POST …/report-key``) and whose private
half never leaves the committee; ``open`` opens the reporters' sealed identities with
it, from a store's chain or from the JSON the service answers for ``GET …/reports``."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from api.cli.common import EXIT_OK, EXIT_VERIFY_FAILED, UsageError, add_db
from ledger.domain.report import Report
from ledger.errors import FormatError, VerificationError
from ledger.sealed_identity import generate_key_pair, load_private_key, open_sealed
from ledger.store import default_url, open_store

#: Chain entries read per page while looking for reports.
PAGE = 1_000


def cmd_keygen(args: argparse.Namespace) -> int:
    path = Path(args.output)
    pem, public = generate_key_pair()
    try:
        # Created with the owner's rights only, and never over an existing key: a key
        # lost is every report sealed to it unreadable.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} exists: a report key is never overwritten") from None
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    print(f"private key written to {path}: keep it off the server, and keep a copy")
    print("register this public key for each community (console: 举报密钥):")
    print(public.line)
    return EXIT_OK


def _from_store(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    with open_store(args.db or default_url()) as store:
        store.community(args.community)  # a clear error for an unknown one
        recorder = store.recorder(args.community)
        after = 0
        while True:
            page = recorder.read_chain(after=after, limit=PAGE)
            if not page:
                return
            for entry in page:
                if entry.topic == Report.Filed.TOPIC:
                    yield str(entry.originator_id), json.loads(entry.state)
            after = page[-1].seq


def _from_json(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read {path} as JSON: {e}") from None
    found = data.get("reports", [data]) if isinstance(data, dict) else []
    for item in found:
        if isinstance(item, dict) and item.get("sealed_identity"):
            yield str(item.get("report_id", "")), item


def cmd_open(args: argparse.Namespace) -> int:
    """Open every report's sealed identity (or the one ``--report`` names) and print it
    with the report's subject. Exit 1 if any does not open with this key."""
    try:
        private = load_private_key(Path(args.key).read_bytes())
    except OSError as e:
        raise UsageError(f"cannot read the key file {args.key}: {e.strerror or e}") from None
    found = _from_json(Path(args.json)) if args.json else _from_store(args)
    opened = failed = 0
    for report_id, fields in found:
        if args.report and report_id != args.report:
            continue
        subject = fields.get("subject", "")
        try:
            who = open_sealed(
                str(fields.get("sealed_identity", "")), private, args.community, report_id
            )
        except (VerificationError, FormatError) as e:
            failed += 1
            print(f"{report_id}  {subject}\n  not opened: {e}")
            continue
        opened += 1
        print(f"{report_id}  {subject}  (filed {fields.get('filed_on', '')})")
        print(f"  account: {who.account}\n  name:    {who.name}\n  contact: {who.contact}")
    if opened + failed == 0:
        what = f"report {args.report}" if args.report else "reports"
        raise UsageError(f"no {what} with a sealed identity found in {args.community}")
    print(f"{opened} opened, {failed} not opened with this key")
    return EXIT_OK if failed == 0 else EXIT_VERIFY_FAILED


def add_report_commands(sub: Any) -> None:
    reports = sub.add_parser(
        "reports", help="the street disciplinary committee's report key and sealed identities"
    ).add_subparsers(dest="reports_command", required=True, metavar="ACTION")
    keygen = reports.add_parser("keygen", help="make a report key pair (X25519, for HPKE)")
    keygen.add_argument("-o", "--output", required=True, metavar="FILE", help="private key")
    keygen.set_defaults(func=cmd_keygen)
    opening = reports.add_parser("open", help="open reporters' sealed identities")
    opening.add_argument("--key", required=True, metavar="FILE", help="the private key file")
    opening.add_argument("--community", required=True, metavar="ID")
    opening.add_argument("--report", metavar="ID", help="only this report")
    opening.add_argument(
        "--json", metavar="FILE", help="the answer of GET …/reports or …/reports/{id}, saved"
    )
    add_db(opening)
    opening.set_defaults(func=cmd_open)
