"""What every ``gongkai`` command shares: exit codes, the usage error, the --db option."""

from __future__ import annotations

import argparse

from ledger.store import DEFAULT_DB_URL

EXIT_OK = 0
EXIT_VERIFY_FAILED = 1
EXIT_ERROR = 2
#: ``gongkai verify`` found nothing wrong but could not check signatures (no log key).
EXIT_UNVERIFIED = 3


class UsageError(Exception):
    """A command-line mistake that argparse could not catch."""


def add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="sqlite:///path or postgresql://...; default $GONGKAI_DB or " + DEFAULT_DB_URL,
    )
