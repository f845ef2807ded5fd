"""A disclosure (公开事项): drafted, reviewed, posted, corrected, withdrawn, archived.

How a disclosure is made [000, 004 篇六, 篇九]: the clerk prepares the material, the
supervision committee reviews it (and the party branch and the three-stage
confidentiality review 初审 / 复审 / 终审 may too), it is posted on a channel for a period,
residents may object, and a verified objection leads to a correction that is a new
version pointing at the one it corrects; the original stays on the record.

Rules the aggregate enforces (each refusal raises before any event is recorded):

* only a draft (or a rejected draft) is revised or submitted;
* a review is recorded only while the disclosure is submitted for review; a rejection
  sends it back to the clerk; the confidentiality stages go in order;
* publication needs the supervision committee's approval in the current review round,
  and, if the confidentiality review was started, its final approval (终审); the
  community's gates (:mod:`ledger.domain.gates`, the seeds' rules unless it chose
  otherwise) also ask for the party branch's 审查, the confidentiality review of every
  item not public, three people for its three stages, and the members' scope at least
  for what the seeds keep to them;
* only a posted disclosure is corrected or withdrawn; only a posted or withdrawn one is
  archived, and nothing happens to an archived one;
* residents leave opinions (意见) on a disclosure only while it is posted, each is
  answered once, and a disclosure with an unanswered opinion is not archived: the
  procedure is to collect the residents' opinions, handle and answer them, and only then
  archive [000, 004 篇九: 收集群众意见, 认真处理群众反馈的意见].
"""

from __future__ import annotations

from dataclasses import field
from enum import StrEnum
from typing import Any
from uuid import UUID

from ledger.domain.base import Actor, LedgerAggregate, register_event_topics
from ledger.domain.gates import SEEDS_GATES, Gates, require_scope_allowed
from ledger.domain.ids import new_id
from ledger.domain.review_round import (
    require_approved,
    require_distinct_signer,
    require_stage_order,
)
from ledger.domain.vocabulary import SCOPE_NAMES, Channel, ReviewOutcome, ReviewStage, Scope
from ledger.errors import InvalidTransitionError


class Status(StrEnum):
    DRAFT = "draft"  # 草稿
    SUBMITTED = "submitted"  # 待审核
    REJECTED = "rejected"  # 审核未通过
    PUBLISHED = "published"  # 已公开
    WITHDRAWN = "withdrawn"  # 已撤回
    ARCHIVED = "archived"  # 已归档


class Disclosure(LedgerAggregate):
    """One disclosure and its whole life."""

    class Drafted(LedgerAggregate.Created):
        TOPIC = "gongkai/disclosure/drafted"
        category: str
        title: str
        body: str
        attachments: list[str]  # SHA-256 of each file, hex
        scope: str
        planned_from: str  # ISO date
        planned_until: str
        # An aid list's people, each {"person_id", "key_id", "sealed"}: their personal
        # fields sealed under their own key (ledger.domain.personal_data). Absent from events
        # recorded before lists had recipients.
        recipients: list[dict[str, str]] = field(default_factory=list)

        def apply(self, aggregate: Any) -> None:
            aggregate.on_drafted(self)

    class DraftRevised(LedgerAggregate.Event):
        TOPIC = "gongkai/disclosure/draft-revised"
        category: str
        title: str
        body: str
        attachments: list[str]
        scope: str
        planned_from: str
        planned_until: str
        recipients: list[dict[str, str]] = field(default_factory=list)

        def apply(self, aggregate: Any) -> None:
            aggregate.on_content(self, self.originator_version)
            aggregate.status = Status.DRAFT

    class SubmittedForReview(LedgerAggregate.Event):
        TOPIC = "gongkai/disclosure/submitted-for-review"

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.SUBMITTED
            aggregate.round_approvals = set()
            aggregate.round_signers = {}

    class Reviewed(LedgerAggregate.Event):
        """One review act (审核 / 审查 / 初审 / 复审 / 终审) with its opinion."""

        TOPIC = "gongkai/disclosure/reviewed"
        stage: str
        outcome: str
        opinion: str
        # The reviewer's seal (监审印章, ledger.seal.review_seal), when one is registered
        # for them: its key as <name>+<hex key ID>, and the signature in base64. Empty on
        # an unsealed review, and on every review recorded before seals existed.
        seal_key: str = ""
        seal_signature: str = ""

        def apply(self, aggregate: Any) -> None:
            if self.outcome == ReviewOutcome.REJECTED:
                aggregate.status = Status.REJECTED
                aggregate.round_approvals = set()
                aggregate.round_signers = {}
            else:
                aggregate.round_approvals.add(ReviewStage(self.stage))
                aggregate.round_signers[ReviewStage(self.stage)] = self.actor

    class Published(LedgerAggregate.Event):
        TOPIC = "gongkai/disclosure/published"
        channel: str
        period_from: str
        period_until: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.PUBLISHED
            # Whether what is posted went through 保密审查: a correction of it must too.
            aggregate.confidentiality_reviewed = ReviewStage.FINAL in aggregate.round_approvals
            aggregate.channels.append(self.channel)
            aggregate.period = (self.period_from, self.period_until)

    class Corrected(LedgerAggregate.Event):
        """A new version replacing the posted one; the correction explains why."""

        TOPIC = "gongkai/disclosure/corrected"
        correction_id: UUID
        corrects_version: int
        title: str
        body: str
        attachments: list[str]

        def apply(self, aggregate: Any) -> None:
            aggregate.title, aggregate.body = self.title, self.body
            aggregate.attachments = list(self.attachments)
            aggregate.content_version += 1
            aggregate.version_events[aggregate.content_version] = self.originator_version

    class Withdrawn(LedgerAggregate.Event):
        TOPIC = "gongkai/disclosure/withdrawn"
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.WITHDRAWN

    class Archived(LedgerAggregate.Event):
        TOPIC = "gongkai/disclosure/archived"

        def apply(self, aggregate: Any) -> None:
            aggregate.status = Status.ARCHIVED

    class CoverageDeclared(LedgerAggregate.Event):
        """Which obligation of the disclosure calendar, and which period of it, this
        disclosure fulfils (:mod:`ledger.domain.obligation`); with the obligation's
        category and scope, which the draft must keep."""

        TOPIC = "gongkai/disclosure/coverage-declared"
        obligation_id: str
        period: str
        category: str
        scope: str

        def apply(self, aggregate: Any) -> None:
            aggregate.covers = (self.obligation_id, self.period, self.category, self.scope)

    class OpinionLeft(LedgerAggregate.Event):
        """A resident's opinion (意见) on the posted version. ``resident`` is the name
        they sign with (masked on the public view); the text is public only if they
        chose so (``text_public``)."""

        TOPIC = "gongkai/disclosure/opinion-left"
        opinion_id: UUID
        disclosure_version: int
        resident: str
        text: str
        text_public: bool

        def apply(self, aggregate: Any) -> None:
            aggregate.opinions[self.opinion_id] = False

    class OpinionAnswered(LedgerAggregate.Event):
        """The clerk's answer to an opinion (答复), public with the item."""

        TOPIC = "gongkai/disclosure/opinion-answered"
        opinion_id: UUID
        answer: str

        def apply(self, aggregate: Any) -> None:
            aggregate.opinions[self.opinion_id] = True

    # --- state -------------------------------------------------------------------

    def __init__(self, **_: Any) -> None:
        self.status = Status.DRAFT
        self.content_version = 0
        # content version -> the aggregate version of the event that produced it
        self.version_events: dict[int, int] = {}
        self.round_approvals: set[ReviewStage] = set()
        #: Who approved each stage of the round.
        self.round_signers: dict[ReviewStage, str] = {}
        self.channels: list[str] = []
        self.period: tuple[str, str] | None = None
        self.confidentiality_reviewed = False
        # opinion ID -> whether it has been answered
        self.opinions: dict[UUID, bool] = {}
        # (obligation ID, period, its category, its scope) once declared
        self.covers: tuple[str, str, str, str] | None = None

    def on_drafted(self, event: Drafted) -> None:
        self.on_content(event, event.originator_version)

    def on_content(self, event: Drafted | DraftRevised, aggregate_version: int) -> None:
        self.category = event.category
        self.title, self.body = event.title, event.body
        self.attachments = list(event.attachments)
        # Events recorded before lists had recipients were stored without the field, and
        # a stored event is decoded without its defaults.
        self.recipients = list(getattr(event, "recipients", None) or [])
        self.scope = Scope(event.scope)
        self.planned = (event.planned_from, event.planned_until)
        self.content_version += 1
        self.version_events[self.content_version] = aggregate_version

    # --- commands ----------------------------------------------------------------

    @classmethod
    def draft(cls, actor: Actor, gates: Gates = SEEDS_GATES, **content: Any) -> Disclosure:
        require_scope_allowed(content["category"], content["scope"], gates)
        return cls._create(cls.Drafted, id=new_id(), **actor.event_fields(), **content)

    def revise_draft(self, actor: Actor, gates: Gates = SEEDS_GATES, **content: Any) -> None:
        self._require(Status.DRAFT, Status.REJECTED, doing="revise the draft of")
        require_scope_allowed(content["category"], content["scope"], gates)
        if self.covers is not None:
            self._require_fits(
                self.covers[2], self.covers[3], content["category"], content["scope"]
            )
        self.act(self.DraftRevised, actor, **content)

    def declare_coverage(
        self, actor: Actor, obligation_id: str, period: str, category: str, scope: str
    ) -> None:
        """Say which obligation and period this disclosure fulfils, before its review,
        so that the reviewers see it; it must be of the obligation's category and scope."""
        self._require(Status.DRAFT, Status.REJECTED, doing="declare what is covered by")
        self._require_fits(category, scope, self.category, self.scope.value)
        self.act(
            self.CoverageDeclared,
            actor,
            obligation_id=obligation_id,
            period=period,
            category=category,
            scope=scope,
        )

    @staticmethod
    def _require_fits(category: str, scope: str, own_category: str, own_scope: str) -> None:
        if own_category != category or own_scope != scope:
            raise InvalidTransitionError(
                f"the obligation is of category {category!r}, scope {scope!r}; the "
                f"disclosure is of {own_category!r}, {own_scope!r}"
            )

    def submit_for_review(self, actor: Actor) -> None:
        self._require(Status.DRAFT, Status.REJECTED, doing="submit")
        self.act(self.SubmittedForReview, actor)

    def review(
        self,
        actor: Actor,
        stage: ReviewStage,
        outcome: ReviewOutcome,
        opinion: str,
        seal: tuple[str, str] | None = None,
        gates: Gates = SEEDS_GATES,
    ) -> None:
        self._require(Status.SUBMITTED, doing="review")
        require_stage_order(stage, outcome, self.round_approvals)
        if gates.distinct_signers:
            require_distinct_signer(stage, outcome, actor.name, self.round_signers)
        sealed = {"seal_key": seal[0], "seal_signature": seal[1]} if seal else {}
        self.act(
            self.Reviewed,
            actor,
            stage=stage.value,
            outcome=outcome.value,
            opinion=opinion,
            **sealed,
        )

    def publish(
        self,
        actor: Actor,
        channel: Channel,
        period_from: str,
        period_until: str,
        gates: Gates = SEEDS_GATES,
    ) -> None:
        if self.status is not Status.PUBLISHED:
            self._require(Status.SUBMITTED, doing="publish")
            require_scope_allowed(self.category, self.scope.value, gates)
            why = (
                f"an item of scope {self.scope.value} ({SCOPE_NAMES[self.scope]}) is not "
                "public, so it goes through the confidentiality review (保密审查)"
                if gates.confidentiality_unless_public and self.scope is not Scope.PUBLIC
                else ""
            )
            require_approved(self.round_approvals, party=gates.party_review, confidentiality=why)
        elif channel.value in self.channels:
            raise InvalidTransitionError(f"already posted on channel {channel.value!r}")
        self.act(
            self.Published,
            actor,
            channel=channel.value,
            period_from=period_from,
            period_until=period_until,
        )

    def correct(
        self,
        actor: Actor,
        correction_id: UUID,
        corrects_version: int,
        title: str,
        body: str,
        attachments: list[str],
    ) -> None:
        self._require(Status.PUBLISHED, doing="correct")
        if corrects_version != self.content_version:
            raise InvalidTransitionError(
                f"the correction is of version {corrects_version}, but the current version "
                f"is {self.content_version}"
            )
        self.act(
            self.Corrected,
            actor,
            correction_id=correction_id,
            corrects_version=corrects_version,
            title=title,
            body=body,
            attachments=attachments,
        )

    def withdraw(self, actor: Actor, reason: str) -> None:
        self._require(Status.PUBLISHED, doing="withdraw")
        self.act(self.Withdrawn, actor, reason=reason)

    def archive(self, actor: Actor) -> None:
        self._require(Status.PUBLISHED, Status.WITHDRAWN, doing="archive")
        waiting = self.unanswered_opinions()
        if waiting:
            raise InvalidTransitionError(
                f"{len(waiting)} opinion(s) on this disclosure are not yet answered "
                "(意见未答复): answer them before archiving"
            )
        self.act(self.Archived, actor)

    def leave_opinion(self, actor: Actor, resident: str, text: str, *, text_public: bool) -> UUID:
        """Record a resident's opinion on the version now posted; answers its ID."""
        self._require(Status.PUBLISHED, doing="leave an opinion on")
        opinion_id = new_id()
        self.act(
            self.OpinionLeft,
            actor,
            opinion_id=opinion_id,
            disclosure_version=self.content_version,
            resident=resident,
            text=text,
            text_public=text_public,
        )
        return opinion_id

    def answer_opinion(self, actor: Actor, opinion_id: UUID, answer: str) -> None:
        # An opinion left before the item was withdrawn is still answered: the
        # resident is owed the answer whatever became of the item.
        self._require(Status.PUBLISHED, Status.WITHDRAWN, doing="answer an opinion on")
        answered = self.opinions.get(opinion_id)
        if answered is None:
            raise InvalidTransitionError(f"disclosure {self.id} has no opinion {opinion_id}")
        if answered:
            raise InvalidTransitionError(f"opinion {opinion_id} has already been answered")
        self.act(self.OpinionAnswered, actor, opinion_id=opinion_id, answer=answer)

    def unanswered_opinions(self) -> list[UUID]:
        return [oid for oid, answered in self.opinions.items() if not answered]

    def _require(self, *allowed: Status, doing: str) -> None:
        if self.status not in allowed:
            names = " or ".join(s.value for s in allowed)
            raise InvalidTransitionError(
                f"cannot {doing} a disclosure that is {self.status.value}; it must be {names}"
            )


register_event_topics(Disclosure)
