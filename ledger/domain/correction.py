"""An objection (异议) to a posted disclosure, and the correction it may lead to.

Residents and integrity supervisors may object, orally or in writing; the party branch
or the street disciplinary committee verifies; where content was left out or untrue,
the residents' committee corrects it and explains [004 篇六]. The correction is
drafted and reviewed as a disclosure is (by the committee, and through 初审 / 复审 / 终审
if the original went through the confidentiality review), then posted: a new version of
the disclosure that points at the version it corrects and at that version's chain
entry; the original stays on the record.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.gates import SEEDS_GATES, Gates
from ledger.domain.ids import new_id
from ledger.domain.review_round import (
    require_approved,
    require_distinct_signer,
    require_stage_order,
)
from ledger.domain.vocabulary import ObjectionForm, ReviewOutcome, ReviewStage
from ledger.errors import InvalidTransitionError


class ObjectionStatus(StrEnum):
    RAISED = "raised"  # 已受理
    VERIFIED = "verified"  # 经核实属实
    DISMISSED = "dismissed"  # 经核实不属实
    CORRECTION_SUBMITTED = "correction_submitted"  # 更正稿待审核
    CORRECTION_REJECTED = "correction_rejected"  # 更正稿审核未通过
    CORRECTED = "corrected"  # 已更正


class Correction(LedgerAggregate):
    """An objection's life: raised, verified or dismissed, and the correction published."""

    class ObjectionRaised(LedgerAggregate.Created):
        TOPIC = "gongkai/correction/objection-raised"
        disclosure_id: UUID
        disclosure_version: int
        objector: str  # who objected; the actor may be a clerk recording an oral objection
        form: str
        content: str

        def apply(self, aggregate: Any) -> None:
            aggregate.disclosure_id = self.disclosure_id
            aggregate.disclosure_version = self.disclosure_version

    class ObjectionVerified(LedgerAggregate.Event):
        TOPIC = "gongkai/correction/objection-verified"
        finding: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ObjectionStatus.VERIFIED

    class ObjectionDismissed(LedgerAggregate.Event):
        TOPIC = "gongkai/correction/objection-dismissed"
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ObjectionStatus.DISMISSED

    class CorrectionDrafted(LedgerAggregate.Event):
        """The corrected content and its explanation, submitted for review.
        ``confidentiality_review``: the original went through 保密审查, so this must."""

        TOPIC = "gongkai/correction/correction-drafted"
        title: str
        body: str
        attachments: list[str]
        explanation: str
        confidentiality_review: bool

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ObjectionStatus.CORRECTION_SUBMITTED
            aggregate.draft = {
                "title": self.title,
                "body": self.body,
                "attachments": list(self.attachments),
                "explanation": self.explanation,
            }
            aggregate.confidentiality_review = self.confidentiality_review
            aggregate.round_approvals = set()
            aggregate.round_signers = {}

    class CorrectionReviewed(LedgerAggregate.Event):
        """One review act on the drafted correction, with its opinion."""

        TOPIC = "gongkai/correction/correction-reviewed"
        stage: str
        outcome: str
        opinion: str

        def apply(self, aggregate: Any) -> None:
            if self.outcome == ReviewOutcome.REJECTED:
                aggregate.status = ObjectionStatus.CORRECTION_REJECTED
                aggregate.round_approvals = set()
                aggregate.round_signers = {}
            else:
                aggregate.round_approvals.add(ReviewStage(self.stage))
                aggregate.round_signers[ReviewStage(self.stage)] = self.actor

    class CorrectionPublished(LedgerAggregate.Event):
        TOPIC = "gongkai/correction/correction-published"
        disclosure_id: UUID
        corrects_version: int
        corrects_seq: int  # the chain entry of the version being corrected
        new_version: int
        explanation: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ObjectionStatus.CORRECTED

    disclosure_id: UUID
    disclosure_version: int

    def __init__(self, **_: Any) -> None:
        self.status = ObjectionStatus.RAISED
        self.draft: dict[str, Any] | None = None
        self.confidentiality_review = False
        self.round_approvals: set[ReviewStage] = set()
        #: Who approved each stage of the round.
        self.round_signers: dict[ReviewStage, str] = {}

    @classmethod
    def raise_objection(
        cls,
        actor: Actor,
        disclosure_id: UUID,
        disclosure_version: int,
        objector: str,
        form: ObjectionForm,
        content: str,
    ) -> Correction:
        return cls._create(
            cls.ObjectionRaised,
            id=new_id(),
            **actor.event_fields(),
            disclosure_id=disclosure_id,
            disclosure_version=disclosure_version,
            objector=objector,
            form=form.value,
            content=content,
        )

    def verify(self, actor: Actor, finding: str) -> None:
        self._require(ObjectionStatus.RAISED, doing="verify")
        self.act(self.ObjectionVerified, actor, finding=finding)

    def dismiss(self, actor: Actor, reason: str) -> None:
        self._require(ObjectionStatus.RAISED, doing="dismiss")
        self.act(self.ObjectionDismissed, actor, reason=reason)

    def draft_correction(
        self,
        actor: Actor,
        *,
        title: str,
        body: str,
        attachments: list[str],
        explanation: str,
        confidentiality_review: bool,
    ) -> None:
        """Submit the corrected content for review; again after a rejection."""
        self._require(
            ObjectionStatus.VERIFIED,
            ObjectionStatus.CORRECTION_REJECTED,
            doing="draft a correction for",
        )
        self.act(
            self.CorrectionDrafted,
            actor,
            title=title,
            body=body,
            attachments=attachments,
            explanation=explanation,
            confidentiality_review=confidentiality_review,
        )

    def review_correction(
        self,
        actor: Actor,
        stage: ReviewStage,
        outcome: ReviewOutcome,
        opinion: str,
        gates: Gates = SEEDS_GATES,
    ) -> None:
        self._require(ObjectionStatus.CORRECTION_SUBMITTED, doing="review the correction of")
        require_stage_order(stage, outcome, self.round_approvals)
        if gates.distinct_signers:
            require_distinct_signer(stage, outcome, actor.name, self.round_signers)
        self.act(
            self.CorrectionReviewed,
            actor,
            stage=stage.value,
            outcome=outcome.value,
            opinion=opinion,
        )

    def require_publishable(self, gates: Gates = SEEDS_GATES) -> dict[str, Any]:
        """The reviewed draft, if it may be posted; else why not."""
        self._require(ObjectionStatus.CORRECTION_SUBMITTED, doing="publish the correction of")
        why = (
            "the original went through the confidentiality review (保密审查), so its "
            "correction does"
            if self.confidentiality_review
            else ""
        )
        require_approved(self.round_approvals, party=gates.party_review, confidentiality=why)
        assert self.draft is not None  # set with the status
        return self.draft

    def publish_correction(
        self,
        actor: Actor,
        corrects_seq: int,
        new_version: int,
        explanation: str,
        gates: Gates = SEEDS_GATES,
    ) -> None:
        self.require_publishable(gates)
        self.act(
            self.CorrectionPublished,
            actor,
            disclosure_id=self.disclosure_id,
            corrects_version=self.disclosure_version,
            corrects_seq=corrects_seq,
            new_version=new_version,
            explanation=explanation,
        )

    def _require(self, *allowed: ObjectionStatus, doing: str) -> None:
        if self.status not in allowed:
            names = " or ".join(s.value for s in allowed)
            raise InvalidTransitionError(
                f"cannot {doing} an objection that is {self.status.value}; it must be {names}"
            )


register_event_topics(Correction)
