"""The ledger's commands and reads, one eventsourcing application per community.

Each command validates its input, checks the actor's role, loads and changes
aggregates, and saves their new events in one transaction together with its
idempotency key (see :mod:`ledger.chain.idempotency`). Anything refused raises before the
save, so a refused command stores nothing.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, StoredEvent
from eventsourcing.utils import Environment, EnvType

from ledger.chain.hashing import ChainedEvent, Head
from ledger.chain.idempotency import (
    CommandResult,
    canonical_json,
    check_key,
    fingerprint,
    scoped_key,
)
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.correction import Correction
from ledger.domain.disclosure import Disclosure
from ledger.domain.finance import ChartOfAccounts, FinanceEntry, chart_id
from ledger.domain.permissions import require_role, require_stage_role
from ledger.domain.vocabulary import (
    CATEGORY_BY_CODE,
    DEFAULT_ACCOUNTS,
    Account,
    Channel,
    EntryKind,
    ObjectionForm,
    ReviewOutcome,
    ReviewStage,
    Role,
    Scope,
)
from ledger.errors import (
    ConflictError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
)
from ledger.store.base import (
    CommandRecord,
    Community,
    DuplicateCommandError,
    Store,
    StoredCommand,
)
from ledger.store.recorder import ChainedRecorder

A = TypeVar("A", bound=Aggregate)
Build = Callable[[], tuple[Sequence[Aggregate], dict[str, Any]]]

# A command that loses a race on the same aggregate is rebuilt from fresh state and
# tried again this many times before the caller is told.
MAX_ATTEMPTS: Final = 5
SYSTEM: Final = Actor("gongkai", Role.SYSTEM)


class CommunityLedger(Application[UUID]):
    """The ledger of one community."""

    name = "CommunityLedger"

    def __init__(self, community: Community, recorder: ChainedRecorder) -> None:
        if not isinstance(recorder, ApplicationRecorder):
            raise TypeError("the recorder must be an eventsourcing application recorder")
        self.community = community
        self.chain = recorder
        # eventsourcing's factory is used only for its mapper and transcoder here: the
        # recorder comes from the store, which decides the backend.
        super().__init__(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Configuration comes from the caller only, never silently from os.environ.
        return Environment(name, dict(env or {}))

    def construct_recorder(self) -> ApplicationRecorder:
        assert isinstance(self.chain, ApplicationRecorder)
        return self.chain

    # --- the command runner -------------------------------------------------------

    def execute(
        self,
        actor: Actor,
        idempotency_key: str,
        command: str,
        arguments: dict[str, Any],
        build: Build,
    ) -> CommandResult:
        """Run one command at most once per idempotency key of ``actor``'s account: the
        same key sent by another account is another command (see :func:`scoped_key`)."""
        key = check_key(idempotency_key)
        stored_key = scoped_key(actor.name, key)
        digest = fingerprint(command, arguments)
        for _ in range(MAX_ATTEMPTS):
            prior = self._prior_command(actor, key, stored_key)
            if prior is not None:
                if prior.fingerprint != digest:
                    raise IdempotencyKeyReusedError(
                        f"idempotency key {key!r} was already used for a different command"
                    )
                return CommandResult(
                    json.loads(prior.result), prior.first_seq, prior.last_seq, replayed=True
                )
            aggregates, result = build()
            record = CommandRecord(stored_key, digest, canonical_json(result))
            try:
                recordings = self.save(*aggregates, command=record)
            except (DuplicateCommandError, IntegrityError):
                # Either an earlier attempt with this key was stored after all (its
                # acknowledgement was lost), or another command changed the same
                # aggregate first. Look again.
                continue
            seqs = [r.notification.id for r in recordings]
            return CommandResult(json.loads(record.result), seqs[0], seqs[-1])
        raise ConflictError(f"command {command} kept conflicting with concurrent changes")

    def _prior_command(self, actor: Actor, key: str, stored_key: str) -> StoredCommand | None:
        """The command this account already ran under ``key``, if any. Commands stored
        before keys were scoped by account are stored under the bare key: such a one
        counts only if the same account recorded it, which its first event names."""
        prior = self.chain.find_command(stored_key)
        if prior is None:
            prior = self.chain.find_command(key)
            if prior is not None and self._recorded_by(prior) != actor.name:
                prior = None
        return prior

    def _recorded_by(self, command: StoredCommand) -> str | None:
        """The actor named by the first event ``command`` wrote."""
        rows = self.chain.read_chain(after=command.first_seq - 1, limit=1)
        if not rows:
            return None
        row = rows[0]
        event = self.mapper.to_domain_event(
            StoredEvent(row.originator_id, row.originator_version, row.topic, row.state)
        )
        actor = getattr(event, "actor", None)
        return actor if isinstance(actor, str) else None

    def get(self, cls: type[A], aggregate_id: UUID | str, what: str) -> A:
        """Load an aggregate of type ``cls`` or raise :class:`NotFoundError`."""
        try:
            uid = aggregate_id if isinstance(aggregate_id, UUID) else UUID(str(aggregate_id))
        except ValueError:
            raise InvalidInputError(
                f"{what} ID {aggregate_id!r} is not a UUID", field="id"
            ) from None
        aggregate: Aggregate | None
        try:
            aggregate = self.repository.get(uid)
        except AggregateNotFoundError:
            aggregate = None
        if not isinstance(aggregate, cls):
            raise NotFoundError(f"no {what} {uid} in community {self.community.id}")
        return aggregate

    # --- chart of accounts ------------------------------------------------------------

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

    # --- disclosures ------------------------------------------------------------------

    @staticmethod
    def _content(
        category: object,
        title: object,
        body: object,
        scope: object,
        attachments: Sequence[object],
        planned_from: object,
        planned_until: object,
    ) -> dict[str, Any]:
        if category not in CATEGORY_BY_CODE:
            raise InvalidInputError(
                f"unknown category {category!r}; expected one of: {', '.join(CATEGORY_BY_CODE)}",
                field="category",
            )
        start, end = validate.date_range(planned_from, planned_until, "planned")
        return {
            "category": category,
            "title": validate.text(title, "title", max_length=validate.MAX_TITLE),
            "body": validate.text(body, "body", multiline=True),
            "attachments": validate.sha256_list(attachments, "attachments"),
            "scope": validate.choice(Scope, scope, "scope").value,
            "planned_from": start.isoformat(),
            "planned_until": end.isoformat(),
        }

    def draft_disclosure(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        category: str,
        title: str,
        body: str,
        scope: str,
        planned_from: str,
        planned_until: str,
        attachments: Sequence[str] = (),
    ) -> CommandResult:
        """Record a new draft. Answers ``{"id": ...}``."""
        require_role(actor, "draft_disclosure")
        content = self._content(
            category, title, body, scope, attachments, planned_from, planned_until
        )

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            disclosure = Disclosure.draft(actor, **content)
            return [disclosure], {"id": str(disclosure.id)}

        return self.execute(actor, idempotency_key, "draft_disclosure", content, build)

    def revise_draft(
        self,
        actor: Actor,
        idempotency_key: str,
        disclosure_id: UUID | str,
        *,
        category: str,
        title: str,
        body: str,
        scope: str,
        planned_from: str,
        planned_until: str,
        attachments: Sequence[str] = (),
    ) -> CommandResult:
        require_role(actor, "revise_draft")
        content = self._content(
            category, title, body, scope, attachments, planned_from, planned_until
        )
        return self._on_disclosure(
            actor,
            idempotency_key,
            "revise_draft",
            disclosure_id,
            content,
            lambda d: d.revise_draft(actor, **content),
        )

    def submit_for_review(
        self, actor: Actor, idempotency_key: str, disclosure_id: UUID | str
    ) -> CommandResult:
        require_role(actor, "submit_for_review")
        return self._on_disclosure(
            actor,
            idempotency_key,
            "submit_for_review",
            disclosure_id,
            {},
            lambda d: d.submit_for_review(actor),
        )

    def review(
        self,
        actor: Actor,
        idempotency_key: str,
        disclosure_id: UUID | str,
        *,
        stage: str,
        outcome: str,
        opinion: str,
    ) -> CommandResult:
        """Record one review act (审核 / 审查 / 初审 / 复审 / 终审)."""
        review_stage = validate.choice(ReviewStage, stage, "stage")
        review_outcome = validate.choice(ReviewOutcome, outcome, "outcome")
        require_stage_role(actor, review_stage)
        text = validate.text(
            opinion,
            "opinion",
            required=review_outcome is ReviewOutcome.REJECTED,
            multiline=True,
        )
        arguments = {"stage": review_stage, "outcome": review_outcome, "opinion": text}
        return self._on_disclosure(
            actor,
            idempotency_key,
            "review",
            disclosure_id,
            arguments,
            lambda d: d.review(actor, review_stage, review_outcome, text),
        )

    def publish(
        self,
        actor: Actor,
        idempotency_key: str,
        disclosure_id: UUID | str,
        *,
        channel: str,
        period_from: str,
        period_until: str,
    ) -> CommandResult:
        require_role(actor, "publish")
        chosen = validate.choice(Channel, channel, "channel")
        start, end = validate.date_range(period_from, period_until, "period")
        arguments = {"channel": chosen, "from": start, "until": end}
        return self._on_disclosure(
            actor,
            idempotency_key,
            "publish",
            disclosure_id,
            arguments,
            lambda d: d.publish(actor, chosen, start.isoformat(), end.isoformat()),
        )

    def withdraw(
        self, actor: Actor, idempotency_key: str, disclosure_id: UUID | str, *, reason: str
    ) -> CommandResult:
        require_role(actor, "withdraw")
        why = validate.text(reason, "reason", multiline=True)
        return self._on_disclosure(
            actor,
            idempotency_key,
            "withdraw",
            disclosure_id,
            {"reason": why},
            lambda d: d.withdraw(actor, why),
        )

    def archive(
        self, actor: Actor, idempotency_key: str, disclosure_id: UUID | str
    ) -> CommandResult:
        require_role(actor, "archive")
        return self._on_disclosure(
            actor, idempotency_key, "archive", disclosure_id, {}, lambda d: d.archive(actor)
        )

    def _on_disclosure(
        self,
        actor: Actor,
        idempotency_key: str,
        command: str,
        disclosure_id: UUID | str,
        arguments: dict[str, Any],
        change: Callable[[Disclosure], None],
    ) -> CommandResult:
        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            disclosure = self.get(Disclosure, disclosure_id, "disclosure")
            change(disclosure)
            return [disclosure], {"id": str(disclosure.id), "version": disclosure.version}

        return self.execute(
            actor, idempotency_key, command, {"id": str(disclosure_id), **arguments}, build
        )

    # --- objections and corrections --------------------------------------------------

    def raise_objection(
        self,
        actor: Actor,
        idempotency_key: str,
        disclosure_id: UUID | str,
        *,
        disclosure_version: int,
        objector: str,
        form: str,
        content: str,
    ) -> CommandResult:
        """Record a resident's objection to one version of a posted disclosure."""
        require_role(actor, "raise_objection")
        chosen = validate.choice(ObjectionForm, form, "form")
        who = validate.text(objector, "objector", max_length=100)
        what = validate.text(content, "content", multiline=True)
        if isinstance(disclosure_version, bool) or not isinstance(disclosure_version, int):
            raise InvalidInputError(
                "disclosure_version must be a whole number", field="disclosure_version"
            )

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            disclosure = self.get(Disclosure, disclosure_id, "disclosure")
            if disclosure.version_events.get(disclosure_version) is None:
                raise InvalidInputError(
                    f"disclosure {disclosure.id} has no version {disclosure_version}",
                    field="disclosure_version",
                )
            if not disclosure.channels:
                raise InvalidTransitionError("only a posted disclosure can be objected to")
            correction = Correction.raise_objection(
                actor, disclosure.id, disclosure_version, who, chosen, what
            )
            return [correction], {"id": str(correction.id)}

        arguments = {
            "disclosure": str(disclosure_id),
            "version": disclosure_version,
            "objector": who,
            "form": chosen,
            "content": what,
        }
        return self.execute(actor, idempotency_key, "raise_objection", arguments, build)

    def verify_objection(
        self, actor: Actor, idempotency_key: str, correction_id: UUID | str, *, finding: str
    ) -> CommandResult:
        require_role(actor, "verify_objection")
        text = validate.text(finding, "finding", multiline=True)
        return self._on_correction(
            actor,
            idempotency_key,
            "verify_objection",
            correction_id,
            {"finding": text},
            lambda c: c.verify(actor, text),
        )

    def dismiss_objection(
        self, actor: Actor, idempotency_key: str, correction_id: UUID | str, *, reason: str
    ) -> CommandResult:
        require_role(actor, "dismiss_objection")
        text = validate.text(reason, "reason", multiline=True)
        return self._on_correction(
            actor,
            idempotency_key,
            "dismiss_objection",
            correction_id,
            {"reason": text},
            lambda c: c.dismiss(actor, text),
        )

    def _on_correction(
        self,
        actor: Actor,
        idempotency_key: str,
        command: str,
        correction_id: UUID | str,
        arguments: dict[str, Any],
        change: Callable[[Correction], None],
    ) -> CommandResult:
        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            correction = self.get(Correction, correction_id, "objection")
            change(correction)
            return [correction], {"id": str(correction.id)}

        return self.execute(
            actor, idempotency_key, command, {"id": str(correction_id), **arguments}, build
        )

    def publish_correction(
        self,
        actor: Actor,
        idempotency_key: str,
        correction_id: UUID | str,
        *,
        title: str,
        body: str,
        explanation: str,
        attachments: Sequence[str] = (),
    ) -> CommandResult:
        """Post the corrected version of the disclosure a verified objection was about.
        The new version and the correction are saved together, atomically."""
        require_role(actor, "publish_correction")
        new_title = validate.text(title, "title", max_length=validate.MAX_TITLE)
        new_body = validate.text(body, "body", multiline=True)
        why = validate.text(explanation, "explanation", multiline=True)
        files = validate.sha256_list(attachments, "attachments")

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            correction = self.get(Correction, correction_id, "objection")
            disclosure = self.get(Disclosure, correction.disclosure_id, "disclosure")
            corrected_event = disclosure.version_events.get(correction.disclosure_version)
            corrects_seq = (
                self.chain.seq_of(disclosure.id, corrected_event) if corrected_event else None
            )
            if corrects_seq is None:
                raise InvalidTransitionError("the corrected version is not on the chain")
            disclosure.correct(
                actor, correction.id, correction.disclosure_version, new_title, new_body, files
            )
            correction.publish_correction(actor, corrects_seq, disclosure.content_version, why)
            return [disclosure, correction], {
                "id": str(correction.id),
                "disclosure": str(disclosure.id),
                "version": disclosure.content_version,
                "corrects_seq": corrects_seq,
            }

        arguments = {
            "id": str(correction_id),
            "title": new_title,
            "body": new_body,
            "explanation": why,
            "attachments": files,
        }
        return self.execute(actor, idempotency_key, "publish_correction", arguments, build)

    # --- finance ------------------------------------------------------------------------

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

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            self.chart().account(account_code, entry_kind)
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

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            original = self.get(FinanceEntry, entry_id, "finance entry")
            reversal = original.reverse(
                actor, arguments["period"], arguments["voucher_sha256"], arguments["reason"]
            )
            return [original, reversal], {"id": str(reversal.id), "reverses": str(original.id)}

        return self.execute(actor, idempotency_key, "reverse_entry", arguments, build)

    # --- reads ----------------------------------------------------------------------------

    def head(self) -> Head:
        return self.chain.head()

    def entries(self, *, after: int = 0, limit: int = 100) -> list[ChainedEvent]:
        return self.chain.read_chain(after=after, limit=limit)


class Ledger:
    """Every community of one store, each with its own :class:`CommunityLedger`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._communities: dict[str, CommunityLedger] = {}

    def community(self, community_id: str) -> CommunityLedger:
        with self._lock:
            ledger = self._communities.get(community_id)
            if ledger is None:
                community = self.store.community(community_id)
                ledger = CommunityLedger(community, self.store.recorder(community_id))
                self._communities[community_id] = ledger
            return ledger

    def add_community(self, community: Community) -> CommunityLedger:
        """Register a community, create its tables, and adopt the default chart of
        accounts. Needs the database rights of ``gongkai db init``."""
        self.store.add_community(community)
        ledger = self.community(community.id)
        # A chart adopted before, under another key, is left as it is.
        with contextlib.suppress(InvalidTransitionError):
            ledger.adopt_chart(SYSTEM, "gongkai:adopt-default-chart")
        return ledger

    def close(self) -> None:
        with self._lock:
            for ledger in self._communities.values():
                ledger.close()
            self._communities.clear()
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
