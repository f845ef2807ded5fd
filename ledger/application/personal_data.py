"""Personal data under per-person keys (:mod:`ledger.domain.personal_data`): sealing an aid
list's recipients before they are recorded, and erasing a person (PIPL 第四十七条)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import personal_data, validate
from ledger.domain.base import Actor
from ledger.domain.permissions import require_role
from ledger.domain.person import ErasureGround, PersonalData, person_aggregate_id
from ledger.errors import InvalidInputError, InvalidTransitionError, NotFoundError


class ErasedPersonError(InvalidInputError):
    """A command names a person whose personal data was erased: it is not recorded
    again (a replay of a command stored before the erasure is answered from the store)."""


class PersonalDataCommands(CommandRunner):
    """Sealing recipients, and :meth:`erase_person`."""

    def seal_recipients(
        self, recipients: object, field: str = "recipients"
    ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """``recipients`` checked and sealed under each person's key (made the first
        time a person is listed): what the event stores, and what the command's
        idempotency fingerprint holds of them (an HMAC under each person's key, so that
        neither the event nor the commands table keeps any of it in the clear). An
        erased person is not listed again."""
        checked = personal_data.recipients(recipients, field)
        stored: list[dict[str, str]] = []
        fingerprinted: list[dict[str, str]] = []
        for i, person in enumerate(checked):
            row = self.chain.personal_key(person.person_id)
            if row is None:
                row = self.chain.add_personal_key(person.person_id, *personal_data.new_key())
            if row.key is None:
                raise ErasedPersonError(
                    f"person {person.person_id!r} was erased: their data is not recorded again",
                    field=f"{field}[{i}].person_id",
                )
            fields = person.fields()
            sealed = personal_data.seal(
                self.community.id, person.person_id, row.key_id, row.key, fields
            )
            stored.append({"person_id": person.person_id, "key_id": row.key_id, "sealed": sealed})
            fingerprinted.append(
                {
                    "person_id": person.person_id,
                    "key_id": row.key_id,
                    "mac": personal_data.fingerprint_mac(row.key, fields),
                }
            )
        return stored, fingerprinted

    def personal_keys(self, key_ids: Collection[str]) -> dict[str, bytes | None]:
        """The keys that open these sealed recipients (None for an erased person's)."""
        return self.chain.personal_keys(key_ids)

    def erase_person(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        person_id: str,
        ground: str,
        reason: str,
    ) -> CommandResult:
        """Erase ``person_id``'s personal data: record :class:`PersonalData.PersonErased`
        with its legal ground (PIPL 第四十七条) and destroy their key in the same
        transaction. Answers the person and the key ID."""
        require_role(actor, "erase_person")
        pid = personal_data.person_id(person_id, "person_id")
        chosen = validate.choice(ErasureGround, ground, "ground")
        why = validate.text(reason, "reason", max_length=2000, multiline=True)
        arguments = {"person_id": pid, "ground": chosen, "reason": why}
        row = self.chain.personal_key(pid)
        if row is None:
            raise NotFoundError(
                f"no personal data of person {pid!r} in community {self.community.id}"
            )

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            if self._erasure(pid) is not None or row.key is None:
                raise InvalidTransitionError(f"person {pid!r} is already erased")
            erased = PersonalData.erase(actor, self.community.id, pid, row.key_id, chosen, why)
            return [erased], {"person_id": pid, "key_id": row.key_id}

        return self.execute(
            actor, idempotency_key, "erase_person", arguments, build, erase_key=row.key_id
        )

    def _erasure(self, person_id: str) -> PersonalData | None:
        try:
            found: Aggregate = self.repository.get(
                person_aggregate_id(self.community.id, person_id)
            )
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, PersonalData) else None
