"""The demo's accounts: one person in each role of DOMAIN.md, for 天海社区 (the street's
disciplinary auditor for the whole street), each with a random password, listed in a
file only its owner may read, one account a line: ``role username password``.

Running the demo again keeps them: an account listed in the file keeps its password;
one whose password the file has lost (or never had) gets a new one, written there.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from api.accounts import Accounts
from api.accounts.credentials import new_password
from api.accounts.model import STREET_ROLES
from api.demo import script as demo
from ledger.domain.vocabulary import Role
from ledger.errors import ConflictError, InvalidInputError, NotFoundError
from ledger.sealed_identity import ReportKey, generate_key_pair, load_private_key, public_key_of

ACCOUNTS_FILE: Final = "demo-accounts.txt"
#: The demo's street disciplinary committee's private report key, beside the accounts.
DEMO_REPORT_KEY: Final = "demo-report-key.pem"


@dataclass(frozen=True, slots=True)
class DemoPerson:
    role: Role
    username: str
    display_name: str


#: The demo's people, by the names the demo's records give them.
PEOPLE: Final = (
    DemoPerson(Role.CLERK, "lina", demo.CLERK.name),
    DemoPerson(Role.COMMITTEE_MEMBER, "chenhongmei", demo.MEMBER.name),
    DemoPerson(Role.COMMITTEE_CHAIR, "wangjianguo", demo.CHAIR.name),
    DemoPerson(Role.PARTY_REVIEWER, "zhaozhigang", demo.PARTY.name),
    DemoPerson(Role.RESIDENT, "liuhua", demo.RESIDENT.name),
    DemoPerson(Role.RESIDENT_REPRESENTATIVE, "zhoulan", demo.REPRESENTATIVE.name),
    DemoPerson(Role.DISCIPLINARY_AUDITOR, "chenjing", "陈静"),
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: Role
    username: str
    password: str

    def line(self) -> str:
        return f"{self.role.value} {self.username} {self.password}"


def accounts_file_for(store_url: str, keys_dir: str | Path) -> Path:
    """Beside the SQLite database (``data/demo-accounts.txt`` for the default store);
    for PostgreSQL, beside the keys directory (``data/`` again by default)."""
    if store_url.startswith("sqlite:///"):
        return Path(store_url.removeprefix("sqlite:///")).parent / ACCOUNTS_FILE
    return Path(keys_dir).parent / ACCOUNTS_FILE


def read_accounts_file(path: Path) -> dict[str, DemoAccount]:
    """The accounts listed in ``path``, by username (none if there is no file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    found = {}
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            role, username, password = parts
            found[username] = DemoAccount(Role(role), username, password)
        except ValueError:
            raise InvalidInputError(
                f"{path} line {number} is not 'role username password': "
                "remove the file to make the demo's accounts anew"
            ) from None
    return found


def write_accounts_file(path: Path, accounts: list[DemoAccount]) -> None:
    """Write ``path`` whole or not at all, readable by its owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    # Created 0600, never wider for a moment: the passwords are in it.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("".join(a.line() + "\n" for a in accounts))
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    path.chmod(0o600)


def ensure_demo_accounts(accounts: Accounts, community_id: str, path: Path) -> list[DemoAccount]:
    """Make sure each of the demo's people has an account whose password ``path``
    lists, and write ``path``; the accounts, in :data:`PEOPLE`'s order."""
    listed = read_accounts_file(path)
    ready = []
    for person in PEOPLE:
        community = None if person.role in STREET_ROLES else community_id
        kept = listed.get(person.username)
        password = kept.password if kept is not None and kept.role is person.role else None
        try:
            existing = accounts.directory.get(person.username)
        except NotFoundError:
            existing = None
        if existing is None:
            password = password or new_password(person.username)
            accounts.directory.add(
                person.username,
                person.role.value,
                community=community,
                display_name=person.display_name,
                password=password,
            )
        elif existing.role is not person.role or existing.community != community:
            raise ConflictError(
                f"the username {person.username!r} is taken by another account "
                f"({existing.role.value} of {existing.community or 'the street'})"
            )
        elif (
            password is None
            or accounts.directory.check_password(person.username, password) is None
        ):
            password = new_password(person.username)
            accounts.directory.set_password(person.username, password)
        ready.append(DemoAccount(person.role, person.username, password))
    write_accounts_file(path, ready)
    return ready


def demo_report_key(path: Path) -> ReportKey:
    """The demo committee's report key pair, made on the first run: the private key is
    written to ``path`` (for trying ``gongkai reports open`` and the console's opener),
    and the public key is what the demo registers."""
    if path.exists():
        return public_key_of(load_private_key(path.read_bytes()))
    pem, public = generate_key_pair()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return public
