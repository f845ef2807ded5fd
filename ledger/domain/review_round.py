"""The rules of one review round, the same for a disclosure and for its correction
[004 篇六, 篇七]: the confidentiality stages (初审 → 复审 → 终审) are approved in order,
no one signs two of them where the gates say so (:mod:`ledger.domain.gates`), and what
is posted needs the supervision committee's approval (监委会审核), the party branch's
(党支部审查) where the gates say so, and, where the confidentiality review applies, its
final approval (终审)."""

from __future__ import annotations

from collections.abc import Mapping, Set

from ledger.domain.vocabulary import (
    CONFIDENTIALITY_STAGES,
    STAGE_NAMES,
    ReviewOutcome,
    ReviewStage,
)
from ledger.errors import InvalidTransitionError


def require_stage_order(
    stage: ReviewStage, outcome: ReviewOutcome, approvals: Set[ReviewStage]
) -> None:
    """A confidentiality stage is approved only after the stages before it."""
    if stage in CONFIDENTIALITY_STAGES and outcome is ReviewOutcome.APPROVED:
        before = CONFIDENTIALITY_STAGES[: CONFIDENTIALITY_STAGES.index(stage)]
        missing = [s for s in before if s not in approvals]
        if missing:
            raise InvalidTransitionError(
                f"{STAGE_NAMES[stage]} needs {STAGE_NAMES[missing[0]]} approved first"
            )


def require_distinct_signer(
    stage: ReviewStage, outcome: ReviewOutcome, name: str, signers: Mapping[ReviewStage, str]
) -> None:
    """No one approves two stages of one confidentiality review (``signers``: who
    approved each stage of the round so far)."""
    if stage not in CONFIDENTIALITY_STAGES or outcome is not ReviewOutcome.APPROVED:
        return
    for other, signer in signers.items():
        if other is not stage and other in CONFIDENTIALITY_STAGES and signer == name:
            raise InvalidTransitionError(
                f"{name} signed {STAGE_NAMES[other]} of this review: {STAGE_NAMES[stage]} "
                "is signed by another person (the same person may not sign two stages)"
            )


def require_approved(
    approvals: Set[ReviewStage], *, party: bool = False, confidentiality: str = ""
) -> None:
    """The round's approvals allow posting: the committee's; the party branch's if
    ``party``; and the final one (终审) if the confidentiality review was started in the
    round or is required (``confidentiality`` says why)."""
    if ReviewStage.COMMITTEE not in approvals:
        raise InvalidTransitionError(
            "publishing needs the supervision committee's approval (监委会审核)"
        )
    if party and ReviewStage.PARTY_BRANCH not in approvals:
        raise InvalidTransitionError(
            "publishing needs the party branch's review (党支部审查) as well as the committee's"
        )
    if ReviewStage.FINAL in approvals:
        return
    if approvals & set(CONFIDENTIALITY_STAGES):
        raise InvalidTransitionError(
            "the confidentiality review (保密审查) was started but not finally approved"
        )
    if confidentiality:
        raise InvalidTransitionError(f"{confidentiality}: it needs 初审, 复审 and 终审")
