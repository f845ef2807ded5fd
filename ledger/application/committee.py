"""The supervision committee register's commands: the clerk records who holds a post in
the party branch, the residents' committee or the finances, the close relatives people
declare, the committee a meeting elected (checked against the register: 回避), and a
member who resigns or is recalled (:mod:`ledger.domain.committee`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.application.runner import CommandRunner
from ledger.chain.idempotency import CommandResult
from ledger.domain import validate
from ledger.domain.base import Actor
from ledger.domain.committee import Body, CommitteeRegister, Subgroup
from ledger.domain.permissions import require_role
from ledger.domain.residents_meeting import MeetingKind, MeetingStatus, ResidentsMeeting
from ledger.errors import InvalidInputError, InvalidTransitionError


class CommitteeCommands(CommandRunner):
    """Commands on the community's :class:`~ledger.domain.committee.CommitteeRegister`."""

    def register_post(
        self, actor: Actor, idempotency_key: str, *, person: str, body: str, post: str
    ) -> CommandResult:
        """``person`` holds ``post`` in ``body`` (党组织, 居委会 or 财务)."""
        require_role(actor, "register_post")
        who = _name(person, "person")
        where = validate.choice(Body, body, "body")
        what = validate.text(post, "post", max_length=50)
        return self._on_register(
            actor, idempotency_key, "register_post",
            {"person": who, "body": where.value, "post": what},
            lambda r: r.register_post(actor, who, where, what),
        )  # fmt: skip

    def leave_post(
        self, actor: Actor, idempotency_key: str, *, person: str, body: str
    ) -> CommandResult:
        require_role(actor, "leave_post")
        who = _name(person, "person")
        where = validate.choice(Body, body, "body")
        return self._on_register(
            actor, idempotency_key, "leave_post", {"person": who, "body": where.value},
            lambda r: r.leave_post(actor, who, where),
        )  # fmt: skip

    def declare_relationship(
        self, actor: Actor, idempotency_key: str, *, person: str, relative: str, relation: str
    ) -> CommandResult:
        """``relative`` is ``person``'s ``relation`` (a close relative, 近亲属)."""
        require_role(actor, "declare_relationship")
        who, whose = _name(person, "person"), _name(relative, "relative")
        how = validate.text(relation, "relation", max_length=10)
        return self._on_register(
            actor, idempotency_key, "declare_relationship",
            {"person": who, "relative": whose, "relation": how},
            lambda r: r.declare_relationship(actor, who, whose, how),
        )  # fmt: skip

    def elect_committee(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        members: Sequence[str],
        chair: str,
        term_from: str,
        term_until: str,
        meeting_id: str,
    ) -> CommandResult:
        """The committee a residents' or representatives' meeting elected, held with its
        quorum; refused, naming the rule, for a member the register recuses (回避)."""
        require_role(actor, "elect_committee")
        if isinstance(members, str) or not isinstance(members, Sequence):
            raise InvalidInputError("members is a list", field="members")
        names = [_name(m, "members") for m in members]
        head = _name(chair, "chair")
        begins = validate.date(term_from, "term_from")
        ends = validate.date(term_until, "term_until")
        meeting = validate.text(meeting_id, "meeting_id", max_length=40)

        def act(register: CommitteeRegister) -> None:
            held = self.get(ResidentsMeeting, meeting, "meeting")
            if held.status is not MeetingStatus.HELD:
                raise InvalidTransitionError(
                    f"the meeting is {held.status.value}: the committee is elected by a "
                    "residents' or representatives' meeting held with its quorum [001]"
                )
            register.elect(
                actor, members=names, chair=head, term_from=begins, term_until=ends,
                meeting_id=meeting,
            )  # fmt: skip

        arguments = {
            "members": names,
            "chair": head,
            "term_from": begins.isoformat(),
            "term_until": ends.isoformat(),
            "meeting_id": meeting,
        }
        return self._on_register(actor, idempotency_key, "elect_committee", arguments, act)

    def leave_committee(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        member: str,
        on: str,
        reason: str,
        meeting_id: str = "",
    ) -> CommandResult:
        """A member resigns from ``on``, or is recalled by the meeting ``meeting_id``."""
        require_role(actor, "leave_committee")
        who = _name(member, "member")
        day: dt.date = validate.date(on, "on")
        why = validate.text(reason, "reason", multiline=True, max_length=2_000)
        recalled_by = validate.text(meeting_id, "meeting_id", max_length=40, required=False)

        def act(register: CommitteeRegister) -> None:
            if recalled_by:
                self.get(ResidentsMeeting, recalled_by, "meeting")
            register.leave(actor, who, day, why, recalled_by)

        arguments = {
            "member": who,
            "on": day.isoformat(),
            "reason": why,
            "meeting_id": recalled_by,
        }
        return self._on_register(actor, idempotency_key, "leave_committee", arguments, act)

    def assign_subgroup(
        self, actor: Actor, idempotency_key: str, *, member: str, subgroup: str
    ) -> CommandResult:
        """``member`` works in the committee's ``subgroup`` (公开监督, 民主理财, 民意收集)."""
        require_role(actor, "assign_subgroup")
        who = _name(member, "member")
        group = validate.choice(Subgroup, subgroup, "subgroup")
        return self._on_register(
            actor, idempotency_key, "assign_subgroup", {"member": who, "subgroup": group.value},
            lambda r: r.assign(actor, who, group),
        )  # fmt: skip

    def deliver_committee_report(
        self,
        actor: Actor,
        idempotency_key: str,
        *,
        meeting_id: str,
        summary: str,
        attachment_sha256: str = "",
    ) -> CommandResult:
        """The committee's report of its work to a representatives' meeting, held [001]."""
        require_role(actor, "deliver_committee_report")
        meeting = validate.text(meeting_id, "meeting_id", max_length=40)
        said = validate.text(summary, "summary", multiline=True, max_length=5_000)
        attached = (
            validate.sha256_hex(attachment_sha256, "attachment_sha256")
            if attachment_sha256
            else ""
        )

        def act(register: CommitteeRegister) -> None:
            self.require_in_office(actor)
            held = self.get(ResidentsMeeting, meeting, "meeting")
            if (
                held.status is not MeetingStatus.HELD
                or held.kind is not MeetingKind.REPRESENTATIVES
            ):
                raise InvalidTransitionError(
                    "the committee reports to a representatives' meeting that was held [001]"
                )
            register.deliver_report(actor, meeting, said, attached)

        arguments = {"meeting_id": meeting, "summary": said, "attachment_sha256": attached}
        return self._on_register(
            actor, idempotency_key, "deliver_committee_report", arguments, act
        )

    def _on_register(
        self,
        actor: Actor,
        idempotency_key: str,
        command: str,
        arguments: dict[str, Any],
        act: Callable[[CommitteeRegister], object],
    ) -> CommandResult:
        def build() -> tuple[Sequence[Aggregate], dict[str, Any]]:
            register = self.committee_register() or CommitteeRegister.open(
                actor, self.community.id
            )
            act(register)
            return [register], dict(arguments)

        return self.execute(actor, idempotency_key, command, arguments, build)


def _name(value: object, field: str) -> str:
    return validate.text(value, field, max_length=100)
