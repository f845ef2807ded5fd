"""Closing an accounting period (结账), its sign-off by the democratic finance group
(民主理财), and its statement drafted as a disclosure from the figures of the close
(:mod:`ledger.domain.finance_period`). An entry booked into a closed period is refused."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.application.finance import FinanceCommands
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.committee import Subgroup
from ledger.domain.disclosure import Disclosure
from ledger.domain.finance_period import (
    FinancePeriod,
    months_of,
    quarter_of,
    statement_body,
    statement_title,
)
from ledger.domain.permissions import require_role
from ledger.domain.working_days import china_date
from ledger.errors import InvalidTransitionError, NotFoundError

_RECORDED = "gongkai/finance/entry-recorded"
_PAGE = 1_000


class FinancePeriodCommands(FinanceCommands):
    """Commands on :class:`~ledger.domain.finance_period.FinancePeriod` aggregates."""

    def close_period(self, actor: Actor, idempotency_key: str, *, period: str) -> CommandResult:
        """Close a month or a quarter that has ended: the figures of its entries on the
        chain now, and the entry they were read at. Answers them."""
        require_role(actor, "close_period")
        months = months_of(validate.text(period, "period", max_length=7))
        if months[-1] >= f"{china_date():%Y-%m}":
            raise InvalidTransitionError(f"{period} has not ended yet: it is closed after")

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            if self.closed_period(period) is not None:
                raise InvalidTransitionError(f"{period} is already closed")
            if len(months) == 1 and self.closed_period(quarter_of(period)) is not None:
                raise InvalidTransitionError(f"its quarter {quarter_of(period)} is closed")
            figures = self._figures(set(months))
            closed = FinancePeriod.close(actor, self.community.id, period, **figures)
            return [closed], {"period": period, **figures}

        return self.execute(actor, idempotency_key, "close_period", {"period": period}, build)

    def sign_off_statement(
        self, actor: Actor, idempotency_key: str, *, period: str, opinion: str = ""
    ) -> CommandResult:
        """The democratic finance group's sign-off of a closed period's statement."""
        require_role(actor, "sign_off_statement")
        said = validate.text(opinion, "opinion", multiline=True, max_length=2_000, required=False)

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            self.require_in_office(actor, Subgroup.FINANCE)  # 民主理财, the committee's group
            closed = self._closed(period)
            closed.sign_off(actor, said)
            return [closed], {"period": period}

        arguments = {"period": period, "opinion": said}
        return self.execute(actor, idempotency_key, "sign_off_statement", arguments, build)

    def draft_statement(self, actor: Actor, idempotency_key: str, *, period: str) -> CommandResult:
        """The signed-off statement as a draft disclosure (收支明细, for the community's
        members), its body the close's figures; it is then reviewed and posted as any
        disclosure is. Answers the disclosure's ID."""
        require_role(actor, "draft_statement")

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            closed = self._closed(period)
            last = months_of(period)[-1]
            first_day = dt.date.fromisoformat(f"{last}-01")
            start = (first_day + dt.timedelta(days=32)).replace(day=1)
            disclosure = Disclosure.draft(
                actor,
                self.gates(),
                category="income_expense",
                title=statement_title(period),
                body=statement_body(period, closed.figures),
                attachments=[],
                scope="internal",
                planned_from=start.isoformat(),
                planned_until=(start + dt.timedelta(days=29)).isoformat(),
            )
            closed.draft_statement(actor, disclosure.id)
            return [closed, disclosure], {"period": period, "id": str(disclosure.id)}

        return self.execute(actor, idempotency_key, "draft_statement", {"period": period}, build)

    def _closed(self, period: str) -> FinancePeriod:
        months_of(period)  # a clear error for what is no period
        closed = self.closed_period(period)
        if closed is None:
            raise NotFoundError(f"{period} is not closed: the clerk closes it first")
        return closed

    def _figures(self, months: set[str]) -> dict[str, Any]:
        """The entries of ``months`` on the chain now, summed by account, and the entry
        they were read at."""
        chart = self.chart()
        sums: dict[tuple[str, str], int] = {}
        count, after = 0, 0
        while rows := self.chain.read_chain(after=after, limit=_PAGE):
            after = rows[-1].seq
            for row in rows:
                if row.topic != _RECORDED:
                    continue
                state = json.loads(row.state)
                if state.get("period") in months:
                    key = (str(state["kind"]), str(state["account"]))
                    sums[key] = sums.get(key, 0) + int(state["amount_fen"])
                    count += 1
        accounts = [
            {
                "kind": kind,
                "account": code,
                "name": chart.accounts[code].name if code in chart.accounts else code,
                "amount_fen": amount,
            }
            for (kind, code), amount in sorted(
                sums.items(), key=lambda i: (i[0][0] != "income", i[0])
            )
        ]
        return {
            "as_of": after,
            "accounts": accounts,
            "income_fen": sum(a["amount_fen"] for a in accounts if a["kind"] == "income"),
            "expense_fen": sum(a["amount_fen"] for a in accounts if a["kind"] == "expense"),
            "entries": count,
        }


def _income_first(item: tuple[tuple[str, str], int]) -> tuple[bool, tuple[str, str]]:
    (kind, code), _ = item
    return kind != "income", (kind, code)
