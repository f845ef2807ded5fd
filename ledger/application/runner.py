"""The command runner under a community's ledger: one eventsourcing application per
community, whose commands each validate their input, check the actor's role, load and
change aggregates, and save their new events in one transaction together with an
idempotency key (see :mod:`ledger.chain.idempotency`). Anything refused raises before
the save, so a refused command stores nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol, TypeVar
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
from ledger.domain.base import Actor
from ledger.domain.committee import CommitteeRegister, Subgroup, register_id
from ledger.domain.gates import SEEDS_GATES, CommunitySettings, Gates, settings_id
from ledger.domain.working_days import china_date
from ledger.errors import (
    ConflictError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from ledger.store.base import CommandRecord, Community, DuplicateCommandError, StoredCommand
from ledger.store.recorder import ChainedRecorder

A = TypeVar("A", bound=Aggregate)
Build = Callable[[], tuple[Sequence[Aggregate], dict[str, Any]]]

# A command that loses a race on the same aggregate is rebuilt from fresh state and
# tried again this many times before the caller is told.
MAX_ATTEMPTS: Final = 5


class HoldsFiles(Protocol):
    """Where the attachments and vouchers are kept (:mod:`ledger.attachments`)."""

    def has(self, sha256: str) -> bool: ...


class CommandRunner(Application[UUID]):
    """What every command group of a community's ledger stands on: the chained recorder,
    :meth:`execute` (at most once per idempotency key, retried on a lost race), and
    :meth:`get`. The groups in :mod:`ledger.application` subclass it;
    :class:`~ledger.application.community.CommunityLedger` joins them."""

    def __init__(
        self,
        community: Community,
        recorder: ChainedRecorder,
        attachments: HoldsFiles | None = None,
    ) -> None:
        if not isinstance(recorder, ApplicationRecorder):
            raise TypeError("the recorder must be an eventsourcing application recorder")
        self.community = community
        self.chain = recorder
        #: None: the files are not checked (a ledger used as a library, without them).
        self.attachments = attachments
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
        *,
        erase_key: str | None = None,
    ) -> CommandResult:
        """Run one command at most once per idempotency key of ``actor``'s account: the
        same key sent by another account is another command (see :func:`scoped_key`).
        ``erase_key``: a personal key the recorder destroys in the same transaction as
        the command's events (:mod:`ledger.domain.personal_data`)."""
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
                extra = {} if erase_key is None else {"erase_key": erase_key}
                recordings = self.save(*aggregates, command=record, **extra)
            except (DuplicateCommandError, IntegrityError):
                # Either an earlier attempt with this key was stored after all (its
                # acknowledgement was lost), or another command changed the same
                # aggregate first. Look again.
                continue
            seqs = [r.notification.id for r in recordings]
            return CommandResult(json.loads(record.result), seqs[0], seqs[-1])
        raise ConflictError(f"command {command} kept conflicting with concurrent changes")

    def replay_of(self, actor: Actor, idempotency_key: str) -> CommandResult | None:
        """The result of the command this account already ran under the key, answered
        without comparing arguments: only for a command whose arguments can no longer
        be fingerprinted, as an aid list naming a person erased since it was drafted."""
        key = check_key(idempotency_key)
        prior = self._prior_command(actor, key, scoped_key(actor.name, key))
        if prior is None:
            return None
        return CommandResult(json.loads(prior.result), prior.first_seq, prior.last_seq, True)

    def require_held(self, digests: Sequence[str], field: str) -> None:
        """Refuse a command naming a file that is not stored: the record never names an
        attachment or voucher that a reader or a bundle could not have."""
        if self.attachments is None:
            return
        for digest in digests:
            if not self.attachments.has(digest):
                raise InvalidInputError(
                    f"no file with SHA-256 {digest} has been uploaded: upload it first",
                    field=field,
                )

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

    def gates(self) -> Gates:
        """The review gates in force in the community: its settings' last choice, or the
        seeds' rules if it made none (:mod:`ledger.domain.gates`)."""
        try:
            found: Aggregate = self.repository.get(settings_id(self.community.id))
        except AggregateNotFoundError:
            return SEEDS_GATES
        if not isinstance(found, CommunitySettings):
            raise NotFoundError("the community's settings are not settings")
        return found.gates

    def committee_register(self) -> CommitteeRegister | None:
        """The community's supervision committee register, if it has one."""
        try:
            found: Aggregate = self.repository.get(register_id(self.community.id))
        except AggregateNotFoundError:
            return None
        if not isinstance(found, CommitteeRegister):
            raise NotFoundError("the community's committee register is not a register")
        return found

    def require_in_office(
        self, actor: Actor, subgroup: Subgroup | None = None
    ) -> CommitteeRegister | None:
        """Once a supervision committee is elected, an act of the committee counts only
        from a member in office on today's China date [001], and an act of one of its
        groups (``subgroup``) only from the group's members once it has some. Answers
        the elected committee's register (None: no committee is elected)."""
        register = self.committee_register()
        if register is None or not register.elected():
            return None
        reason = register.in_office(actor.name, china_date())
        if not reason and subgroup is not None:
            reason = register.in_subgroup(actor.name, subgroup)
        if reason:
            raise PermissionDeniedError(
                f"{reason}: an act of the supervision committee counts only from a member "
                "in office (居务监督委员会成员) [001]"
            )
        return register

    # --- reads ----------------------------------------------------------------------------

    def head(self) -> Head:
        return self.chain.head()

    def entries(self, *, after: int = 0, limit: int = 100) -> list[ChainedEvent]:
        return self.chain.read_chain(after=after, limit=limit)
