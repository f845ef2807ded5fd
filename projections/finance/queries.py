"""Reading the finance record: the entries (with how each was reversed) and the
monthly, quarterly and yearly totals per account, as they stood after any chain entry
(``as_of``). Sums come back from the database as exact integers of fen; entries marked
invalid are in no total, and :func:`invalid_entries` lists them with why."""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Literal
from uuid import UUID

from ledger.domain.validate import period_problem
from projections.db import ReadDB, Tx
from projections.finance.projection import ENTRY_COLUMNS

Grouping = Literal["month", "quarter", "year"]

# An entry with how it was reversed, if it was.
_COLUMNS: Final = (
    ", ".join(f"e.{c.strip()}" for c in ENTRY_COLUMNS.split(","))
    + ", r.reversed_seq, r.reversed_by, r.reversed_at, r.reversal_reason"
)


_JOINED: Final = (
    "finance_entries e LEFT JOIN finance_reversals r "
    "ON r.community = e.community AND r.entry_id = e.entry_id"
)


@dataclass(frozen=True, slots=True)
class FinanceEntryRow:
    """One finance entry as it stood after some chain entry."""

    entry_id: UUID
    seq: int  # the chain entry that recorded it
    recorded_at: datetime  # UTC; views show it in China time
    kind: str  # "income" or "expense"
    amount_fen: int  # negative only on a reversing entry
    account: str  # the account's code
    account_name: str  # the account's name in the chart (科目), what residents read
    counterparty: str
    voucher_sha256: str
    period: str  # YYYY-MM
    memo: str
    reverses: UUID | None  # set on a reversing entry: the entry it undoes
    reversed_seq: int | None  # set on a reversed entry: the chain entry that reversed it
    reversed_by: UUID | None
    reversed_at: datetime | None
    reversal_reason: str | None
    #: Why the totals leave the entry out, or None (on every entry recorded as the ledger
    #: checks now): its period is no month from 2000-01 to 2100-12 in ASCII digits, or
    #: it reverses such an entry, since undoing what was never counted must not count.
    invalid: str | None = None

    @property
    def reversed(self) -> bool:
        return self.reversed_seq is not None


@dataclass(frozen=True, slots=True)
class AccountTotal:
    """One account's sums within one period; reversals already netted."""

    kind: str
    account: str
    account_name: str
    income_fen: int
    expense_fen: int
    net_fen: int


@dataclass(frozen=True, slots=True)
class PeriodTotal:
    """One period's sums, and the balance carried through the periods before it."""

    period: str  # 2026-07, 2026Q3 or 2026
    income_fen: int
    expense_fen: int
    net_fen: int  # income - expense
    opening_fen: int  # the balance after every earlier period (the first opens at 0)
    balance_fen: int  # opening + net
    accounts: tuple[AccountTotal, ...]  # income accounts first, then expense; by code


def entries(
    db: ReadDB,
    community_id: str,
    period_from: str | None = None,
    period_to: str | None = None,
    as_of: int | None = None,
) -> list[FinanceEntryRow]:
    """Every entry of the periods ``period_from`` to ``period_to`` (YYYY-MM, both
    included; open when None), reversed and reversing ones too, as they stood after
    chain entry ``as_of`` (now, when None); by period, then in the order recorded.

    Entries the totals leave out are listed with :attr:`~FinanceEntryRow.invalid` set;
    a range of months leaves out those whose period is no month, as they are in none."""
    where, params = _scope(community_id, as_of, "e.")
    for bound, op in ((period_from, ">="), (period_to, "<=")):
        if bound is not None:
            if period_problem(bound) is not None:
                raise ValueError(f"a period bound {period_problem(bound)}")
            where += f" AND e.period {op} ?"
            params.append(bound)
    with db.reading() as tx:
        rows = tx.query(
            f"SELECT {_COLUMNS} FROM {_JOINED} WHERE {where} ORDER BY e.period, e.seq", params
        )
        why = _uncounted(tx, community_id, as_of)
    found = [_entry_row(row, as_of, why) for row in rows]
    if period_from is None and period_to is None:
        return found
    # Text order is no calendar for an invalid period: 20٢6-03 sorts between ASCII months.
    return [r for r in found if period_problem(r.period) is None]


def invalid_entries(
    db: ReadDB, community_id: str, as_of: int | None = None
) -> list[FinanceEntryRow]:
    """The entries the totals leave out (see :attr:`FinanceEntryRow.invalid`), as they
    stood after chain entry ``as_of``, in the order recorded."""
    with db.reading() as tx:
        why = _uncounted(tx, community_id, as_of)
        if not why:
            return []
        where, params = _scope(community_id, as_of, "e.")
        rows = tx.query(
            f"SELECT {_COLUMNS} FROM {_JOINED} WHERE {where} "
            f"AND e.entry_id IN ({_marks(why)}) ORDER BY e.seq",
            [*params, *why],
        )
    return [_entry_row(row, as_of, why) for row in rows]


def _uncounted(tx: Tx, community_id: str, as_of: int | None) -> dict[str, str]:
    """entry_id -> why, for the entries that no total counts: those whose period is no
    month (recorded before the ledger checked periods as it does now), and the
    reversals of those. Usually none, found from the (community, period, seq) index."""
    where, params = _scope(community_id, as_of)
    periods = [
        p
        for (p,) in tx.query(f"SELECT DISTINCT period FROM finance_entries WHERE {where}", params)
        if period_problem(p) is not None
    ]
    if not periods:
        return {}
    why = {
        str(oid): f"period {period_problem(period)}"
        for oid, period in tx.query(
            f"SELECT entry_id, period FROM finance_entries WHERE {where} "
            f"AND period IN ({_marks(periods)})",
            [*params, *periods],
        )
    }
    for oid, original in tx.query(
        f"SELECT entry_id, reverses FROM finance_entries WHERE {where} "
        f"AND reverses IN ({_marks(why)})",
        [*params, *why],
    ):
        why[str(oid)] = f"reverses entry {original}, whose period is no month"
    return why


def _marks(values: Sized) -> str:
    return ", ".join("?" for _ in range(len(values)))


def totals(
    db: ReadDB, community_id: str, by: Grouping = "month", as_of: int | None = None
) -> list[PeriodTotal]:
    """Income, expense and net per period (month ``2026-07``, quarter ``2026Q3`` or year
    ``2026``) and per account, and the running balance, in period order, as they stood
    after chain entry ``as_of`` (now, when None). A reversal counts in its own period,
    as red ink is booked when it is written. Periods without entries are left out, and
    so are the entries marked invalid (:func:`invalid_entries`), which are in no month."""
    if by not in ("month", "quarter", "year"):
        raise ValueError(f"totals are by month, quarter or year, not {by!r}")
    where, params = _scope(community_id, as_of)
    # The database sums each month and account; months roll up into quarters and years
    # here, where the period arithmetic is plain to read.
    with db.reading() as tx:
        uncounted = _uncounted(tx, community_id, as_of)
        if uncounted:
            where += f" AND entry_id NOT IN ({_marks(uncounted)})"
            params.extend(uncounted)
        rows = tx.query(
            "SELECT period, kind, account, MAX(account_name), SUM(amount_fen) "
            f"FROM finance_entries WHERE {where} GROUP BY period, kind, account",
            params,
        )
    sums: dict[str, dict[tuple[str, str], tuple[str, int]]] = {}
    for month, kind, account, account_name, amount in rows:
        group = sums.setdefault(period_label(month, by), {})
        _, so_far = group.get((kind, account), (account_name, 0))
        group[kind, account] = (account_name, so_far + _fen(amount))
    result: list[PeriodTotal] = []
    balance = 0
    for period in sorted(sums):
        lines = [
            _account_total(kind, account, name, amount)
            for (kind, account), (name, amount) in sums[period].items()
        ]
        lines.sort(key=lambda t: (t.kind != "income", t.kind, t.account))
        income = sum(t.income_fen for t in lines)
        expense = sum(t.expense_fen for t in lines)
        opening, balance = balance, balance + income - expense
        result.append(
            PeriodTotal(period, income, expense, income - expense, opening, balance, tuple(lines))
        )
    return result


def period_label(month: str, by: Grouping) -> str:
    """The month ``YYYY-MM``, its quarter ``YYYYQn`` or its year ``YYYY``."""
    year, number = month[:4], int(month[5:7])
    if by == "month":
        return month
    if by == "quarter":
        return f"{year}Q{(number - 1) // 3 + 1}"
    return year


def _account_total(kind: str, account: str, name: str, amount: int) -> AccountTotal:
    income = amount if kind == "income" else 0
    expense = amount if kind == "expense" else 0
    return AccountTotal(kind, account, name, income, expense, income - expense)


def _scope(community_id: str, as_of: int | None, table: str = "") -> tuple[str, list[Any]]:
    if as_of is None:
        return f"{table}community = ?", [community_id]
    return f"{table}community = ? AND {table}seq <= ?", [community_id, as_of]


def _fen(value: Any) -> int:
    """A sum from the database as int: SQLite gives int, PostgreSQL's SUM of BIGINT gives
    NUMERIC (Decimal), which converts exactly. Anything else is a bug, not a rounding."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if type(value) is int:
        return value
    raise TypeError(f"a sum of fen came back as {value!r}")


def _entry_row(
    row: tuple[Any, ...], as_of: int | None, uncounted: dict[str, str]
) -> FinanceEntryRow:
    (oid, seq, at, kind, amount, account, name, counterparty, voucher, period, memo) = row[:11]
    reverses, reversed_seq, reversed_by, reversed_at, reason = row[11:]
    if reversed_seq is not None and as_of is not None and int(reversed_seq) > as_of:
        # Reversed later than the moment asked about: then it still stood.
        reversed_seq = reversed_by = reversed_at = reason = None
    return FinanceEntryRow(
        entry_id=UUID(oid),
        seq=int(seq),
        recorded_at=datetime.fromisoformat(at),
        kind=kind,
        amount_fen=_fen(amount),
        account=account,
        account_name=name,
        counterparty=counterparty,
        voucher_sha256=voucher,
        period=period,
        memo=memo,
        reverses=UUID(reverses) if reverses else None,
        reversed_seq=int(reversed_seq) if reversed_seq is not None else None,
        reversed_by=UUID(reversed_by) if reversed_by else None,
        reversed_at=datetime.fromisoformat(reversed_at) if reversed_at else None,
        reversal_reason=reason,
        invalid=uncounted.get(str(oid)),
    )
