"""The finance read model: its sums agree with a plain computation over the same entries,
at every point in time, however the entries were applied, on SQLite and PostgreSQL.

Rows are made here in the form the ledger stores them (the domain records the original's
``entry-reversed`` just before the reversing entry); one test goes through the real ledger.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.vocabulary import DEFAULT_ACCOUNTS, Role
from ledger.errors import StoreError
from ledger.store import open_store
from ledger.store.base import Community, RawRow
from projections.db import ReadDB, open_read_db
from projections.finance import FinanceProjection, Grouping, entries, totals
from projections.finance.projection import _timestamp
from projections.runner import ProjectionRunner, store_source

NAMES = {a.code: a.name for a in DEFAULT_ACCOUNTS}
KIND_OF = {a.code: a.kind.value for a in DEFAULT_ACCOUNTS}
MONTHS = ["2025-11", "2025-12", "2026-01", "2026-03", "2026-04", "2026-07", "2026-09"]
CHINA = timezone(timedelta(hours=8))
WHEN = datetime(2026, 7, 1, 9, 30, tzinfo=CHINA)  # stored as the ledger does, any offset
VOUCHER = hashlib.sha256(b"voucher").hexdigest()
GROUPINGS: tuple[Grouping, ...] = ("month", "quarter", "year")


# --- rows as the ledger stores them ------------------------------------------------------------


def _row(seq: int, oid: uuid.UUID, topic: str, state: dict[str, Any]) -> RawRow:
    stamped = {"timestamp": {"_type_": "datetime_iso", "_data_": WHEN.isoformat()}, **state}
    data = json.dumps(stamped, ensure_ascii=False).encode()
    return (seq, b"", b"", oid.bytes, 1, topic.encode(), data)


def chart_row(seq: int) -> RawRow:
    accounts = [{"code": a.code, "kind": a.kind.value, "name": a.name} for a in DEFAULT_ACCOUNTS]
    return _row(seq, uuid.uuid4(), "gongkai/finance/chart-adopted", {"accounts": accounts})


def entry_row(
    seq: int,
    oid: uuid.UUID,
    account: str,
    amount: int,
    period: str,
    reverses: uuid.UUID | None = None,
) -> RawRow:
    state = {
        "kind": KIND_OF[account],
        "amount_fen": amount,
        "account": account,
        "counterparty": "" if reverses else "文具店",
        "voucher_sha256": VOUCHER,
        "period": period,
        "memo": "重复记账" if reverses else "",
        "reverses": {"_type_": "uuid_hex", "_data_": reverses.hex} if reverses else None,
    }
    return _row(seq, oid, "gongkai/finance/entry-recorded", state)


def reversed_row(seq: int, original: uuid.UUID, reversal: uuid.UUID) -> RawRow:
    state = {"reversal_id": {"_type_": "uuid_hex", "_data_": reversal.hex}, "reason": "重复记账"}
    return _row(seq, original, "gongkai/finance/entry-reversed", state)


def other_row(seq: int) -> RawRow:
    """Another topic, with fields that look like money, to be ignored."""
    state = {"title": "低保发放公示", "amount_fen": 18_600_00, "period": "2026-07"}
    return _row(seq, uuid.uuid4(), "gongkai/disclosure/drafted", state)


@dataclasses.dataclass
class Modeled:
    """What the test knows about an entry, to compute the sums without the projection."""

    seq: int
    entry_id: uuid.UUID
    account: str
    amount: int
    period: str
    reverses: uuid.UUID | None = None
    reversed_seq: int | None = None


def build(ops: Sequence[tuple[str, int, int, int]]) -> tuple[list[RawRow], list[Modeled]]:
    """Chain rows from ``ops`` (what, account index, amount, month index), and the model."""
    rows = [chart_row(1)]
    model: list[Modeled] = []
    for what, account_index, amount, month_index in ops:
        seq, period = len(rows) + 1, MONTHS[month_index % len(MONTHS)]
        if what == "record":
            account = DEFAULT_ACCOUNTS[account_index % len(DEFAULT_ACCOUNTS)].code
            model.append(Modeled(seq, uuid.uuid4(), account, amount, period))
            rows.append(entry_row(seq, model[-1].entry_id, account, amount, period))
        elif what == "reverse":
            open_ = [m for m in model if m.reverses is None and m.reversed_seq is None]
            if not open_:
                continue
            original = open_[account_index % len(open_)]
            red = Modeled(seq + 1, uuid.uuid4(), original.account, -original.amount, period)
            red.reverses, original.reversed_seq = original.entry_id, seq
            model.append(red)
            rows.append(reversed_row(seq, original.entry_id, red.entry_id))
            rows.append(
                entry_row(seq + 1, red.entry_id, red.account, red.amount, period, red.reverses)
            )
        else:
            rows.append(other_row(seq))
    return rows, model


ops_strategy = st.lists(
    st.tuples(
        st.sampled_from(["record", "record", "reverse", "other"]),
        st.integers(0, 100),
        st.integers(1, 10**13),  # beyond 32 bits: a hundred billion yuan still adds exactly
        st.integers(0, 100),
    ),
    max_size=25,
)


# --- the plain computation ----------------------------------------------------------------------


QUARTER_OF_MONTH = {f"{m:02d}": f"Q{q}" for q in range(1, 5) for m in range(3 * q - 2, 3 * q + 1)}


def label(month: str, by: Grouping) -> str:
    if by == "month":
        return month
    if by == "year":
        return month[:4]
    return month[:4] + QUARTER_OF_MONTH[month[5:]]


def expected_totals(model: Sequence[Modeled], by: Grouping, as_of: int) -> list[tuple[Any, ...]]:
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for m in model:
        if m.seq <= as_of:
            sums[label(m.period, by)][m.account] += m.amount
    result, balance = [], 0
    for period in sorted(sums):
        accounts = sorted(sums[period].items(), key=lambda a: (KIND_OF[a[0]] != "income", a[0]))
        lines = []
        for code, amount in accounts:
            income = amount if KIND_OF[code] == "income" else 0
            expense = amount if KIND_OF[code] == "expense" else 0
            lines.append((KIND_OF[code], code, NAMES[code], income, expense, income - expense))
        income, expense = sum(line[3] for line in lines), sum(line[4] for line in lines)
        opening, balance = balance, balance + income - expense
        result.append((period, income, expense, income - expense, opening, balance, lines))
    return result


def expected_entries(model: Sequence[Modeled], as_of: int) -> list[tuple[Any, ...]]:
    shown = sorted((m for m in model if m.seq <= as_of), key=lambda m: (m.period, m.seq))
    return [
        (
            m.entry_id,
            m.amount,
            m.reverses,
            m.reversed_seq if (m.reversed_seq or 0) <= as_of else None,
        )
        for m in shown
    ]


def got_totals(
    db: ReadDB, community: str, by: Grouping, as_of: int | None
) -> list[tuple[Any, ...]]:
    return [
        (
            t.period,
            t.income_fen,
            t.expense_fen,
            t.net_fen,
            t.opening_fen,
            t.balance_fen,
            [
                (a.kind, a.account, a.account_name, a.income_fen, a.expense_fen, a.net_fen)
                for a in t.accounts
            ],
        )
        for t in totals(db, community, by=by, as_of=as_of)
    ]


def got_entries(db: ReadDB, community: str, as_of: int | None) -> list[tuple[Any, ...]]:
    return [
        (e.entry_id, e.amount_fen, e.reverses, e.reversed_seq)
        for e in entries(db, community, as_of=as_of)
    ]


def assert_no_floats(value: object) -> None:
    """Money is int all the way out: no float, and no Decimal left from a SQL sum."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            assert_no_floats(getattr(value, f.name))
    elif isinstance(value, list | tuple):
        for item in value:
            assert_no_floats(item)
    else:
        assert not isinstance(value, float), value
        assert type(value).__name__ != "Decimal", value


# --- fixtures ------------------------------------------------------------------------------------


class Source:
    def __init__(self, rows: Sequence[RawRow]) -> None:
        self.rows = list(rows)

    def __call__(self, community_id: str, after: int, limit: int) -> Sequence[RawRow]:
        return self.rows[after : after + limit]


@pytest.fixture
def db(isolated_store_url: str) -> Iterator[ReadDB]:
    read_db = open_read_db(isolated_store_url)
    ProjectionRunner(read_db, [FinanceProjection()], Source([])).setup()
    yield read_db
    read_db.close()


def project(db: ReadDB, community: str, rows: Sequence[RawRow], batch: int = 500) -> None:
    ProjectionRunner(db, [FinanceProjection()], Source(rows), batch=batch).catch_up(community)


def fresh() -> str:
    """A community of its own for each Hypothesis example: they share the database."""
    return "c" + uuid.uuid4().hex[:12]


def dump(db: ReadDB, community: str) -> list[tuple[Any, ...]]:
    with db.reading() as tx:
        return [
            *tx.query(
                "SELECT * FROM finance_entries WHERE community = ? ORDER BY entry_id", (community,)
            ),
            *tx.query(
                "SELECT * FROM finance_accounts WHERE community = ? ORDER BY code", (community,)
            ),
        ]


SHARED_DB = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# --- properties ----------------------------------------------------------------------------------


@SHARED_DB
@given(ops=ops_strategy, k=st.integers(0, 60))
def test_sums_agree_with_a_plain_computation_at_every_point(
    db: ReadDB, ops: list[tuple[str, int, int, int]], k: int
) -> None:
    rows, model = build(ops)
    full, prefix = fresh(), fresh()
    project(db, full, rows)
    for as_of in range(len(rows) + 1):
        for by in GROUPINGS:
            assert got_totals(db, full, by, as_of) == expected_totals(model, by, as_of), (
                by,
                as_of,
            )
        assert got_entries(db, full, as_of) == expected_entries(model, as_of), as_of
    for by in GROUPINGS:
        assert got_totals(db, full, by, None) == expected_totals(model, by, len(rows))
    # The record as of entry k is the record of a ledger that stopped at entry k.
    k = min(k, len(rows))
    project(db, prefix, rows[:k])
    assert entries(db, prefix) == entries(db, full, as_of=k)
    for by in GROUPINGS:
        assert totals(db, prefix, by=by) == totals(db, full, by=by, as_of=k)
    assert_no_floats([entries(db, full), *(totals(db, full, by=b) for b in GROUPINGS)])


@SHARED_DB
@given(ops=ops_strategy, cuts=st.lists(st.integers(1, 60), max_size=4), batch=st.integers(1, 7))
def test_incremental_runs_in_any_batches_agree_with_a_rebuild(
    db: ReadDB, ops: list[tuple[str, int, int, int]], cuts: list[int], batch: int
) -> None:
    rows, _ = build(ops)
    community = fresh()
    # The ledger grows in steps; a new runner (a restarted worker) catches up after each.
    for cut in [*sorted(cuts), len(rows)]:
        project(db, community, rows[:cut], batch=batch)
    incremental = dump(db, community)
    runner = ProjectionRunner(db, [FinanceProjection()], Source(rows), batch=batch)
    assert runner.position("finance", community) == len(rows)
    assert runner.rebuild(community) == len(rows)
    assert dump(db, community) == incremental


# --- examples ------------------------------------------------------------------------------------


def test_a_reversal_is_netted_in_its_own_period_and_both_stay_listed(db: ReadDB) -> None:
    original, red = uuid.uuid4(), uuid.uuid4()
    rows = [
        chart_row(1),
        entry_row(2, original, "office", 42_000, "2026-07"),
        reversed_row(3, original, red),
        entry_row(4, red, "office", -42_000, "2026-08", reverses=original),
    ]
    project(db, "tianhai", rows)
    listed = entries(db, "tianhai")
    assert [(e.entry_id, e.amount_fen, e.period) for e in listed] == [
        (original, 42_000, "2026-07"),
        (red, -42_000, "2026-08"),
    ]
    first, second = listed
    assert (first.reversed, first.reversed_seq, first.reversed_by) == (True, 3, red)
    assert first.reversal_reason == "重复记账"
    assert first.reversed_at == WHEN
    assert (second.reverses, second.reversed) == (original, False)
    assert first.account_name == "办公费"
    assert first.recorded_at == WHEN
    assert first.recorded_at.utcoffset() == timedelta(0), "stored in UTC"
    months = totals(db, "tianhai", by="month")
    assert [(t.period, t.expense_fen, t.net_fen, t.balance_fen) for t in months] == [
        ("2026-07", 42_000, -42_000, -42_000),
        ("2026-08", -42_000, 42_000, 0),
    ]
    (quarter,) = totals(db, "tianhai", by="quarter")
    assert (quarter.period, quarter.expense_fen, quarter.balance_fen) == ("2026Q3", 0, 0)
    assert [(a.account, a.expense_fen) for a in quarter.accounts] == [("office", 0)]
    # Before the reversal the original stood, unreversed.
    (before,) = entries(db, "tianhai", as_of=2)
    assert (before.reversed, before.reversed_by, before.reversal_reason) == (False, None, None)
    assert [(t.period, t.balance_fen) for t in totals(db, "tianhai", as_of=2)] == [
        ("2026-07", -42_000)
    ]


def test_a_reversing_entry_alone_marks_the_original_reversed(db: ReadDB) -> None:
    original, red = uuid.uuid4(), uuid.uuid4()
    rows = [
        chart_row(1),
        entry_row(2, original, "rent", 5_000, "2026-07"),
        entry_row(3, red, "rent", -5_000, "2026-07", reverses=original),
    ]
    project(db, "tianhai", rows)
    first = entries(db, "tianhai")[0]
    assert (first.reversed_seq, first.reversed_by, first.reversal_reason) == (3, red, "重复记账")


def test_months_roll_up_into_quarters_and_years_with_a_running_balance(db: ReadDB) -> None:
    booked = [
        ("grant", 1_000_000, "2025-12"),
        ("salary", 300_000, "2025-12"),
        ("rent", 50_000, "2026-01"),
        ("office", 20_001, "2026-03"),
        ("salary", 300_000, "2026-04"),
        ("donation", 99, "2026-07"),
    ]
    rows = [chart_row(1)]
    rows += [entry_row(i, uuid.uuid4(), *line) for i, line in enumerate(booked, start=2)]
    project(db, "tianhai", rows)

    def summary(by: Grouping) -> list[tuple[str, int, int, int, int]]:
        found = totals(db, "tianhai", by=by)
        return [
            (t.period, t.income_fen, t.expense_fen, t.opening_fen, t.balance_fen) for t in found
        ]

    assert summary("month") == [
        ("2025-12", 1_000_000, 300_000, 0, 700_000),
        ("2026-01", 50_000, 0, 700_000, 750_000),
        ("2026-03", 0, 20_001, 750_000, 729_999),
        ("2026-04", 0, 300_000, 729_999, 429_999),
        ("2026-07", 99, 0, 429_999, 430_098),
    ]
    assert summary("quarter") == [
        ("2025Q4", 1_000_000, 300_000, 0, 700_000),
        ("2026Q1", 50_000, 20_001, 700_000, 729_999),
        ("2026Q2", 0, 300_000, 729_999, 429_999),
        ("2026Q3", 99, 0, 429_999, 430_098),
    ]
    assert summary("year") == [
        ("2025", 1_000_000, 300_000, 0, 700_000),
        ("2026", 50_099, 320_001, 700_000, 430_098),
    ]
    (_, first_quarter, *_) = totals(db, "tianhai", by="quarter")
    assert [(a.account, a.account_name, a.net_fen) for a in first_quarter.accounts] == [
        ("rent", "租金收入", 50_000),
        ("office", "办公费", -20_001),
    ]
    assert [e.period for e in entries(db, "tianhai", "2026-01", "2026-04")] == [
        "2026-01",
        "2026-03",
        "2026-04",
    ]
    with pytest.raises(ValueError, match="YYYY-MM"):
        entries(db, "tianhai", period_from="2026Q1")
    with pytest.raises(ValueError, match="month, quarter or year"):
        totals(db, "tianhai", by="week")  # type: ignore[arg-type]


def test_other_topics_are_ignored_but_passed(db: ReadDB) -> None:
    rows = [other_row(1), other_row(2)]
    runner = ProjectionRunner(db, [FinanceProjection()], Source(rows))
    assert runner.catch_up("tianhai") == 2
    assert runner.position("finance", "tianhai") == 2
    assert entries(db, "tianhai") == []
    assert totals(db, "tianhai") == []


def test_two_communities_are_kept_apart(db: ReadDB) -> None:
    shared_id = uuid.uuid4()  # the same entry ID in both: nothing forbids it
    project(db, "tianhai", [chart_row(1), entry_row(2, shared_id, "grant", 100, "2026-07")])
    project(db, "xinhe", [chart_row(1), entry_row(2, shared_id, "salary", 40, "2026-07")])
    assert [t.net_fen for t in totals(db, "tianhai")] == [100]
    assert [t.net_fen for t in totals(db, "xinhe")] == [-40]
    runner = ProjectionRunner(db, [FinanceProjection()], Source([chart_row(1)]))
    runner.rebuild("xinhe")
    assert totals(db, "xinhe") == []
    assert [t.net_fen for t in totals(db, "tianhai")] == [100]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount_fen", 420.5, "not an integer number of fen"),
        ("amount_fen", "42000", "not an integer number of fen"),
        ("amount_fen", True, "not an integer number of fen"),
        ("period", "2026-13", "not YYYY-MM"),
    ],
)
def test_an_entry_changed_behind_the_ledgers_back_is_refused(
    db: ReadDB, field: str, value: object, message: str
) -> None:
    good = entry_row(2, uuid.uuid4(), "office", 42_000, "2026-07")
    state = {**json.loads(good[6]), field: value}
    bad = (*good[:6], json.dumps(state).encode())
    runner = ProjectionRunner(db, [FinanceProjection()], Source([chart_row(1), bad]))
    with pytest.raises(StoreError, match=message):
        runner.catch_up("tianhai")
    assert runner.position("finance", "tianhai") == 0, "the whole batch was rolled back"


def test_entries_made_through_the_ledger(isolated_store_url: str, db: ReadDB) -> None:
    clerk = Actor("李娜", Role.CLERK)
    with open_store(isolated_store_url) as store:
        store.init_schema()
        ledger = Ledger(store)
        tianhai = ledger.add_community(Community("tianhai", "天海社区"))
        common = {"counterparty": "街道办", "voucher_sha256": VOUCHER}
        grant = tianhai.record_entry(
            clerk,
            "k1",
            kind="income",
            amount_fen=1_860_000,
            account="grant",
            period="2026-07",
            **common,
        ).result["id"]
        office = tianhai.record_entry(
            clerk,
            "k2",
            kind="expense",
            amount_fen=42_000,
            account="office",
            period="2026-07",
            **common,
        ).result["id"]
        red = tianhai.reverse_entry(
            clerk, "k3", office, period="2026-08", voucher_sha256=VOUCHER, reason="重复记账"
        ).result["id"]
        runner = ProjectionRunner(db, [FinanceProjection()], store_source(store), batch=2)
        assert runner.catch_up("tianhai") == store.max_seq("tianhai")
        ledger.close()
    listed = {str(e.entry_id): e for e in entries(db, "tianhai")}
    assert set(listed) == {grant, office, red}
    assert listed[office].reversed_by == uuid.UUID(red)
    assert listed[red].reverses == uuid.UUID(office)
    assert listed[grant].recorded_at.tzinfo is not None
    assert datetime.now(UTC) - listed[grant].recorded_at < timedelta(minutes=5)
    assert [
        (t.period, t.income_fen, t.expense_fen, t.balance_fen) for t in totals(db, "tianhai")
    ] == [
        ("2026-07", 1_860_000, 42_000, 1_818_000),
        ("2026-08", 0, -42_000, 1_860_000),
    ]
    assert_no_floats([entries(db, "tianhai"), totals(db, "tianhai", by="year")])


@given(
    when=st.datetimes(
        min_value=datetime(1900, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
    ),
    spec=st.sampled_from(["auto", "microseconds", "seconds"]),
)
def test_an_entrys_time_is_kept_as_utc_iso_text_whatever_form_it_was_stamped_in(
    when: datetime, spec: str
) -> None:
    stamp = when.isoformat(timespec=spec)
    expected = datetime.fromisoformat(stamp).astimezone(UTC).isoformat()
    assert _timestamp(1, {"timestamp": {"_type_": "datetime_iso", "_data_": stamp}}) == expected
