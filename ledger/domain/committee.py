"""The supervision committee's register (居务监督委员会): who holds a post in the party
branch, the residents' committee or the community's finances, the close relatives
(近亲属) people declare, the committee's election with its term, and members who resign
or are recalled [001 一、1].

The election is checked against the register as it stands (回避制度): "除兼任居务监督委员会
主任的党组织成员外，社区党组织、居民委员会成员及其近亲属和社区财务人员不得担当社区居务监督
委员会成员" [001]. So, for each member elected:

* a residents' committee member may not serve;
* a party branch member may not serve, unless elected the chair;
* the community's finance staff may not serve;
* a close relative of a party branch or residents' committee member may not serve.

The committee has 3 to 5 members and one chair (一般由3至5人组成，其中主任1名), and its
term is the residents' committee's, given at the election. Once a community has elected
one, a review of the committee's stage counts only from a member in office: elected,
the term running, not resigned and not recalled (see
:meth:`CommitteeRegister.in_office`). One register per community
(:func:`register_id`).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.errors import InvalidInputError, InvalidTransitionError, NotFoundError

SMALLEST, LARGEST = 3, 5


class Body(StrEnum):
    """Where a registered post is held."""

    PARTY_BRANCH = "party_branch"  # 社区党组织
    RESIDENTS_COMMITTEE = "residents_committee"  # 居民委员会
    FINANCE_STAFF = "finance_staff"  # 社区财务人员


class Subgroup(StrEnum):
    """The committee's working groups [001 一、1]."""

    DISCLOSURE = "disclosure"  # 居务公开（公开监督）小组
    FINANCE = "finance"  # 民主理财小组
    OPINIONS = "opinions"  # 民意收集小组


#: The close relatives (近亲属) of the Civil Code, art. 1045.
CLOSE_RELATIVES: Final = frozenset(
    {"配偶", "父母", "子女", "兄弟姐妹", "祖父母", "外祖父母", "孙子女", "外孙子女"}
)


def register_id(community_id: str) -> UUID:
    """The register of ``community_id``: one per community."""
    return uuid5(NAMESPACE_URL, f"gongkai:{community_id}:committee-register")


class CommitteeRegister(LedgerAggregate):
    """The posts, the declared relationships, and the committee elected."""

    class Opened(LedgerAggregate.Created):
        TOPIC = "gongkai/committee/register-opened"
        actor: str
        actor_role: str
        community_id: str

    class PostRegistered(LedgerAggregate.Event):
        TOPIC = "gongkai/committee/post-registered"
        person: str
        body: str
        post: str  # as the community names it: 书记, 主任, 委员, 出纳, 会计 ...

        def apply(self, aggregate: Any) -> None:
            aggregate.posts.setdefault(self.person, set()).add(Body(self.body))

    class PostLeft(LedgerAggregate.Event):
        TOPIC = "gongkai/committee/post-left"
        person: str
        body: str

        def apply(self, aggregate: Any) -> None:
            aggregate.posts.get(self.person, set()).discard(Body(self.body))

    class RelationshipDeclared(LedgerAggregate.Event):
        TOPIC = "gongkai/committee/relationship-declared"
        person: str
        relative: str
        relation: str  # one of CLOSE_RELATIVES: what ``relative`` is to ``person``

        def apply(self, aggregate: Any) -> None:
            aggregate.relatives.setdefault(self.person, set()).add(self.relative)
            aggregate.relatives.setdefault(self.relative, set()).add(self.person)

    class CommitteeElected(LedgerAggregate.Event):
        TOPIC = "gongkai/committee/committee-elected"
        members: list[str]
        chair: str
        term_from: str  # ISO date
        term_until: str  # ISO date, the last day of the term
        meeting_id: str  # the residents' or representatives' meeting that elected it

        def apply(self, aggregate: Any) -> None:
            aggregate.members = dict.fromkeys(self.members)
            aggregate.chair = self.chair
            aggregate.term = (
                dt.date.fromisoformat(self.term_from),
                dt.date.fromisoformat(self.term_until),
            )

    class SubgroupAssigned(LedgerAggregate.Event):
        TOPIC = "gongkai/committee/subgroup-assigned"
        member: str
        subgroup: str

        def apply(self, aggregate: Any) -> None:
            aggregate.subgroups.setdefault(Subgroup(self.subgroup), set()).add(self.member)

    class ReportDelivered(LedgerAggregate.Event):
        """The committee's report of its work to a representatives' meeting [001]."""

        TOPIC = "gongkai/committee/report-delivered"
        meeting_id: str
        summary: str
        attachment_sha256: str  # the report as delivered, or ""

    class MemberResigned(LedgerAggregate.Event):
        TOPIC = "gongkai/committee/member-resigned"
        member: str
        on: str  # ISO date: the first day no longer in office
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.members[self.member] = dt.date.fromisoformat(self.on)

    class MemberRecalled(LedgerAggregate.Event):
        TOPIC = "gongkai/committee/member-recalled"
        member: str
        on: str
        meeting_id: str
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.members[self.member] = dt.date.fromisoformat(self.on)

    def __init__(self, **_: Any) -> None:
        self.posts: dict[str, set[Body]] = {}
        self.relatives: dict[str, set[str]] = {}
        #: member -> the day they left office (None while in office)
        self.members: dict[str, dt.date | None] = {}
        self.chair = ""
        self.term: tuple[dt.date, dt.date] | None = None
        #: who works in each sub-group (none assigned: the whole committee)
        self.subgroups: dict[Subgroup, set[str]] = {}

    @classmethod
    def open(cls, actor: Actor, community_id: str) -> CommitteeRegister:
        return cls._create(
            cls.Opened, id=register_id(community_id), **actor.event_fields(),
            community_id=community_id,
        )  # fmt: skip

    # --- the register ------------------------------------------------------------------

    def register_post(self, actor: Actor, person: str, body: Body, post: str) -> None:
        if body in self.posts.get(person, set()):
            raise InvalidTransitionError(f"{person} already holds a post in the {body.value}")
        self.act(self.PostRegistered, actor, person=person, body=body.value, post=post)

    def leave_post(self, actor: Actor, person: str, body: Body) -> None:
        if body not in self.posts.get(person, set()):
            raise NotFoundError(f"{person} holds no post in the {body.value}")
        self.act(self.PostLeft, actor, person=person, body=body.value)

    def declare_relationship(
        self, actor: Actor, person: str, relative: str, relation: str
    ) -> None:
        if relation not in CLOSE_RELATIVES:
            raise InvalidInputError(
                f"{relation!r} is not a close relative (近亲属): one of "
                + "、".join(sorted(CLOSE_RELATIVES)),
                field="relation",
            )
        if person == relative:
            raise InvalidInputError("a person is not their own relative", field="relative")
        if relative in self.relatives.get(person, set()):
            raise InvalidTransitionError(f"{person} and {relative} are already declared")
        self.act(
            self.RelationshipDeclared, actor, person=person, relative=relative, relation=relation
        )

    # --- the committee -------------------------------------------------------------------

    def elect(
        self,
        actor: Actor,
        *,
        members: list[str],
        chair: str,
        term_from: dt.date,
        term_until: dt.date,
        meeting_id: str,
    ) -> None:
        """The committee elected by a meeting, checked against the register (回避)."""
        if len(set(members)) != len(members):
            raise InvalidInputError("a member is elected once", field="members")
        if not SMALLEST <= len(members) <= LARGEST:
            raise InvalidTransitionError(
                f"a committee of {len(members)}: the supervision committee has 3 to 5 "
                "members (一般由3至5人组成) [001]"
            )
        if chair not in members:
            raise InvalidInputError("the chair is one of the members", field="chair")
        if term_until <= term_from:
            raise InvalidInputError("the term ends after it begins", field="term_until")
        for member in members:
            if reason := self.recusal(member, chair=member == chair):
                raise InvalidTransitionError(f"{member} may not serve: {reason} [001 回避制度]")
        self.act(
            self.CommitteeElected, actor, members=list(members), chair=chair,
            term_from=term_from.isoformat(), term_until=term_until.isoformat(),
            meeting_id=meeting_id,
        )  # fmt: skip

    def recusal(self, person: str, *, chair: bool) -> str:
        """Why ``person`` may not serve on the committee ('' if they may)."""
        held = self.posts.get(person, set())
        if Body.RESIDENTS_COMMITTEE in held:
            return "a member of the residents' committee (居民委员会成员)"
        if Body.PARTY_BRANCH in held and not chair:
            return "a member of the party branch who is not elected the chair (社区党组织成员)"
        if Body.FINANCE_STAFF in held:
            return "the community's finance staff (社区财务人员)"
        for relative in sorted(self.relatives.get(person, set())):
            theirs = self.posts.get(relative, set())
            if theirs & {Body.PARTY_BRANCH, Body.RESIDENTS_COMMITTEE}:
                return f"a close relative (近亲属) of {relative}, a member of the " + (
                    "party branch" if Body.PARTY_BRANCH in theirs else "residents' committee"
                )
        return ""

    def leave(
        self, actor: Actor, member: str, on: dt.date, reason: str, meeting_id: str = ""
    ) -> None:
        """A member resigns (辞职), or is recalled by a meeting (罢免) if ``meeting_id``."""
        if member not in self.members:
            raise NotFoundError(f"{member} is not a member of the committee")
        if self.members[member] is not None:
            raise InvalidTransitionError(f"{member} has already left the committee")
        if meeting_id:
            self.act(
                self.MemberRecalled, actor, member=member, on=on.isoformat(),
                meeting_id=meeting_id, reason=reason,
            )  # fmt: skip
        else:
            self.act(self.MemberResigned, actor, member=member, on=on.isoformat(), reason=reason)

    def assign(self, actor: Actor, member: str, subgroup: Subgroup) -> None:
        """``member`` works in ``subgroup`` (公开监督, 民主理财 or 民意收集)."""
        if member not in self.members:
            raise NotFoundError(f"{member} is not a member of the committee")
        if self.members[member] is not None:
            raise InvalidTransitionError(f"{member} has left the committee")
        if member in self.subgroups.get(subgroup, set()):
            raise InvalidTransitionError(f"{member} is already in the {subgroup.value} group")
        self.act(self.SubgroupAssigned, actor, member=member, subgroup=subgroup.value)

    def deliver_report(
        self, actor: Actor, meeting_id: str, summary: str, attachment_sha256: str
    ) -> None:
        if not self.elected():
            raise InvalidTransitionError("no supervision committee is elected to report")
        self.act(
            self.ReportDelivered, actor, meeting_id=meeting_id, summary=summary,
            attachment_sha256=attachment_sha256,
        )  # fmt: skip

    def in_subgroup(self, person: str, subgroup: Subgroup) -> str:
        """Why ``person`` does not act for ``subgroup`` ('' if they do): once the group
        has members, only they act for it."""
        working = self.subgroups.get(subgroup, set())
        if working and person not in working:
            return f"{person} is not in the committee's {subgroup.value} group"
        return ""

    def elected(self) -> bool:
        return self.term is not None

    def in_office(self, person: str, day: dt.date) -> str:
        """Why ``person`` is not a member in office on ``day`` ('' if they are)."""
        if self.term is None:
            return "no supervision committee is elected"
        if person not in self.members:
            return f"{person} is not a member of the supervision committee"
        begins, ends = self.term
        if day < begins:
            return f"the committee's term begins on {begins}"
        if day > ends:
            return f"the committee's term ended on {ends}"
        left = self.members[person]
        if left is not None and day >= left:
            return f"{person} left the committee on {left}"
        return ""


register_event_topics(CommitteeRegister)
