"""The disclosure commands (居务公开事项): draft, revise, submit for review, the
reviews of each stage, publish, withdraw and archive."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.application.personal_data import ErasedPersonError, PersonalDataCommands
from ledger.application.seal_keys import SealKeyCommands
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.disclosure import Disclosure
from ledger.domain.permissions import require_role, require_stage_role
from ledger.domain.vocabulary import CATEGORY_BY_CODE, Channel, ReviewOutcome, ReviewStage, Scope
from ledger.errors import InvalidInputError, PermissionDeniedError
from ledger.seal.review_seal import ReviewSealError, SealedReview, verify_seal

#: The categories whose disclosures are lists of named people (aid lists, eligibility
#: lists, compensation to households): only these may carry ``recipients``.
RECIPIENT_CATEGORIES: Final = frozenset(
    {"social_assistance", "welfare_eligibility", "land_compensation"}
)


class DisclosureCommands(SealKeyCommands, PersonalDataCommands):
    """Commands on :class:`~ledger.domain.disclosure.Disclosure` aggregates."""

    def _with_recipients(
        self, content: dict[str, Any], recipients: object
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The event's content and the command's fingerprinted arguments, with the
        recipients sealed (:meth:`seal_recipients`); neither holds a recipient's
        personal fields in the clear. Without recipients both are ``content``, so the
        fingerprints of commands from before recipients existed do not change."""
        if recipients is None or (isinstance(recipients, Sequence) and not recipients):
            return content, content
        if content["category"] not in RECIPIENT_CATEGORIES:
            raise InvalidInputError(
                f"only a list of people ({', '.join(sorted(RECIPIENT_CATEGORIES))}) carries "
                "recipients",
                field="recipients",
            )
        stored, fingerprinted = self.seal_recipients(recipients)
        return {**content, "recipients": stored}, {**content, "recipients": fingerprinted}

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
        recipients: Sequence[object] | None = None,
    ) -> CommandResult:
        """Record a new draft. Answers ``{"id": ...}``. ``recipients``: the people an
        aid list names, each ``{"person_id", "name", "id_number", "phone",
        "amount_fen", "note"}`` (all but the first two optional), recorded sealed under
        each person's key (:mod:`ledger.domain.personal_data`)."""
        require_role(actor, "draft_disclosure")
        checked = self._content(
            category, title, body, scope, attachments, planned_from, planned_until
        )
        self.require_held(checked["attachments"], "attachments")
        try:
            content, arguments = self._with_recipients(checked, recipients)
        except ErasedPersonError:
            if (replay := self.replay_of(actor, idempotency_key)) is not None:
                return replay
            raise

        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            disclosure = Disclosure.draft(actor, self.gates(), **content)
            return [disclosure], {"id": str(disclosure.id)}

        return self.execute(actor, idempotency_key, "draft_disclosure", arguments, build)

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
        recipients: Sequence[object] | None = None,
    ) -> CommandResult:
        """A new version of the draft; its ``recipients`` replace the earlier ones."""
        require_role(actor, "revise_draft")
        checked = self._content(
            category, title, body, scope, attachments, planned_from, planned_until
        )
        self.require_held(checked["attachments"], "attachments")
        try:
            content, arguments = self._with_recipients(checked, recipients)
        except ErasedPersonError:
            if (replay := self.replay_of(actor, idempotency_key)) is not None:
                return replay
            raise
        return self._on_disclosure(
            actor,
            idempotency_key,
            "revise_draft",
            disclosure_id,
            arguments,
            lambda d: d.revise_draft(actor, self.gates(), **content),
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
        seal_key: str = "",
        seal_signature: str = "",
    ) -> CommandResult:
        """Record one review act (审核 / 审查 / 初审 / 复审 / 终审). A reviewer whose seal
        key is registered seals every review (``seal_key``, ``seal_signature``: see
        :mod:`ledger.seal.review_seal`); the seal is checked against the version under
        review before anything is stored."""
        review_stage = validate.choice(ReviewStage, stage, "stage")
        review_outcome = validate.choice(ReviewOutcome, outcome, "outcome")
        require_stage_role(actor, review_stage)
        text = validate.text(
            opinion,
            "opinion",
            required=review_outcome is ReviewOutcome.REJECTED,
            multiline=True,
        )
        arguments = {
            "stage": review_stage,
            "outcome": review_outcome,
            "opinion": text,
            "seal_key": validate.text(seal_key, "seal_key", max_length=300, required=False),
            "seal_signature": validate.text(
                seal_signature, "seal_signature", max_length=200, required=False
            ),
        }

        def change(disclosure: Disclosure) -> None:
            if review_stage is ReviewStage.COMMITTEE:
                self._require_member_with_seal(actor)
            seal = self._checked_seal(
                actor, disclosure, review_stage, review_outcome, seal_key, seal_signature
            )
            disclosure.review(actor, review_stage, review_outcome, text, seal, self.gates())

        return self._on_disclosure(
            actor,
            idempotency_key,
            "review",
            disclosure_id,
            arguments,
            change,
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
            lambda d: d.publish(actor, chosen, start.isoformat(), end.isoformat(), self.gates()),
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

    def _require_member_with_seal(self, actor: Actor) -> None:
        """Once a supervision committee is elected, its review counts only from a member
        in office, with a key registered to that member [001: 监审有印章]."""
        elected = self.require_in_office(actor)
        if elected is not None and self.registered_seal_key(actor.name) is None:
            raise PermissionDeniedError(
                f"no seal key is registered for {actor.name}: a member of the supervision "
                "committee reviews with a key registered to them (监审有印章) [001]"
            )

    def _checked_seal(
        self,
        actor: Actor,
        disclosure: Disclosure,
        stage: ReviewStage,
        outcome: ReviewOutcome,
        seal_key: str,
        seal_signature: str,
    ) -> tuple[str, str] | None:
        """The review's seal, checked; None for a reviewer with no seal key, who may
        not send one."""
        registered = self.registered_seal_key(actor.name)
        if registered is None:
            if seal_key or seal_signature:
                raise ReviewSealError(
                    f"no seal key is registered for {actor.name}: the committee's chair "
                    "registers it first"
                )
            return None
        if not (seal_key and seal_signature):
            raise ReviewSealError(
                f"{actor.name} has a registered seal key: the review must carry the seal"
            )
        review = SealedReview(
            community_id=self.community.id,
            disclosure_id=disclosure.id,
            version=disclosure.content_version,
            stage=stage.value,
            outcome=outcome.value,
            category=disclosure.category,
            scope=disclosure.scope.value,
            title=disclosure.title,
            body=disclosure.body,
            attachments=tuple(disclosure.attachments),
        )
        verify_seal(review, registered, seal_key, seal_signature)
        return seal_key, seal_signature

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
