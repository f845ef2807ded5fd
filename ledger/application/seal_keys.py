"""The committee's seal keys (监审印章备案): the chair registers the key that seals each
member's reviews, and the review commands look up the key in force for a reviewer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.permissions import require_role
from ledger.domain.seal_key import SealKey, seal_key_id
from ledger.errors import (
    FormatError,
    InvalidInputError,
    InvalidTransitionError,
    VerificationError,
)
from ledger.seal.note.verify import NoteVerifier
from ledger.seal.review_seal import key_ref, seal_key_verifier


class SealKeyCommands(CommandRunner):
    """Commands on :class:`~ledger.domain.seal_key.SealKey` aggregates."""

    def register_seal_key(
        self, actor: Actor, idempotency_key: str, *, member: str, vkey: str
    ) -> CommandResult:
        """Record ``vkey`` as the key of ``member``'s review seals, replacing any before.
        Answers the member and the key's ``<name>+<key ID>``."""
        require_role(actor, "register_seal_key")
        account = validate.text(member, "member", max_length=100)
        try:
            verifier = seal_key_verifier(validate.text(vkey, "vkey", max_length=500))
        except (FormatError, VerificationError) as e:
            raise InvalidInputError(str(e), field="vkey") from None
        arguments = {"member": account, "vkey": verifier.vkey}

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            current = self._seal_key(account)
            if current is None:
                current = SealKey.register(actor, self.community.id, account, verifier.vkey)
            elif current.vkey == verifier.vkey:
                raise InvalidTransitionError(f"this key is already registered for {account}")
            else:
                current.replace(actor, verifier.vkey)
            return [current], {"member": account, "key": key_ref(verifier)}

        return self.execute(actor, idempotency_key, "register_seal_key", arguments, build)

    def registered_seal_key(self, member: str) -> NoteVerifier | None:
        """The key in force for ``member``'s seals, or None if none is registered."""
        current = self._seal_key(member)
        return seal_key_verifier(current.vkey) if current is not None else None

    def _seal_key(self, member: str) -> SealKey | None:
        try:
            aggregate: Aggregate = self.repository.get(seal_key_id(self.community.id, member))
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, SealKey) else None
