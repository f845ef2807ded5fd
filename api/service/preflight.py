"""What ``gongkai serve`` checks before it serves: that the ledger's tables, the read
models' and the accounts' are all there. The service creates no table (``gongkai db
init`` does), and without these it would answer 503 to every reader; better to say
at start which are missing and the command that makes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from api.accounts.schema import STATEMENTS as ACCOUNT_STATEMENTS
from api.accounts.service import ACCOUNTS_DB
from ledger.store import open_store, redacted_url
from projections.db import PROJECTIONS, ReadDB, open_read_db
from projections.registry import all_projections
from projections.runner import layout_of

#: The tables of the read models' database that are not any one projection's.
RUNNER_TABLES = ("projection_tracking", "projection_layouts")


@dataclass(frozen=True, slots=True)
class Missing:
    """One store's tables that are absent (or unreadable), and why."""

    store: str  # "ledger", "read models", "accounts"
    detail: str
    #: False when the store could not be read at all (unreachable, refused): then
    #: 'gongkai db init' is not the remedy, and the detail says what is.
    absent: bool = True


def _unreadable(store: str, error: Exception) -> Missing:
    # The stores' own errors for a missing file or table already name the remedy.
    detail = str(error)
    return Missing(store, detail, absent="gongkai db init" in detail)


def account_tables() -> list[str]:
    """The accounts database's tables, as its schema creates them."""
    prefix = "CREATE TABLE IF NOT EXISTS "
    return [s.removeprefix(prefix).split()[0] for s in ACCOUNT_STATEMENTS if s.startswith(prefix)]


def _check_ledger(url: str) -> list[Missing]:
    try:
        with open_store(url) as store:
            absent = []
            for community in store.communities():
                try:
                    store.max_seq(community.id)
                except Exception:
                    absent.append(community.id)
    except Exception as e:
        return [_unreadable("ledger", e)]
    if absent:
        return [Missing("ledger", f"no log tables for {', '.join(absent)}")]
    return []


def _absent_tables(db: ReadDB, tables: list[str]) -> list[str]:
    absent = []
    for table in tables:
        try:
            with db.reading() as tx:
                tx.query(f"SELECT 1 FROM {table} WHERE 1 = 0")
        except Exception:
            absent.append(table)
    return absent


def _check_read_models(db: ReadDB) -> list[Missing]:
    projections = all_projections()
    tables = [*RUNNER_TABLES, *(t for p in projections for t in p.tables())]
    absent = _absent_tables(db, tables)
    if absent:
        return [Missing("read models", f"no tables {', '.join(absent)}")]
    with db.reading() as tx:
        kept = dict(tx.query("SELECT projection, layout FROM projection_layouts"))
    stale = [p.name for p in projections if kept.get(p.name) != layout_of(p)]
    if stale:
        return [Missing("read models", f"tables of another release for {', '.join(stale)}")]
    return []


def _check_accounts(db: ReadDB) -> list[Missing]:
    absent = _absent_tables(db, account_tables())
    return [Missing("accounts", f"no tables {', '.join(absent)}")] if absent else []


def _check_beside(
    url: str, name: str, store: str, check: Callable[[ReadDB], list[Missing]]
) -> list[Missing]:
    try:
        db = open_read_db(url, name, create=False)
    except Exception as e:
        return [_unreadable(store, e)]
    try:
        return check(db)
    except Exception as e:
        return [_unreadable(store, e)]
    finally:
        db.close()


def missing_stores(url: str) -> list[Missing]:
    """What the service at ``url`` would lack; empty when it has everything."""
    found = _check_ledger(url)
    if found:
        # Without the ledger's registry there is nothing to read models of yet: one
        # 'gongkai db init' makes all three, and saying so once is clearer.
        return found
    found += _check_beside(url, PROJECTIONS, "read models", _check_read_models)
    found += _check_beside(url, ACCOUNTS_DB, "accounts", _check_accounts)
    return found


def fix_command(url: str) -> str:
    """The command that creates what is missing, for the store at ``url``."""
    if url.startswith("sqlite:///"):
        return f"gongkai db init --db {url}"
    # The service's role may only read and insert: the owner creates the tables and
    # grants them to it. The URL is shown without its password.
    parts = urlsplit(redacted_url(url))
    role = parts.username or "SERVICE_ROLE"
    hosts = parts.netloc.rpartition("@")[2]
    owner_url = urlunsplit(parts._replace(netloc=f"OWNER@{hosts}"))
    return (
        f"gongkai db init --db '{owner_url}' --service-role {role}"
        "   (as the database's owner, OWNER)"
    )
