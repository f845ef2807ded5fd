"""A closed accounting period (结账) and its statement (财务收支明细).

The clerk closes a month or a quarter once its books are complete. The close states
the chain entry the books were read at (``as_of``) and the figures found there: income
and expense by account, their totals and the net. The democratic finance group (民主理财
小组, the supervision committee's members) signs the statement off; only then is it
drafted as a disclosure whose body is those figures, so what is posted is the books'
figures, and anyone can recompute them from the chain up to ``as_of``
(:func:`projections.finance.queries.totals`).

After the close, no entry or reversal is booked into the period: it goes into the next
one, with a note saying which period it belongs to.
"""

from __future__ import annotations

import re
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain import validate
from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.errors import InvalidInputError, InvalidTransitionError

_QUARTER: Final = re.compile(r"(20[0-9]{2}|2100)Q([1-4])")


def period_id(community_id: str, period: str) -> UUID:
    """The aggregate of one closable period (``YYYY-MM`` or ``YYYYQn``)."""
    return uuid5(NAMESPACE_URL, f"gongkai:{community_id}:finance-period:{period}")


def months_of(period: str) -> tuple[str, ...]:
    """The months a period closes, or a clear error for anything but a month or a
    quarter."""
    if validate.period_problem(period) is None:
        return (period,)
    quarter = _QUARTER.fullmatch(period)
    if quarter is None:
        raise InvalidInputError(
            f"a period to close is a month (YYYY-MM) or a quarter (YYYYQn), got {period!r}",
            field="period",
        )
    year, q = quarter.group(1), int(quarter.group(2))
    return tuple(f"{year}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1))


def quarter_of(month: str) -> str:
    """``2026-08`` -> ``2026Q3``."""
    return f"{month[:4]}Q{(int(month[5:7]) - 1) // 3 + 1}"


class FinancePeriod(LedgerAggregate):
    """One closed period, its sign-off and the statement posted from it."""

    class PeriodClosed(LedgerAggregate.Created):
        TOPIC = "gongkai/finance-period/period-closed"
        actor: str
        actor_role: str
        period: str
        as_of: int  # the chain entry the books were read at
        #: Each account's sum in fen: {"kind", "account", "name", "amount_fen"}.
        accounts: list[dict[str, Any]]
        income_fen: int
        expense_fen: int
        entries: int  # how many entries (reversals included) the figures sum

        def apply(self, aggregate: Any) -> None:
            aggregate.period = self.period
            aggregate.figures = {
                "as_of": self.as_of,
                "accounts": self.accounts,
                "income_fen": self.income_fen,
                "expense_fen": self.expense_fen,
                "entries": self.entries,
            }

    class StatementApproved(LedgerAggregate.Event):
        """The democratic finance group's sign-off (民主理财小组审核)."""

        TOPIC = "gongkai/finance-period/statement-approved"
        opinion: str

        def apply(self, aggregate: Any) -> None:
            aggregate.signed_off_by = self.actor

    class StatementDrafted(LedgerAggregate.Event):
        TOPIC = "gongkai/finance-period/statement-drafted"
        disclosure_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.statement = self.disclosure_id

    period: str
    figures: dict[str, Any]

    def __init__(self, **_: Any) -> None:
        self.signed_off_by: str | None = None
        self.statement: UUID | None = None

    @classmethod
    def close(cls, actor: Actor, community_id: str, period: str, **figures: Any) -> FinancePeriod:
        return cls._create(
            cls.PeriodClosed,
            id=period_id(community_id, period),
            **actor.event_fields(),
            period=period,
            **figures,
        )

    def sign_off(self, actor: Actor, opinion: str) -> None:
        if self.signed_off_by is not None:
            raise InvalidTransitionError(
                f"the statement of {self.period} was already signed off by {self.signed_off_by}"
            )
        self.act(self.StatementApproved, actor, opinion=opinion)

    def draft_statement(self, actor: Actor, disclosure_id: UUID) -> None:
        if self.signed_off_by is None:
            raise InvalidTransitionError(
                f"the statement of {self.period} needs the democratic finance group's "
                "sign-off (民主理财小组审核) before it is drafted"
            )
        if self.statement is not None:
            raise InvalidTransitionError(
                f"the statement of {self.period} was already drafted: {self.statement}"
            )
        self.act(self.StatementDrafted, actor, disclosure_id=disclosure_id)


register_event_topics(FinancePeriod)


def yuan(fen: int) -> str:
    """Fen as the board writes money: 12,600.00元."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}元"


def statement_title(period: str) -> str:
    if "Q" in period:
        return f"【内部】{period[:4]}年第{period[5]}季度社区财务收支明细"
    return f"【内部】{period[:4]}年{int(period[5:7])}月社区财务收支明细"


def statement_body(period: str, figures: dict[str, Any]) -> str:
    """The statement's text, every figure from the close: income and expense by account,
    their totals, the net, and where anyone can recompute them."""
    lines = []
    for kind, label in (("income", "收入"), ("expense", "支出")):
        mine = [a for a in figures["accounts"] if a["kind"] == kind]
        total = figures["income_fen"] if kind == "income" else figures["expense_fen"]
        detail = "；".join(f"{a['name']}（{a['account']}）{yuan(a['amount_fen'])}" for a in mine)
        lines.append(f"{label}合计{yuan(total)}" + (f"：{detail}。" if detail else "。"))
    net = figures["income_fen"] - figures["expense_fen"]
    lines.append(f"本期收支相抵{yuan(net)}。")
    lines.append(
        f"以上数字为 {period} 结账时账目（截至第 {figures['as_of']} 条记录，共 "
        f"{figures['entries']} 笔，含红字冲销）的汇总，经民主理财小组审核；任何人可据公开"
        "记录复算。"
    )
    return "\n".join(lines)
