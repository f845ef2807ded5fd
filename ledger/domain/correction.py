"""An objection (异议) to a posted disclosure, and the correction it may lead to.

Residents and integrity supervisors may object, orally or in writing; the party branch
or the street disciplinary committee verifies; where content was left out or untrue,
the residents' committee corrects it and explains [004 篇六]. The correction is a new
version of the disclosure that points at the version it corrects and at that version's
chain entry; the original stays on the record.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.ids import new_id
from ledger.domain.vocabulary import ObjectionForm
from ledger.errors import InvalidTransitionError


class ObjectionStatus(StrEnum):
    RAISED = "raised"  # 已受理
    VERIFIED = "verified"  # 经核实属实
    DISMISSED = "dismissed"  # 经核实不属实
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

    def publish_correction(
        self, actor: Actor, corrects_seq: int, new_version: int, explanation: str
    ) -> None:
        self._require(ObjectionStatus.VERIFIED, doing="publish a correction for")
        self.act(
            self.CorrectionPublished,
            actor,
            disclosure_id=self.disclosure_id,
            corrects_version=self.disclosure_version,
            corrects_seq=corrects_seq,
            new_version=new_version,
            explanation=explanation,
        )

    def _require(self, status: ObjectionStatus, *, doing: str) -> None:
        if self.status is not status:
            raise InvalidTransitionError(
                f"cannot {doing} an objection that is {self.status.value}; "
                f"it must be {status.value}"
            )


register_event_topics(Correction)
