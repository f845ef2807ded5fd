"""Finance entries (财务收支) and the chart of accounts they are booked against.

Money is an integer number of fen (分). An entry is never edited: a mistake is fixed by
a reversing entry (红字冲销) of the opposite sign that points at the original, and the
original records that it was reversed, so it cannot be reversed twice.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.ids import new_id
from ledger.domain.vocabulary import Account, EntryKind
from ledger.errors import InvalidInputError, InvalidTransitionError


def chart_id(community_id: str) -> UUID:
    """Each community has one chart of accounts, at a fixed ID."""
    return uuid5(NAMESPACE_URL, f"gongkai:{community_id}:chart-of-accounts")


class ChartOfAccounts(LedgerAggregate):
    """The community's chart of accounts (会计科目表); configuration, kept as events."""

    class ChartAdopted(LedgerAggregate.Created):
        TOPIC = "gongkai/finance/chart-adopted"
        accounts: list[dict[str, str]]  # {"code", "kind", "name"}

        def apply(self, aggregate: Any) -> None:
            for a in self.accounts:
                aggregate.add(Account(a["code"], EntryKind(a["kind"]), a["name"]))

    class AccountAdded(LedgerAggregate.Event):
        TOPIC = "gongkai/finance/account-added"
        code: str
        kind: str
        name: str

        def apply(self, aggregate: Any) -> None:
            aggregate.add(Account(self.code, EntryKind(self.kind), self.name))

    def __init__(self, **_: Any) -> None:
        self.accounts: dict[str, Account] = {}

    def add(self, account: Account) -> None:
        self.accounts[account.code] = account

    @classmethod
    def adopt(cls, actor: Actor, community_id: str, accounts: list[Account]) -> ChartOfAccounts:
        return cls._create(
            cls.ChartAdopted,
            id=chart_id(community_id),
            **actor.event_fields(),
            accounts=[{"code": a.code, "kind": a.kind.value, "name": a.name} for a in accounts],
        )

    def add_account(self, actor: Actor, account: Account) -> None:
        if account.code in self.accounts:
            raise InvalidInputError(f"account {account.code!r} already exists", field="code")
        self.act(
            self.AccountAdded, actor, code=account.code, kind=account.kind.value, name=account.name
        )

    def account(self, code: str, kind: EntryKind) -> Account:
        account = self.accounts.get(code)
        if account is None:
            known = ", ".join(sorted(self.accounts))
            raise InvalidInputError(
                f"unknown account {code!r}; the chart of accounts has: {known}", field="account"
            )
        if account.kind is not kind:
            raise InvalidInputError(
                f"account {code!r} ({account.name}) is for {account.kind.value}, not {kind.value}",
                field="account",
            )
        return account


class FinanceEntry(LedgerAggregate):
    """One income or expense (or the reversal of one)."""

    class EntryRecorded(LedgerAggregate.Created):
        TOPIC = "gongkai/finance/entry-recorded"
        kind: str
        amount_fen: int  # negative only on a reversing entry
        account: str
        counterparty: str
        voucher_sha256: str
        period: str  # YYYY-MM
        memo: str
        reverses: UUID | None

        def apply(self, aggregate: Any) -> None:
            aggregate.kind = EntryKind(self.kind)
            aggregate.amount_fen = self.amount_fen
            aggregate.account = self.account
            aggregate.reverses = self.reverses

    class EntryReversed(LedgerAggregate.Event):
        TOPIC = "gongkai/finance/entry-reversed"
        reversal_id: UUID
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.reversed_by = self.reversal_id

    kind: EntryKind
    amount_fen: int
    account: str
    reverses: UUID | None

    def __init__(self, **_: Any) -> None:
        self.reversed_by: UUID | None = None

    @classmethod
    def record(cls, actor: Actor, **fields: Any) -> FinanceEntry:
        return cls._create(cls.EntryRecorded, id=new_id(), **actor.event_fields(), **fields)

    def reverse(self, actor: Actor, period: str, voucher_sha256: str, reason: str) -> FinanceEntry:
        """Record the reversing entry and mark this one reversed; save both together."""
        if self.reverses is not None:
            raise InvalidTransitionError("a reversing entry is not itself reversed")
        if self.reversed_by is not None:
            raise InvalidTransitionError(f"this entry was already reversed by {self.reversed_by}")
        reversal = FinanceEntry.record(
            actor,
            kind=self.kind.value,
            amount_fen=-self.amount_fen,
            account=self.account,
            counterparty="",
            voucher_sha256=voucher_sha256,
            period=period,
            memo=reason,
            reverses=self.id,
        )
        self.act(self.EntryReversed, actor, reversal_id=reversal.id, reason=reason)
        return reversal


register_event_topics(ChartOfAccounts)
register_event_topics(FinanceEntry)
