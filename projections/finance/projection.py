"""Finance (财务公开) as a read model: every income and expense entry, and the sums that
the monthly, quarterly and year-end disclosures post.

An entry is never edited: a mistake is undone by a reversing entry (红字冲销), a negative
amount in the same account that points at the original, while the original records that
it was reversed. Both stay listed, and the sums net them simply by adding amounts. Each
row keeps the ``seq`` at which it was recorded and the ``seq`` at which it was reversed,
so the finance record as it stood after any chain entry is one query (``as_of``).

Money is an integer number of fen throughout: amounts are stored as BIGINT, and the
sums PostgreSQL returns as NUMERIC are turned back into ``int`` exactly, never via float.

An entry whose period is no month the books can hold (``0000-01``, ``٢٠٢٦-03``: the
ledger took such periods before it checked them as it does now) is kept as recorded and
marked invalid (:attr:`~projections.finance.queries.FinanceEntryRow.invalid`): it
belongs to no month, so the totals leave it out (and a reversal of it too), and
:func:`~projections.finance.queries.invalid_entries` lists them, for every view that
shows totals to say so. Dropping it silently would make the sums look
complete; stopping the projection on it would stop the finances for good, since a
recorded entry is never removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Final
from uuid import UUID

from ledger.errors import StoreError
from projections.db import Tx
from projections.ledger_event import LedgerEvent
from projections.runner import Projection

# What isoformat() writes for a UTC time with microseconds (and fromisoformat has read).
_IN_UTC: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")
# Every period the ledger has ever recorded: before it checked them as it does now
# (ledger.domain.validate.PERIOD) it took any four digits of any script, hence \d here
# on purpose. Anything else was never recorded by the ledger, only written behind it.
_ONCE_ACCEPTED: Final = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


ENTRY_COLUMNS: Final = (
    "entry_id, seq, recorded_at, kind, amount_fen, account, account_name, counterparty, "
    "voucher_sha256, period, memo, reverses"
)


class FinanceProjection(Projection):
    name: ClassVar[str] = "finance"

    def ddl(self) -> list[str]:
        return [
            "CREATE TABLE IF NOT EXISTS finance_accounts (community TEXT NOT NULL, "
            "code TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, "
            "PRIMARY KEY (community, code))",
            # Keyed by the chain entry, so that a catch-up appends: an entry is never
            # changed, and how it was reversed is a row of its own.
            "CREATE TABLE IF NOT EXISTS finance_entries (community TEXT NOT NULL, "
            "seq BIGINT NOT NULL, entry_id TEXT NOT NULL, recorded_at TEXT NOT NULL, "
            "kind TEXT NOT NULL, amount_fen BIGINT NOT NULL, account TEXT NOT NULL, "
            "account_name TEXT NOT NULL, counterparty TEXT NOT NULL, "
            "voucher_sha256 TEXT NOT NULL, period TEXT NOT NULL, memo TEXT NOT NULL, "
            "reverses TEXT, PRIMARY KEY (community, seq)) WITHOUT ROWID",
            "CREATE INDEX IF NOT EXISTS finance_entries_period ON finance_entries "
            "(community, period, seq)",
            "CREATE TABLE IF NOT EXISTS finance_reversals (community TEXT NOT NULL, "
            "entry_id TEXT NOT NULL, reversed_seq BIGINT NOT NULL, reversed_by TEXT, "
            "reversed_at TEXT NOT NULL, reversal_reason TEXT NOT NULL, "
            "PRIMARY KEY (community, entry_id))",
        ]

    def tables(self) -> list[str]:
        return ["finance_entries", "finance_reversals", "finance_accounts"]

    def apply(self, tx: Tx, community_id: str, events: Sequence[LedgerEvent]) -> None:
        # The chart's names are read once a batch, and the batch's entries inserted with
        # one statement.
        names: dict[str, str] | None = None
        pending: list[tuple[Any, ...]] = []
        for event in events:
            if event.area != "finance":
                continue
            if names is None:
                names = dict(
                    tx.query(
                        "SELECT code, name FROM finance_accounts WHERE community = ?",
                        (community_id,),
                    )
                )
            kind, state = event.kind, event.state
            if kind in ("chart-adopted", "account-added"):
                accounts = state.get("accounts", []) if kind == "chart-adopted" else [state]
                for account in accounts:
                    _add_account(tx, community_id, account, names)
            elif kind == "entry-recorded":
                _record_entry(tx, community_id, event, names, pending)
            elif kind == "entry-reversed":
                reversal = _uuid(state.get("reversal_id"))
                _mark_reversed(
                    tx,
                    community_id,
                    original=event.aggregate_id,
                    seq=event.seq,
                    reversal=reversal,
                    at=_timestamp(event.seq, state),
                    reason=str(state.get("reason", "")),
                )
        _insert_entries(tx, pending)


def _add_account(tx: Tx, community_id: str, account: Any, names: dict[str, str]) -> None:
    if not isinstance(account, dict) or not isinstance(account.get("code"), str):
        return
    tx.execute(
        "INSERT INTO finance_accounts (community, code, kind, name) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (community, code) DO UPDATE SET kind = excluded.kind, name = excluded.name",
        (
            community_id,
            account["code"],
            str(account.get("kind", "")),
            str(account.get("name", "")),
        ),
    )
    names[account["code"]] = str(account.get("name", ""))


def _record_entry(
    tx: Tx,
    community_id: str,
    event: LedgerEvent,
    names: dict[str, str],
    pending: list[tuple[Any, ...]],
) -> None:
    seq, state = event.seq, event.state
    # The ledger validated these when it recorded them; a stored entry that breaks them
    # was changed behind its back, and silently dropping it would make every sum wrong.
    amount = state.get("amount_fen")
    if type(amount) is not int:
        raise StoreError(f"finance entry {seq}: amount_fen is not an integer number of fen")
    period = state.get("period")
    if not isinstance(period, str) or not _ONCE_ACCEPTED.fullmatch(period):
        raise StoreError(f"finance entry {seq}: period {period!r} is not YYYY-MM")
    # A period the ledger once accepted but no longer would (0000-01, ٢٠٢٦-03) is kept
    # as recorded: the queries mark it invalid (FinanceEntryRow.invalid).
    code = str(state.get("account", ""))
    reverses = _uuid(state.get("reverses"))
    at = _timestamp(seq, state)
    pending.append(
        (
            community_id,
            event.aggregate_id,
            seq,
            at,
            str(state.get("kind", "")),
            amount,
            code,
            names.get(code, code),  # the code, if the chart does not know it
            str(state.get("counterparty", "")),
            str(state.get("voucher_sha256", "")),
            period,
            str(state.get("memo", "")),
            str(reverses) if reverses else None,
        )
    )
    if reverses is not None:
        # The domain records the original's entry-reversed just before the reversing
        # entry; whichever comes first marks the original, so either alone suffices.
        memo = str(state.get("memo", ""))
        _mark_reversed(
            tx,
            community_id,
            original=str(reverses),
            seq=seq,
            reversal=event.aggregate_id,
            at=at,
            reason=memo,
        )


def _insert_entries(tx: Tx, pending: list[tuple[Any, ...]]) -> None:
    if pending:
        tx.executemany(
            f"INSERT INTO finance_entries (community, {ENTRY_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            pending,
        )
        pending.clear()


def _mark_reversed(
    tx: Tx,
    community_id: str,
    *,
    original: str,
    seq: int,
    reversal: UUID | str | None,
    at: str,
    reason: str,
) -> None:
    tx.execute(
        "INSERT INTO finance_reversals (community, entry_id, reversed_seq, reversed_by, "
        "reversed_at, reversal_reason) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (community, entry_id) DO NOTHING",
        (community_id, original, seq, str(reversal) if reversal else None, at, reason),
    )


def _uuid(value: Any) -> UUID | None:
    """A UUID as the event store encodes it (``{"_type_": "uuid_hex", ...}``), or None."""
    if isinstance(value, dict):
        value = value.get("_data_")
    if not isinstance(value, str):
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def _timestamp(seq: int, state: dict[str, Any]) -> str:
    """The event's time, as UTC ISO 8601 text (so that it is the same on both backends)."""
    value = state.get("timestamp")
    text = value.get("_data_") if isinstance(value, dict) else value
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        raise StoreError(f"finance entry {seq}: its timestamp {text!r} is not a time") from None
    if when.tzinfo is None:
        raise StoreError(f"finance entry {seq}: its timestamp {text!r} has no time zone")
    if when.microsecond and _IN_UTC.fullmatch(str(text)):
        return str(text)  # the ledger's own stamps are UTC already, in this very form
    return when.astimezone(UTC).isoformat()
