"""The erasure of a person's personal data (个人信息删除, PIPL 第四十七条).

A person on an aid list is stored as ciphertext under their own key
(:mod:`ledger.domain.personal_data`); erasing them destroys the key and records this event,
with the legal ground and the reason, in the same transaction. One aggregate per person
and community: a person is erased once, and a second erasure is refused.

Who erases: the supervision committee's chair (居务监督委员会主任), not the clerk. The
clerk drafts the lists, so a clerk who could erase a name from them alone could make a
recipient who should not have been paid disappear from every view; the chair, who
answers for the reviews of those lists and records the committee's other lasting acts
(seal keys, review gates), decides it, and the record says who did and why.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics

#: The law and article every erasure names.
LEGAL_BASIS: Final = "《中华人民共和国个人信息保护法》第四十七条"


class ErasureGround(StrEnum):
    """The grounds of PIPL art. 47 para. 1 on which a handler must delete."""

    PURPOSE_FULFILLED = "purpose_fulfilled"  # (一) 处理目的已实现、无法实现或者不再必要
    RETENTION_ENDED = "retention_ended"  # (二) 停止提供产品或者服务，或者保存期限已届满
    CONSENT_WITHDRAWN = "consent_withdrawn"  # (三) 个人撤回同意
    UNLAWFUL_PROCESSING = "unlawful_processing"  # (四) 违反法律、行政法规或者违反约定处理
    OTHER_LEGAL = "other_legal"  # (五) 法律、行政法规规定的其他情形


GROUND_NAMES: Final[dict[ErasureGround, str]] = {
    ErasureGround.PURPOSE_FULFILLED: (
        "第一款第（一）项：处理目的已实现、无法实现或者为实现处理目的不再必要"
    ),
    ErasureGround.RETENTION_ENDED: "第一款第（二）项：停止提供产品或者服务，或者保存期限已届满",
    ErasureGround.CONSENT_WITHDRAWN: "第一款第（三）项：个人撤回同意",
    ErasureGround.UNLAWFUL_PROCESSING: (
        "第一款第（四）项：违反法律、行政法规或者违反约定处理个人信息"
    ),
    ErasureGround.OTHER_LEGAL: "第一款第（五）项：法律、行政法规规定的其他情形",
}


def person_aggregate_id(community_id: str, person_id: str) -> UUID:
    """The aggregate of ``person_id``'s erasure in ``community_id``."""
    return uuid5(NAMESPACE_URL, f"gongkai:{community_id}:person:{person_id}")


class PersonalData(LedgerAggregate):
    """One person's personal data, as far as the record keeps any act on it."""

    class PersonErased(LedgerAggregate.Created):
        TOPIC = "gongkai/person/erased"
        person_id: str
        key_id: str
        legal_basis: str  # LEGAL_BASIS
        ground: str  # an ErasureGround
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.person_id = self.person_id
            aggregate.key_id = self.key_id

    def __init__(self, **_: Any) -> None:
        self.person_id = ""
        self.key_id = ""

    @classmethod
    def erase(
        cls,
        actor: Actor,
        community_id: str,
        person_id: str,
        key_id: str,
        ground: ErasureGround,
        reason: str,
    ) -> PersonalData:
        return cls._create(
            cls.PersonErased,
            id=person_aggregate_id(community_id, person_id),
            **actor.event_fields(),
            person_id=person_id,
            key_id=key_id,
            legal_basis=LEGAL_BASIS,
            ground=ground.value,
            reason=reason,
        )


register_event_topics(PersonalData)
