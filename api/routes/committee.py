"""The supervision committee's register over HTTP (居务监督委员会): the clerk records the
posts held in the party branch, the residents' committee and the finances, the close
relatives declared, the committee a meeting elected and members who leave it. Who serves
and their term are public; the declared relationships are the community's members' and
the auditors'."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from api.routes.command_bodies import Body
from api.routes.commands import IdempotencyKey, run_command
from api.service.auth import SignedIn, require_csrf
from api.service.deps import LedgerDep
from api.service.params import MultiLine, SingleLine
from api.service.read_models import ReaderDep
from ledger.domain.vocabulary import Scope
from ledger.domain.working_days import china_date
from ledger.errors import NotFoundError
from projections.visibility import can_see

commands = APIRouter(
    prefix="/v1/communities/{community_id}",
    tags=["commands"],
    dependencies=[Depends(require_csrf)],
)
reads = APIRouter(prefix="/v1/communities/{community_id}", tags=["reads"])

BodyName = Literal["party_branch", "residents_committee", "finance_staff"]


class Post(Body):
    person: SingleLine = Field(min_length=1, max_length=100)
    body: BodyName
    post: SingleLine = Field(min_length=1, max_length=50)


class PostLeft(Body):
    person: SingleLine = Field(min_length=1, max_length=100)
    body: BodyName


class Relationship(Body):
    person: SingleLine = Field(min_length=1, max_length=100)
    relative: SingleLine = Field(min_length=1, max_length=100)
    relation: SingleLine = Field(min_length=1, max_length=10, description="近亲属, e.g. 配偶")


class Election(Body):
    members: list[SingleLine] = Field(min_length=1, max_length=10)
    chair: SingleLine = Field(min_length=1, max_length=100)
    term_from: str = Field(description="YYYY-MM-DD")
    term_until: str = Field(description="YYYY-MM-DD, the term's last day")
    meeting_id: str = Field(min_length=1, max_length=40)


class Departure(Body):
    member: SingleLine = Field(min_length=1, max_length=100)
    on: str = Field(description="YYYY-MM-DD: the first day out of office")
    reason: MultiLine = Field(min_length=1, max_length=2_000)
    meeting_id: str = Field(default="", max_length=40, description="the recalling meeting")


class Assignment(Body):
    member: SingleLine = Field(min_length=1, max_length=100)
    subgroup: Literal["disclosure", "finance", "opinions"]


class CommitteeReport(Body):
    meeting_id: str = Field(min_length=1, max_length=40)
    summary: MultiLine = Field(min_length=1, max_length=5_000)
    attachment_sha256: str = Field(default="", max_length=64)


class RepresentativeElection(Body):
    name: SingleLine = Field(min_length=1, max_length=100)
    group: SingleLine = Field(min_length=1, max_length=100, description="居民小组")
    term_from: str = Field(description="YYYY-MM-DD: the term runs three years from it")


def _command(path: str, name: str, body_type: type[Body], doc: str) -> None:
    """Register ``POST {path}`` running the ledger command ``name`` with its body."""

    def route(
        community_id: str,
        body: Any,
        key: IdempotencyKey,
        who: SignedIn,
        ledger: LedgerDep,
        response: Response,
    ) -> dict[str, Any]:
        return run_command(
            name,
            who,
            ledger,
            community_id,
            response,
            lambda c: getattr(c, name)(who.actor(), key, **body.model_dump()),
        )

    route.__annotations__["body"] = body_type
    route.__doc__ = doc
    route.__name__ = name
    commands.post(path, status_code=201, name=name)(route)


_command("/committee/posts", "register_post", Post, "A post held in 党组织, 居委会 or 财务.")
_command("/committee/posts/left", "leave_post", PostLeft, "A post no longer held.")
_command(
    "/committee/relationships", "declare_relationship", Relationship, "A close relative declared."
)
_command(
    "/committee/election",
    "elect_committee",
    Election,
    "The committee a quorate meeting elected, checked against the register (回避).",
)
_command(
    "/committee/departures",
    "leave_committee",
    Departure,
    "A member resigns, or is recalled by the meeting named.",
)
_command(
    "/committee/subgroups",
    "assign_subgroup",
    Assignment,
    "A member works in 公开监督 (disclosure), 民主理财 (finance) or 民意收集 (opinions).",
)
_command(
    "/committee/reports",
    "deliver_committee_report",
    CommitteeReport,
    "The committee's report of its work to a representatives' meeting that was held.",
)
_command(
    "/representatives",
    "elect_representative",
    RepresentativeElection,
    "A residents' representative elected by a residents' group, for three years.",
)


@reads.get("/committee")
def committee(community_id: str, ledger: LedgerDep, reader: ReaderDep) -> dict[str, Any]:
    """The supervision committee: its members with whether each is in office today, its
    chair and term, and the posts registered; the declared relationships to members."""
    ledger.store.community(community_id)
    register = ledger.community(community_id).committee_register()
    if register is None:
        raise NotFoundError(f"{community_id!r} keeps no committee register yet")
    today = china_date()
    term = register.term
    shown: dict[str, Any] = {
        "community": community_id,
        "elected": register.elected(),
        "chair": register.chair or None,
        "term_from": term[0].isoformat() if term else None,
        "term_until": term[1].isoformat() if term else None,
        "members": [
            {
                "name": name,
                "left_on": left.isoformat() if left else None,
                "in_office": not register.in_office(name, today),
            }
            for name, left in register.members.items()
        ],
        "subgroups": {group.value: sorted(names) for group, names in register.subgroups.items()},
        "posts": {person: sorted(b.value for b in bodies)
                  for person, bodies in sorted(register.posts.items()) if bodies},
    }  # fmt: skip
    if can_see(reader, community_id, Scope.INTERNAL):
        shown["relatives"] = {p: sorted(r) for p, r in sorted(register.relatives.items())}
    return shown
