"""What the API tests share: the demo community set up as an operator would, and a
bearer token for each kind of reader."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from api.accounts import open_accounts
from api.cli.main import main
from ledger.application import Ledger
from ledger.store import open_store
from ledger.store.base import Community
from tests.accounts_support import GOOD_PASSWORD, cheap_hasher


def demo_store(directory: Path, *, second_community: bool = True) -> str:
    """``gongkai demo`` (天海社区, sealed with keys under ``directory/keys``) and ``gongkai
    db init`` in ``directory``, and, unless told not to, an empty second community
    (新河社区); the store's URL. The read models are not caught up: callers add what
    they need first."""
    url = f"sqlite:///{directory}/gongkai.sqlite3"
    assert main(["demo", "--db", url, "--keys-dir", str(directory / "keys")]) == 0
    assert main(["db", "init", "--db", url]) == 0
    if second_community:
        with open_store(url) as store, Ledger(store) as ledger:
            ledger.add_community(Community("xinhe", "新河社区"))
    return url


def catch_up(url: str) -> None:
    """``gongkai projections run --once``: every read model current."""
    assert main(["projections", "run", "--db", url, "--once"]) == 0


R = TypeVar("R", bound=str)  # a role: its name, or the Role itself


def reader_tokens(
    url: str, readers: Iterable[tuple[R, str | None]]
) -> dict[tuple[R, str | None], str]:
    """A bearer token of a new account for each (role, community) given, named
    ``role.community`` (``role.street`` for none)."""
    tokens = {}
    with open_accounts(url, hasher=cheap_hasher()) as accounts:
        for role, community in readers:
            name = f"{role}.{community or 'street'}"
            accounts.directory.add(name, role, community=community, password=GOOD_PASSWORD)
            tokens[role, community] = accounts.tokens.issue(name).secret
    return tokens
