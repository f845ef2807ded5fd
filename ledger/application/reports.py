"""The report commands (举报): the street disciplinary committee registers the key its
reports are sealed to; a resident files one, whose identity is sealed before anything
is stored; the auditor acknowledges it, records the investigation's steps and its
finding."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.permissions import require_role
from ledger.domain.report import (
    REPORTER,
    DisciplinaryKey,
    Finding,
    Report,
    disciplinary_key_id,
)
from ledger.domain.working_days import china_date
from ledger.errors import InvalidTransitionError, NotFoundError
from ledger.sealed_identity import Identity, ReportKey, parse_public_key, seal

#: The receipt code's random bytes: 80 bits, 16 characters of base32.
RECEIPT_BYTES: Final = 10


@dataclass(frozen=True, slots=True)
class FiledReport:
    """What filing answers. ``receipt`` is shown to the reporter once and stored
    nowhere; None when the command was a replay of one filed before."""

    result: CommandResult
    receipt: str | None


def new_receipt() -> str:
    code = base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode("ascii")
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def receipt_sha256(code: str) -> str:
    """The digest the record keeps of a receipt code, as typed or pasted: case, spaces
    and dashes do not count."""
    normal = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(normal.encode("ascii", "replace")).hexdigest()


class ReportCommands(CommandRunner):
    """Commands on :class:`~ledger.domain.report.Report` and
    :class:`~ledger.domain.report.DisciplinaryKey` aggregates."""

    def register_report_key(
        self, actor: Actor, idempotency_key: str, *, public_key: str
    ) -> CommandResult:
        """Record the public key the community's reports are sealed to from now on,
        replacing any before. Answers its key ID."""
        require_role(actor, "register_report_key")
        key = parse_public_key(validate.text(public_key, "public_key", max_length=200))

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            current = self._disciplinary_key()
            if current is None:
                current = DisciplinaryKey.register(actor, self.community.id, key.line)
            else:
                current.replace(actor, key.line)
            return [current], {"key_id": key.key_id}

        arguments = {"public_key": key.line}
        return self.execute(actor, idempotency_key, "register_report_key", arguments, build)

    def report_key(self) -> ReportKey | None:
        """The key in force for the community's reports, or None if none is registered."""
        current = self._disciplinary_key()
        return parse_public_key(current.key) if current is not None else None

    def file_report(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        subject: str,
        text: str,
        name: str,
        contact: str,
        now: dt.datetime | None = None,
    ) -> FiledReport:
        """File a report. ``actor`` is who is signed in: their role is checked, and
        their account sealed with the name and contact they give; the record names no
        one. Neither the identity nor the receipt code is kept in the clear anywhere:
        not in the event, not in the idempotency record (whose fingerprint leaves the
        identity out, so that it cannot be confirmed by guessing)."""
        require_role(actor, "file_report")
        about = validate.text(subject, "subject", max_length=200)
        body = validate.text(text, "text", multiline=True, max_length=10_000)
        identity = Identity(
            actor.name,
            validate.text(name, "name", max_length=100, required=False),
            validate.text(contact, "contact", max_length=200, required=False),
        )
        key = self.report_key()
        if key is None:
            raise InvalidTransitionError(
                "the street disciplinary committee has registered no key for this "
                "community's reports yet: reports cannot be sealed"
            )
        filed_on = china_date(now).isoformat()
        receipt = new_receipt()
        report_id = uuid4()
        sealed = seal(identity, key, self.community.id, str(report_id))

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            report = Report.file(
                report_id, about, body, sealed, key.key_id, receipt_sha256(receipt), filed_on
            )
            return [report], {"id": str(report.id)}

        arguments = {"subject": about, "text": body, "key_id": key.key_id}
        # The key is scoped to no account (REPORTER), so the commands table does not
        # tie the report to the account's digest either.
        result = self.execute(REPORTER, idempotency_key, "file_report", arguments, build)
        return FiledReport(result, None if result.replayed else receipt)

    def acknowledge_report(
        self, actor: Actor, idempotency_key: str, report_id: UUID | str, *, note: str = ""
    ) -> CommandResult:
        require_role(actor, "acknowledge_report")
        said = validate.text(note, "note", multiline=True, max_length=2_000, required=False)
        return self._on_report(
            actor,
            idempotency_key,
            "acknowledge_report",
            report_id,
            {"note": said},
            lambda r: r.acknowledge(actor, said),
        )

    def record_investigation_step(
        self, actor: Actor, idempotency_key: str, report_id: UUID | str, *, step: str
    ) -> CommandResult:
        require_role(actor, "record_investigation_step")
        done = validate.text(step, "step", multiline=True, max_length=5_000)
        return self._on_report(
            actor,
            idempotency_key,
            "record_investigation_step",
            report_id,
            {"step": done},
            lambda r: r.record_step(actor, done),
        )

    def conclude_report(
        self,
        actor: Actor,
        idempotency_key: str,
        report_id: UUID | str,
        *,
        finding: str,
        conclusion: str,
    ) -> CommandResult:
        require_role(actor, "conclude_report")
        found = validate.choice(Finding, finding, "finding")
        said = validate.text(conclusion, "conclusion", multiline=True, max_length=5_000)
        return self._on_report(
            actor,
            idempotency_key,
            "conclude_report",
            report_id,
            {"finding": found, "conclusion": said},
            lambda r: r.conclude(actor, found, said),
        )

    def _on_report(
        self,
        actor: Actor,
        idempotency_key: str,
        command: str,
        report_id: UUID | str,
        arguments: dict[str, Any],
        change: Callable[[Report], None],
    ) -> CommandResult:
        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            report = self.get(Report, report_id, "report")
            change(report)
            return [report], {"id": str(report.id)}

        return self.execute(
            actor, idempotency_key, command, {"id": str(report_id), **arguments}, build
        )

    def _disciplinary_key(self) -> DisciplinaryKey | None:
        try:
            found: Aggregate = self.repository.get(disciplinary_key_id(self.community.id))
        except AggregateNotFoundError:
            return None
        if not isinstance(found, DisciplinaryKey):
            raise NotFoundError("the community's report key is not a key")
        return found
