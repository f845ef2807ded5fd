"""A report (举报) to the street disciplinary committee (街道纪工委), and the key it is
sealed to.

The supervision line and the report boxes (举报信箱) receive the residents' reports,
which are to be investigated and handled in good time [004 篇九 (三)]. A resident
files one with a subject and its text, which the leadership and the auditors read,
and their identity and contact, which only the disciplinary committee may: the ledger
stores those sealed to the committee's public key (:mod:`ledger.sealed_identity`), and
records the filing under no account (actor :data:`REPORTER`), so that neither the chain
nor the commands beside it say who filed it. The reporter keeps the receipt code given
at filing; the record holds only its SHA-256, against which the status is looked up.

The auditor acknowledges the report (受理), records the investigation's steps (调查),
and its finding (处理结果), which concludes it.

Rules the aggregates enforce (each refusal raises before any event is recorded):

* a report is acknowledged once; steps are recorded after that, and before the finding;
* the finding is recorded once, after the acknowledgement;
* :class:`DisciplinaryKey`: one per community; a new key replaces the one in force.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidTransitionError

#: Who every report is recorded as filed by: no account.
REPORTER: Final = Actor("举报人", Role.RESIDENT)


class ReportStatus(StrEnum):
    FILED = "filed"  # 待受理
    ACKNOWLEDGED = "acknowledged"  # 已受理
    INVESTIGATING = "investigating"  # 调查中
    CONCLUDED = "concluded"  # 已办结


class Finding(StrEnum):
    SUBSTANTIATED = "substantiated"  # 属实
    PARTLY_SUBSTANTIATED = "partly_substantiated"  # 部分属实
    UNSUBSTANTIATED = "unsubstantiated"  # 不属实


class Report(LedgerAggregate):
    """One report and how it was handled."""

    class Filed(LedgerAggregate.Created):
        TOPIC = "gongkai/report/filed"
        actor: str
        actor_role: str
        subject: str
        text: str
        sealed_identity: str  # base64(enc || ciphertext), see ledger.sealed_identity
        key_id: str  # the disciplinary committee's key it is sealed to
        receipt_sha256: str  # hex SHA-256 of the receipt code the reporter keeps
        filed_on: str  # the China date, ISO

    class Acknowledged(LedgerAggregate.Event):
        TOPIC = "gongkai/report/acknowledged"
        note: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ReportStatus.ACKNOWLEDGED

    class InvestigationStepRecorded(LedgerAggregate.Event):
        TOPIC = "gongkai/report/investigation-step-recorded"
        step: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ReportStatus.INVESTIGATING

    class Concluded(LedgerAggregate.Event):
        TOPIC = "gongkai/report/concluded"
        finding: str
        conclusion: str  # what was found and done, which the reporter also reads

        def apply(self, aggregate: Any) -> None:
            aggregate.status = ReportStatus.CONCLUDED

    def __init__(self, **_: Any) -> None:
        self.status = ReportStatus.FILED

    @classmethod
    def file(
        cls,
        report_id: UUID,
        subject: str,
        text: str,
        sealed_identity: str,
        key_id: str,
        receipt_sha256: str,
        filed_on: str,
    ) -> Report:
        return cls._create(
            cls.Filed,
            id=report_id,
            **REPORTER.event_fields(),
            subject=subject,
            text=text,
            sealed_identity=sealed_identity,
            key_id=key_id,
            receipt_sha256=receipt_sha256,
            filed_on=filed_on,
        )

    def acknowledge(self, actor: Actor, note: str) -> None:
        if self.status is not ReportStatus.FILED:
            raise InvalidTransitionError(f"the report is already {self.status.value}")
        self.act(self.Acknowledged, actor, note=note)

    def record_step(self, actor: Actor, step: str) -> None:
        if self.status is ReportStatus.FILED:
            raise InvalidTransitionError("acknowledge the report before investigating it")
        if self.status is ReportStatus.CONCLUDED:
            raise InvalidTransitionError("the report is concluded")
        self.act(self.InvestigationStepRecorded, actor, step=step)

    def conclude(self, actor: Actor, finding: Finding, conclusion: str) -> None:
        if self.status is ReportStatus.FILED:
            raise InvalidTransitionError("acknowledge the report before concluding it")
        if self.status is ReportStatus.CONCLUDED:
            raise InvalidTransitionError("the report is already concluded")
        self.act(self.Concluded, actor, finding=finding.value, conclusion=conclusion)


def disciplinary_key_id(community_id: str) -> UUID:
    """The aggregate of the disciplinary committee's report key in ``community_id``."""
    return uuid5(NAMESPACE_URL, f"gongkai:{community_id}:disciplinary-key")


class DisciplinaryKey(LedgerAggregate):
    """The public key the community's reports are sealed to."""

    class Registered(LedgerAggregate.Created):
        TOPIC = "gongkai/report-key/registered"
        actor: str
        actor_role: str
        key: str  # the public key's line, see ledger.sealed_identity

        def apply(self, aggregate: Any) -> None:
            aggregate.key = self.key

    class Replaced(LedgerAggregate.Event):
        TOPIC = "gongkai/report-key/replaced"
        key: str

        def apply(self, aggregate: Any) -> None:
            aggregate.key = self.key

    def __init__(self, **_: Any) -> None:
        self.key = ""

    @classmethod
    def register(cls, actor: Actor, community_id: str, key: str) -> DisciplinaryKey:
        return cls._create(
            cls.Registered, id=disciplinary_key_id(community_id), **actor.event_fields(), key=key
        )

    def replace(self, actor: Actor, key: str) -> None:
        if key == self.key:
            raise InvalidTransitionError("this key is already the one in force")
        self.act(self.Replaced, actor, key=key)


register_event_topics(Report)
register_event_topics(DisciplinaryKey)
