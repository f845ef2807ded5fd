"""A correction is reviewed again before it is posted [004 篇六]: drafted by the clerk,
reviewed by the committee (and through 初审 / 复审 / 终审 if the original went through
them), then posted; refused at every step taken out of turn, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.domain.base import Actor
from ledger.domain.correction import Correction
from ledger.domain.disclosure import Disclosure
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidTransitionError, PermissionDeniedError
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, PARTY, RESIDENT, key, posted

MEMBER = Actor("陈红梅", Role.COMMITTEE_MEMBER)
FIXED: dict[str, Any] = {
    "title": "2026年7月低保发放公示(更正)",
    "body": "本月低保对象共13户。",
    "explanation": "原公示漏计一户。",
}


def verified(ledger: CommunityLedger, disclosure: str) -> str:
    objection = ledger.raise_objection(
        RESIDENT,
        key(),
        disclosure,
        disclosure_version=1,
        objector="刘*华",
        form="written",
        content="漏计一户",
    ).result["id"]
    ledger.verify_objection(PARTY, key(), objection, finding="属实")
    return str(objection)


def confidential(ledger: CommunityLedger) -> str:
    """A disclosure posted after 保密审查's three stages."""
    d = str(ledger.draft_disclosure(CLERK, key(), **DRAFT).result["id"])
    ledger.submit_for_review(CLERK, key(), d)
    for who, stage in (
        (CLERK, "first"),
        (CHAIR, "second"),
        (PARTY, "final"),
        (CHAIR, "committee"),
        (PARTY, "party_branch"),
    ):
        ledger.review(who, key(), d, stage=stage, outcome="approved", opinion="同意")
    ledger.publish(
        CLERK, key(), d, channel="board", period_from="2026-07-01", period_until="2026-07-31"
    )
    return d


def review(ledger: CommunityLedger, who: Actor, oid: str, stage: str, ok: bool = True) -> None:
    outcome = "approved" if ok else "rejected"
    ledger.review_correction(who, key(), oid, stage=stage, outcome=outcome, opinion="意见")


def test_a_correction_is_refused_before_its_review_and_posted_after(
    ledger: CommunityLedger,
) -> None:
    d = posted(ledger)
    oid = verified(ledger, d)
    ledger.draft_correction(CLERK, key(), oid, **FIXED)
    before = ledger.head()
    with pytest.raises(InvalidTransitionError, match="监委会审核"):
        ledger.publish_correction(CLERK, key(), oid)
    assert ledger.head() == before
    assert ledger.get(Disclosure, d, "disclosure").content_version == 1, "not yet corrected"
    review(ledger, MEMBER, oid, "committee")
    review(ledger, PARTY, oid, "party_branch")
    done = ledger.publish_correction(CLERK, key(), oid)
    disclosure = ledger.get(Disclosure, d, "disclosure")
    assert (disclosure.title, disclosure.body) == (FIXED["title"], FIXED["body"])
    assert done.result["version"] == 2
    assert ledger.get(Correction, oid, "objection").status.value == "corrected"


def test_the_correction_of_a_confidential_item_goes_through_the_three_stages(
    ledger: CommunityLedger,
) -> None:
    oid = verified(ledger, confidential(ledger))
    ledger.draft_correction(CLERK, key(), oid, **FIXED)
    review(ledger, CHAIR, oid, "committee")
    review(ledger, PARTY, oid, "party_branch")
    with pytest.raises(InvalidTransitionError, match="初审, 复审 and 终审"):
        ledger.publish_correction(CLERK, key(), oid)
    with pytest.raises(InvalidTransitionError, match="needs 初审"):
        review(ledger, CHAIR, oid, "second")
    review(ledger, CLERK, oid, "first")
    with pytest.raises(InvalidTransitionError, match="not finally approved"):
        ledger.publish_correction(CLERK, key(), oid)
    review(ledger, CHAIR, oid, "second")
    review(ledger, PARTY, oid, "final")
    assert ledger.publish_correction(CLERK, key(), oid).result["version"] == 2


def test_a_rejected_correction_is_drafted_again_and_reviewed_anew(
    ledger: CommunityLedger,
) -> None:
    oid = verified(ledger, posted(ledger))
    ledger.draft_correction(CLERK, key(), oid, **FIXED)
    review(ledger, CHAIR, oid, "committee", ok=False)
    assert ledger.get(Correction, oid, "objection").status.value == "correction_rejected"
    with pytest.raises(InvalidTransitionError, match="correction_rejected"):
        ledger.publish_correction(CLERK, key(), oid)
    with pytest.raises(InvalidTransitionError, match="correction_rejected"):
        review(ledger, CHAIR, oid, "committee")
    ledger.draft_correction(
        CLERK, key(), oid, **{**FIXED, "body": "本月低保对象共13户,名单附后。"}
    )
    with pytest.raises(InvalidTransitionError, match="监委会审核"):
        ledger.publish_correction(CLERK, key(), oid)  # the approvals of no earlier round count
    review(ledger, CHAIR, oid, "committee")
    review(ledger, PARTY, oid, "party_branch")
    ledger.publish_correction(CLERK, key(), oid)
    assert ledger.get(Disclosure, posted_id(ledger, oid), "disclosure").body.endswith("名单附后。")


def posted_id(ledger: CommunityLedger, oid: str) -> str:
    return str(ledger.get(Correction, oid, "objection").disclosure_id)


def test_no_correction_is_drafted_out_of_turn(ledger: CommunityLedger) -> None:
    d = posted(ledger)
    raised = ledger.raise_objection(
        RESIDENT, key(), d, disclosure_version=1, objector="刘*华", form="oral", content="错"
    ).result["id"]
    with pytest.raises(InvalidTransitionError, match="raised"):
        ledger.draft_correction(CLERK, key(), raised, **FIXED)
    ledger.dismiss_objection(CHAIR, key(), raised, reason="不属实")
    with pytest.raises(InvalidTransitionError, match="dismissed"):
        ledger.draft_correction(CLERK, key(), raised, **FIXED)
    oid = verified(ledger, d)
    ledger.draft_correction(CLERK, key(), oid, **FIXED)
    with pytest.raises(InvalidTransitionError, match="correction_submitted"):
        ledger.draft_correction(CLERK, key(), oid, **FIXED)  # once under review, it is reviewed
    withdrawn = posted(ledger)
    late = verified(ledger, withdrawn)
    ledger.withdraw(CLERK, key(), withdrawn, reason="撤回")
    with pytest.raises(InvalidTransitionError, match="withdrawn"):
        ledger.draft_correction(CLERK, key(), late, **FIXED)


def test_only_the_clerk_drafts_and_posts_and_each_stage_its_roles_review(
    ledger: CommunityLedger,
) -> None:
    oid = verified(ledger, posted(ledger))
    with pytest.raises(PermissionDeniedError):
        ledger.draft_correction(RESIDENT, key(), oid, **FIXED)
    ledger.draft_correction(CLERK, key(), oid, **FIXED)
    before = ledger.head()
    for who, stage in ((CLERK, "committee"), (RESIDENT, "committee"), (MEMBER, "final")):
        with pytest.raises(PermissionDeniedError):
            review(ledger, who, oid, stage)
    review(ledger, CHAIR, oid, "committee")
    with pytest.raises(PermissionDeniedError):
        ledger.publish_correction(CHAIR, key(), oid)
    assert ledger.head().seq == before.seq + 1
