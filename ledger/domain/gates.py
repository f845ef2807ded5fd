"""The review gates a disclosure passes before it is posted (审核把关), chosen per
community in its settings, with the seeds' rules as the default:

* publication needs the party branch's 审查 as well as the supervision committee's 审核
  [000, 004 篇九: 经群众监督小组审核……党支部、廉情监督员对公开内容进行审查];
* every item whose scope is not public goes through the confidentiality review, 初审 →
  复审 → 终审 [004 篇七: 公开前须经保密审查];
* no one signs two stages of one confidentiality review: 初审 (the clerk), 复审 (the
  office's head) and 终审 (the leader who bears the responsibility) are three people;
* what the seeds say is for the community's members cannot be given the public scope
  [000 (二)公开范围: 财务收支情况必须向所属内部人员公开].

A community that relaxes a gate records it, with its reason, as an event of its settings
aggregate; until it does, every gate holds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.vocabulary import CATEGORY_BY_CODE, SCOPE_NAMES, Scope
from ledger.errors import InvalidTransitionError


@dataclass(frozen=True, slots=True)
class Gates:
    party_review: bool = True  # 党支部审查 before publication
    confidentiality_unless_public: bool = True  # 保密审查 for every item not public
    distinct_signers: bool = True  # three people for 初审, 复审, 终审
    scope_floor: bool = True  # the members' categories are never public

    def as_fields(self) -> dict[str, bool]:
        return asdict(self)


#: The seeds' rules: every gate holds.
SEEDS_GATES: Final = Gates()

#: The categories the seeds give to the community's members at most [000 (二)公开范围].
MEMBERS_AT_MOST: Final[frozenset[str]] = frozenset({"income_expense"})


def settings_id(community_id: str) -> UUID:
    """The aggregate of ``community_id``'s settings."""
    return uuid5(NAMESPACE_URL, f"gongkai:{community_id}:settings")


def require_scope_allowed(category: str, scope: str, gates: Gates) -> None:
    """Refuse the public scope for a category the seeds keep to the members."""
    if gates.scope_floor and category in MEMBERS_AT_MOST and scope == Scope.PUBLIC:
        name = CATEGORY_BY_CODE[category].name
        raise InvalidTransitionError(
            f"{name} ({category}) is disclosed to the community's members "
            f"({SCOPE_NAMES[Scope.INTERNAL]}, 所属内部人员) and cannot be given the public "
            "scope (社会公开) [财务收支情况必须向所属内部人员公开]"
        )


class CommunitySettings(LedgerAggregate):
    """A community's choice of gates, each change with its reason."""

    class GatesAdopted(LedgerAggregate.Created):
        TOPIC = "gongkai/settings/gates-adopted"
        actor: str
        actor_role: str
        party_review: bool
        confidentiality_unless_public: bool
        distinct_signers: bool
        scope_floor: bool
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.on_gates(self)

    class GatesChanged(LedgerAggregate.Event):
        TOPIC = "gongkai/settings/gates-changed"
        party_review: bool
        confidentiality_unless_public: bool
        distinct_signers: bool
        scope_floor: bool
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.on_gates(self)

    def __init__(self, **_: Any) -> None:
        self.gates = SEEDS_GATES

    def on_gates(self, event: GatesAdopted | GatesChanged) -> None:
        self.gates = Gates(
            party_review=event.party_review,
            confidentiality_unless_public=event.confidentiality_unless_public,
            distinct_signers=event.distinct_signers,
            scope_floor=event.scope_floor,
        )

    @classmethod
    def choose(
        cls, actor: Actor, community_id: str, gates: Gates, reason: str
    ) -> CommunitySettings:
        return cls._create(
            cls.GatesAdopted,
            id=settings_id(community_id),
            **actor.event_fields(),
            **gates.as_fields(),
            reason=reason,
        )

    def change(self, actor: Actor, gates: Gates, reason: str) -> None:
        if gates == self.gates:
            raise InvalidTransitionError("these are the gates already in force")
        self.act(self.GatesChanged, actor, **gates.as_fields(), reason=reason)


register_event_topics(CommunitySettings)
