"""The finance commands (财务公开): the chart of accounts and its accounts, and
entries recorded and reversed (never edited)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.finance import ChartOfAccounts, FinanceEntry, chart_id
from ledger.domain.finance_period import FinancePeriod, period_id, quarter_of
from ledger.domain.permissions import require_role
from ledger.domain.vocabulary import DEFAULT_ACCOUNTS, Account, EntryKind
from ledger.errors import InvalidTransitionError


class FinanceCommands(CommandRunner):
    """Commands on the chart of accounts and on finance entries."""

    def chart(self) -> ChartOfAccounts:
        chart: Aggregate
        try:
            chart = self.repository.get(chart_id(self.community.id))
        except AggregateNotFoundError:
            raise InvalidTransitionError(
                f"community {self.community.id} has no chart of accounts yet"
            ) from None
        assert isinstance(chart, ChartOfAccounts)
        return chart

    def closed_period(self, period: str) -> FinancePeriod | None:
        try:
            found: Aggregate = self.repository.get(period_id(self.community.id, period))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, FinancePeriod) else None

    def require_open(self, month: str) -> None:
        """Refuse booking into ``month`` once it, or its quarter, is closed."""
        for period in (month, quarter_of(month)):
            closed = self.closed_period(period)
            if closed is not None:
                raise InvalidTransitionError(
                    f"{period} is closed (结账 at entry {closed.figures['as_of']}): book this "
                    f"in the next open period, with a note that it belongs to {month}"
                )

    def adopt_chart(
        self, actor: Actor, idempotency_key: str, accounts: Sequence[Account] = DEFAULT_ACCOUNTS
    ) -> CommandResult:
        require_role(actor, "adopt_chart")
        accounts = list(accounts)

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            try:
                self.repository.get(chart_id(self.community.id))
            except AggregateNotFoundError:
                chart = ChartOfAccounts.adopt(actor, self.community.id, accounts)
                return [chart], {"id": str(chart.id)}
            raise InvalidTransitionError("the community already has a chart of accounts")

        arguments = {"accounts": [[a.code, a.kind, a.name] for a in accounts]}
        return self.execute(actor, idempotency_key, "adopt_chart", arguments, build)

    def add_account(
        self, actor: Actor, idempotency_key: str, *, code: str, kind: str, name: str
    ) -> CommandResult:
        require_role(actor, "add_account")
        account = Account(
            validate.text(code, "code", max_length=40),
            validate.choice(EntryKind, kind, "kind"),
            validate.text(name, "name", max_length=80),
        )

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            chart = self.chart()
            chart.add_account(actor, account)
            return [chart], {"code": account.code}

        arguments = {"code": account.code, "kind": account.kind, "name": account.name}
        return self.execute(actor, idempotency_key, "add_account", arguments, build)

    def record_entry(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        kind: str,
        amount_fen: int,
        account: str,
        counterparty: str,
        voucher_sha256: str,
        period: str,
        memo: str = "",
    ) -> CommandResult:
        """Record an income or expense. Answers ``{"id": ...}``."""
        require_role(actor, "record_entry")
        entry_kind = validate.choice(EntryKind, kind, "kind")
        account_code = validate.text(account, "account", max_length=40)
        fields: dict[str, Any] = {
            "kind": entry_kind.value,
            "amount_fen": validate.amount_fen(amount_fen),
            "account": account_code,
            "counterparty": validate.text(counterparty, "counterparty", max_length=200),
            "voucher_sha256": validate.sha256_hex(voucher_sha256, "voucher_sha256"),
            "period": validate.period(period),
            # The memo is the entry's 摘要, one line of the books: single-line, like the
            # counterparty and the account, so that no row of a ledger table is split.
            "memo": validate.text(memo, "memo", max_length=2000, required=False),
        }
        self.require_held([fields["voucher_sha256"]], "voucher_sha256")

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            self.chart().account(account_code, entry_kind)
            self.require_open(fields["period"])
            entry = FinanceEntry.record(actor, **fields, reverses=None)
            return [entry], {"id": str(entry.id)}

        return self.execute(actor, idempotency_key, "record_entry", fields, build)

    def reverse_entry(
        self,
        actor: Actor,
        idempotency_key: str,
        entry_id: UUID | str,
        *,
        period: str,
        voucher_sha256: str,
        reason: str,
    ) -> CommandResult:
        """Reverse an entry with a red-ink entry (红字冲销). Answers the reversal's ID."""
        require_role(actor, "reverse_entry")
        arguments = {
            "id": str(entry_id),
            "period": validate.period(period),
            "voucher_sha256": validate.sha256_hex(voucher_sha256, "voucher_sha256"),
            # Single-line: the reason becomes the reversing entry's memo (摘要).
            "reason": validate.text(reason, "reason"),
        }
        self.require_held([arguments["voucher_sha256"]], "voucher_sha256")

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            self.require_open(arguments["period"])
            original = self.get(FinanceEntry, entry_id, "finance entry")
            reversal = original.reverse(
                actor, arguments["period"], arguments["voucher_sha256"], arguments["reason"]
            )
            return [original, reversal], {"id": str(reversal.id), "reverses": str(original.id)}

        return self.execute(actor, idempotency_key, "reverse_entry", arguments, build)
