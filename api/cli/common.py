"""What every ``gongkai`` command shares: exit codes, the usage error, the --db option."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ledger.attachments import FileAttachmentStore, directory_beside
from ledger.store import DEFAULT_DB_URL

EXIT_OK = 0
EXIT_VERIFY_FAILED = 1
EXIT_ERROR = 2
#: ``gongkai verify`` found nothing wrong but could not check signatures (no log key).
EXIT_UNVERIFIED = 3


class UsageError(Exception):
    """A command-line mistake that argparse could not catch."""


def add_attachments_dir(parser: argparse.ArgumentParser, what: str) -> None:
    """``--attachments-dir``: where ``what`` is, the service's own by default."""
    parser.add_argument(
        "--attachments-dir",
        metavar="DIR",
        default=os.environ.get("GONGKAI_ATTACHMENTS_DIR") or None,
        help=f"where {what}, as the service's GONGKAI_ATTACHMENTS_DIR "
        "(default: attachments/ beside an SQLite database)",
    )


def attachment_store(args: argparse.Namespace, db_url: str) -> FileAttachmentStore:
    """The attachment store ``--attachments-dir`` names, or the one beside the database."""
    return FileAttachmentStore(Path(args.attachments_dir or directory_beside(db_url)))


def add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="sqlite:///path or postgresql://...; default $GONGKAI_DB or " + DEFAULT_DB_URL,
    )
