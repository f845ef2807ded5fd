"""A committee member's registered seal key (监审印章备案): the verifier key the committee's
chair recorded for one member, against which the ledger checks that member's review
seals. One aggregate per member and community, so that the key in force is one load
away; a new key replaces the old one, and both stay on the record, as every act does."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics


def seal_key_id(community_id: str, member: str) -> UUID:
    """The aggregate of ``member``'s seal key in ``community_id``."""
    return uuid5(NAMESPACE_URL, f"gongkai:{community_id}:seal-key:{member}")


class SealKey(LedgerAggregate):
    """The seal key in force for one member."""

    class Registered(LedgerAggregate.Created):
        TOPIC = "gongkai/seal-key/registered"
        member: str  # the member's account
        vkey: str  # <name>+<hex key ID>+<base64(0x04 || public key)>

        def apply(self, aggregate: Any) -> None:
            aggregate.member = self.member
            aggregate.vkey = self.vkey

    class Replaced(LedgerAggregate.Event):
        TOPIC = "gongkai/seal-key/replaced"
        vkey: str

        def apply(self, aggregate: Any) -> None:
            aggregate.vkey = self.vkey

    def __init__(self, **_: Any) -> None:
        self.member = ""
        self.vkey = ""

    @classmethod
    def register(cls, actor: Actor, community_id: str, member: str, vkey: str) -> SealKey:
        return cls._create(
            cls.Registered,
            id=seal_key_id(community_id, member),
            **actor.event_fields(),
            member=member,
            vkey=vkey,
        )

    def replace(self, actor: Actor, vkey: str) -> None:
        self.act(self.Replaced, actor, vkey=vkey)


register_event_topics(SealKey)
