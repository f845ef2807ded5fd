"""The rules of one review round, the same for a disclosure and for its correction
[004 篇六, 篇七]: the confidentiality stages (初审 → 复审 → 终审) are approved in order,
and what is posted needs the supervision committee's approval (监委会审核) and, where the
confidentiality review applies, its final approval (终审)."""

from __future__ import annotations

from collections.abc import Set

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


def require_approved(approvals: Set[ReviewStage], *, confidentiality: bool = False) -> None:
    """The round's approvals allow posting: the committee's, and the final one (终审)
    if the confidentiality review was started in the round or is required
    (``confidentiality``)."""
    if ReviewStage.COMMITTEE not in approvals:
        raise InvalidTransitionError(
            "publishing needs the supervision committee's approval (监委会审核)"
        )
    if ReviewStage.FINAL in approvals:
        return
    if approvals & set(CONFIDENTIALITY_STAGES):
        raise InvalidTransitionError(
            "the confidentiality review (保密审查) was started but not finally approved"
        )
    if confidentiality:
        raise InvalidTransitionError(
            "the original went through the confidentiality review (保密审查): its "
            "correction needs 初审, 复审 and 终审 too"
        )
