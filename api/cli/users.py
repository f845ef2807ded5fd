"""People's accounts from the command line: the administrator's side of signing in.

gongkai users add --username U --role R [--community ID] [--name N] [--password-file F]
gongkai users list
gongkai users disable U
gongkai users token U [--days N] [--label TEXT]

A password never appears on the command line, where the shell history and ``ps`` would
show it: it is read from a file, from standard input when that is not a terminal, or
generated and printed once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from api.accounts import ACCOUNT_ROLES, open_accounts
from api.accounts.credentials import new_password
from api.accounts.model import STREET_ROLES
from api.accounts.tokens import DEFAULT_DAYS, MAX_DAYS
from api.cli.common import EXIT_OK, UsageError, add_db
from ledger.domain.vocabulary import ROLE_NAMES, Role
from ledger.store import default_url, open_store


def cmd_users_add(args: argparse.Namespace) -> int:
    url = args.db or default_url()
    role = Role(args.role)
    if args.community and role not in STREET_ROLES:
        # A typo here would make an account that sees nothing; the ledger knows the IDs.
        with open_store(url) as store:
            store.community(args.community)
    password, generated = _password(args)
    with open_accounts(url) as accounts:
        account = accounts.directory.add(
            args.username,
            args.role,
            community=args.community,
            display_name=args.name or "",
            password=password,
        )
    where = account.community or "every community of the street"
    print(
        f"account {account.username} ({account.display_name}) is ready: "
        f"{ROLE_NAMES[account.role]} of {where}",
        file=sys.stderr,
    )
    if generated:
        print("generated password, shown this once:", file=sys.stderr)
        print(password)
    return EXIT_OK


def cmd_users_list(args: argparse.Namespace) -> int:
    with open_accounts(args.db or default_url()) as accounts:
        for a in accounts.directory.all():
            state = "disabled" if a.disabled else "active"
            where = a.community or "(street)"
            print(
                f"{a.username}\t{a.role.value}\t{where}\t{state}\t{a.created_at}\t{a.display_name}"
            )
    return EXIT_OK


def cmd_users_disable(args: argparse.Namespace) -> int:
    with open_accounts(args.db or default_url()) as accounts:
        account = accounts.directory.disable(args.username)
    print(f"account {account.username} is disabled; its sessions and tokens are revoked")
    return EXIT_OK


def cmd_users_token(args: argparse.Namespace) -> int:
    with open_accounts(args.db or default_url()) as accounts:
        issued = accounts.tokens.issue(args.username, days=args.days, label=args.label)
    print(
        f"token {issued.info.id} for {args.username}, valid until {issued.info.expires_at}; "
        "shown this once, keep it like a password:",
        file=sys.stderr,
    )
    print(issued.secret)
    return EXIT_OK


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The new account's password, and whether it was generated here."""
    if args.password_file:
        path = Path(args.password_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read the password file {path}: {e.strerror}") from None
        return _one_line(text), False
    if not sys.stdin.isatty():
        return _one_line(sys.stdin.read()), False
    return new_password(args.username), True


def _one_line(text: str) -> str:
    # Files and pipes end with a newline that is not part of the password.
    password = text.removesuffix("\n").removesuffix("\r")
    if "\n" in password:
        raise UsageError("the password is one line")
    return password


def add_user_commands(sub: Any) -> None:
    users = sub.add_parser("users", help="people's accounts").add_subparsers(
        dest="users_command", required=True, metavar="ACTION"
    )
    # No abbreviations: "--password SECRET" must be refused, not taken for --password-file.
    add = users.add_parser(
        "add",
        help="create an account (password from --password-file or stdin, else generated)",
        allow_abbrev=False,
    )
    add_db(add)
    add.add_argument("--username", required=True, help="3-32 characters of a-z 0-9 _ . -")
    add.add_argument("--role", required=True, choices=[r.value for r in ACCOUNT_ROLES])
    add.add_argument(
        "--community", metavar="ID", help="the community it works in (all roles but the street's)"
    )
    add.add_argument("--name", help="the person's name as shown, e.g. 王丽")
    add.add_argument("--password-file", metavar="FILE", help="a file holding the password")
    add.set_defaults(func=cmd_users_add)

    listing = users.add_parser("list", help="every account")
    add_db(listing)
    listing.set_defaults(func=cmd_users_list)

    disable = users.add_parser("disable", help="stop an account signing in; revoke its tokens")
    add_db(disable)
    disable.add_argument("username")
    disable.set_defaults(func=cmd_users_disable)

    token = users.add_parser("token", help="issue a bearer token for scripts; printed once")
    add_db(token)
    token.add_argument("username")
    token.add_argument(
        "--days", type=_days, default=DEFAULT_DAYS, help=f"1-{MAX_DAYS}, default {DEFAULT_DAYS}"
    )
    token.add_argument("--label", default="", help="what the token is for, e.g. backup script")
    token.set_defaults(func=cmd_users_token)


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_DAYS}")
    return value
