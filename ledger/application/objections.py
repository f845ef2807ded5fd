"""The objection commands (异议) and the corrections they lead to: raise, verify or
dismiss an objection; draft the corrected version of the disclosure it was about, review
it as the disclosure was reviewed, and post it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.correction import Correction
from ledger.domain.disclosure import Disclosure, Status
from ledger.domain.permissions import require_role, require_stage_role
from ledger.domain.vocabulary import ObjectionForm, ReviewOutcome, ReviewStage
from ledger.errors import InvalidInputError, InvalidTransitionError


class ObjectionCommands(CommandRunner):
    """Commands on :class:`~ledger.domain.correction.Correction` aggregates."""

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

    def draft_correction(
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
        """Submit the corrected version of the disclosure a verified objection was
        about for review, with its explanation; again after a rejection."""
        require_role(actor, "draft_correction")
        content: dict[str, Any] = {
            "title": validate.text(title, "title", max_length=validate.MAX_TITLE),
            "body": validate.text(body, "body", multiline=True),
            "explanation": validate.text(explanation, "explanation", multiline=True),
            "attachments": validate.sha256_list(attachments, "attachments"),
        }
        self.require_held(content["attachments"], "attachments")

        def change(correction: Correction) -> None:
            disclosure = self.get(Disclosure, correction.disclosure_id, "disclosure")
            if disclosure.status is not Status.PUBLISHED:
                raise InvalidTransitionError(
                    f"the disclosure is {disclosure.status.value}: only a posted one is corrected"
                )
            correction.draft_correction(
                actor, **content, confidentiality_review=disclosure.confidentiality_reviewed
            )

        return self._on_correction(
            actor, idempotency_key, "draft_correction", correction_id, content, change
        )

    def review_correction(
        self,
        actor: Actor,
        idempotency_key: str,
        correction_id: UUID | str,
        *,
        stage: str,
        outcome: str,
        opinion: str,
    ) -> CommandResult:
        """One review act on a drafted correction, by the roles of its stage."""
        review_stage = validate.choice(ReviewStage, stage, "stage")
        review_outcome = validate.choice(ReviewOutcome, outcome, "outcome")
        require_stage_role(actor, review_stage)
        text = validate.text(
            opinion, "opinion", required=review_outcome is ReviewOutcome.REJECTED, multiline=True
        )
        arguments = {"stage": review_stage, "outcome": review_outcome, "opinion": text}
        return self._on_correction(
            actor,
            idempotency_key,
            "review_correction",
            correction_id,
            arguments,
            lambda c: self._review_correction(c, actor, review_stage, review_outcome, text),
        )

    def _review_correction(
        self,
        correction: Correction,
        actor: Actor,
        stage: ReviewStage,
        outcome: ReviewOutcome,
        opinion: str,
    ) -> None:
        if stage is ReviewStage.COMMITTEE:
            self.require_in_office(actor)
        correction.review_correction(actor, stage, outcome, opinion, self.gates())

    def publish_correction(
        self, actor: Actor, idempotency_key: str, correction_id: UUID | str
    ) -> CommandResult:
        """Post the reviewed correction: the disclosure's new version and the
        correction are saved together, atomically."""
        require_role(actor, "publish_correction")

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            correction = self.get(Correction, correction_id, "objection")
            gates = self.gates()
            draft = correction.require_publishable(gates)
            disclosure = self.get(Disclosure, correction.disclosure_id, "disclosure")
            corrected_event = disclosure.version_events.get(correction.disclosure_version)
            corrects_seq = (
                self.chain.seq_of(disclosure.id, corrected_event) if corrected_event else None
            )
            if corrects_seq is None:
                raise InvalidTransitionError("the corrected version is not on the chain")
            disclosure.correct(
                actor,
                correction.id,
                correction.disclosure_version,
                draft["title"],
                draft["body"],
                draft["attachments"],
            )
            correction.publish_correction(
                actor, corrects_seq, disclosure.content_version, draft["explanation"], gates
            )
            return [disclosure, correction], {
                "id": str(correction.id),
                "disclosure": str(disclosure.id),
                "version": disclosure.content_version,
                "corrects_seq": corrects_seq,
            }

        arguments = {"id": str(correction_id)}
        return self.execute(actor, idempotency_key, "publish_correction", arguments, build)
