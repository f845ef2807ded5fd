"""Review seals in the ledger, on both backends: the chair registers a member's key, and
from then on every review by that member must carry a seal the ledger checks against
the version under review before anything is stored. Each forgery is refused and leaves
the chain as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest

from ledger.application import CommunityLedger
from ledger.domain.base import Actor
from ledger.domain.disclosure import Disclosure
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidInputError, InvalidTransitionError, PermissionDeniedError
from ledger.seal.keys import KeyKind, generate_key
from ledger.seal.review_seal import ReviewSealError, SealedReview, sign_review
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, PARTY, key

MEMBER = Actor("chenhongmei", Role.COMMITTEE_MEMBER)
OTHER_MEMBER = Actor("zhoujie", Role.COMMITTEE_MEMBER)
MEMBER_KEY = generate_key("committee.gongkai.example/tianhai/chenhongmei", KeyKind.COSIGNER)
OTHER_KEY = generate_key("committee.gongkai.example/tianhai/zhoujie", KeyKind.COSIGNER)


def submitted(ledger: CommunityLedger, **content: Any) -> str:
    d = str(ledger.draft_disclosure(CLERK, key(), **{**DRAFT, **content}).result["id"])
    ledger.submit_for_review(CLERK, key(), d)
    return d


def review_of(
    ledger: CommunityLedger, d: str, outcome: str = "approved", stage: str = "committee"
) -> SealedReview:
    """What the reviewer sees of ``d`` now, as the console shows it."""
    disclosure = ledger.get(Disclosure, d, "disclosure")
    return SealedReview(
        community_id=ledger.community.id,
        disclosure_id=UUID(d),
        version=disclosure.content_version,
        stage=stage,
        outcome=outcome,
        category=disclosure.category,
        scope=disclosure.scope.value,
        title=disclosure.title,
        body=disclosure.body,
        attachments=tuple(disclosure.attachments),
    )


def sealed_review(
    ledger: CommunityLedger, d: str, seal: tuple[str, str], actor: Actor = MEMBER
) -> Any:
    return ledger.review(
        actor,
        key(),
        d,
        stage="committee",
        outcome="approved",
        opinion="同意公开",
        seal_key=seal[0],
        seal_signature=seal[1],
    )


def refused(
    ledger: CommunityLedger, act: Callable[[], Any], error: type[Exception], match: str
) -> None:
    before = ledger.head()
    with pytest.raises(error, match=match):
        act()
    assert ledger.head() == before


def test_a_sealed_review_is_recorded_with_its_seal(ledger: CommunityLedger) -> None:
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey)
    d = submitted(ledger)
    seal = sign_review(MEMBER_KEY, review_of(ledger, d))
    sealed_review(ledger, d, seal)
    event = ledger.entries(after=ledger.head().seq - 1, limit=1)[0]
    assert event.topic == "gongkai/disclosure/reviewed"
    disclosure = ledger.get(Disclosure, d, "disclosure")
    assert disclosure.status.value == "submitted"  # approved in this round
    assert seal[0].encode() in event.state
    assert seal[1].encode() in event.state


def test_once_registered_every_review_by_the_member_is_sealed(ledger: CommunityLedger) -> None:
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey)
    d = submitted(ledger)
    refused(
        ledger,
        lambda: ledger.review(MEMBER, key(), d, stage="committee", outcome="approved", opinion=""),
        ReviewSealError,
        "must carry the seal",
    )


def test_a_seal_by_an_unregistered_key_is_refused(ledger: CommunityLedger) -> None:
    d = submitted(ledger)
    seal = sign_review(MEMBER_KEY, review_of(ledger, d))
    refused(ledger, lambda: sealed_review(ledger, d, seal), ReviewSealError, "no seal key")


def test_a_seal_by_another_members_key_is_refused(ledger: CommunityLedger) -> None:
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey)
    ledger.register_seal_key(CHAIR, key(), member=OTHER_MEMBER.name, vkey=OTHER_KEY.vkey)
    d = submitted(ledger)
    theirs = sign_review(OTHER_KEY, review_of(ledger, d))
    refused(ledger, lambda: sealed_review(ledger, d, theirs), ReviewSealError, "not the key")


def test_a_seal_over_another_version_is_refused(ledger: CommunityLedger) -> None:
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey)
    d = submitted(ledger)
    seal_of_v1 = sign_review(MEMBER_KEY, review_of(ledger, d))
    # The member seals version 1; the clerk's revision makes it version 2 before the
    # review is recorded.
    ledger.review(PARTY, key(), d, stage="party_branch", outcome="rejected", opinion="补充")
    ledger.revise_draft(CLERK, key(), d, **{**DRAFT, "body": DRAFT["body"] + "名单附后。"})
    ledger.submit_for_review(CLERK, key(), d)
    refused(ledger, lambda: sealed_review(ledger, d, seal_of_v1), ReviewSealError, "signature")
    sealed_review(ledger, d, sign_review(MEMBER_KEY, review_of(ledger, d)))  # of version 2


def test_a_seal_over_other_attachment_bytes_is_refused(ledger: CommunityLedger) -> None:
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey)
    d = submitted(ledger, attachments=["ab" * 32])
    other_files = replace(review_of(ledger, d), attachments=("cd" * 32,))
    seal = sign_review(MEMBER_KEY, other_files)
    refused(ledger, lambda: sealed_review(ledger, d, seal), ReviewSealError, "signature")


def test_a_rejection_is_sealed_over_its_outcome(ledger: CommunityLedger) -> None:
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey)
    d = submitted(ledger)
    approval = sign_review(MEMBER_KEY, review_of(ledger, d, "approved"))

    def reject_with_approvals_seal() -> Any:
        return ledger.review(
            MEMBER, key(), d, stage="committee", outcome="rejected", opinion="不同意",
            seal_key=approval[0], seal_signature=approval[1],
        )  # fmt: skip

    refused(ledger, reject_with_approvals_seal, ReviewSealError, "signature")


def test_only_the_chair_registers_and_only_cosigner_keys(ledger: CommunityLedger) -> None:
    for actor in (CLERK, MEMBER, PARTY):
        refused(
            ledger,
            lambda a=actor: ledger.register_seal_key(a, key(), member="x", vkey=MEMBER_KEY.vkey),
            PermissionDeniedError,
            "may not register seal key",
        )
    log_key = generate_key("gongkai.example/tianhai", KeyKind.LOG)
    for vkey, match in ((log_key.vkey, "type 0x04"), ("not a key", "not <name>")):
        refused(
            ledger,
            lambda v=vkey: ledger.register_seal_key(CHAIR, key(), member="x", vkey=v),
            InvalidInputError,
            match,
        )


def test_a_new_key_replaces_the_old_one(ledger: CommunityLedger) -> None:
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=OTHER_KEY.vkey)
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey)
    assert ledger.registered_seal_key(MEMBER.name).vkey == MEMBER_KEY.vkey  # type: ignore[union-attr]
    d = submitted(ledger)
    old = sign_review(OTHER_KEY, review_of(ledger, d))
    refused(ledger, lambda: sealed_review(ledger, d, old), ReviewSealError, "not the key")
    sealed_review(ledger, d, sign_review(MEMBER_KEY, review_of(ledger, d)))
    topics = [e.topic for e in ledger.entries(after=0, limit=50)]
    assert topics.count("gongkai/seal-key/registered") == 1
    assert topics.count("gongkai/seal-key/replaced") == 1


def test_a_key_registered_again_is_refused(ledger: CommunityLedger) -> None:
    ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey)
    refused(
        ledger,
        lambda: ledger.register_seal_key(CHAIR, key(), member=MEMBER.name, vkey=MEMBER_KEY.vkey),
        InvalidTransitionError,
        "already",
    )


def test_a_reviewer_without_a_key_reviews_unsealed(ledger: CommunityLedger) -> None:
    d = submitted(ledger)
    ledger.review(PARTY, key(), d, stage="party_branch", outcome="approved", opinion="")
    event = ledger.entries(after=ledger.head().seq - 1, limit=1)[0]
    assert b'"seal_key":""' in event.state
