"""The review gates on SQLite and PostgreSQL (:mod:`ledger.domain.gates`): by default the
seeds' rules hold, and each refusal stores nothing. Publishing without the party
branch's 审查; the same person at 复审 and 终审; an item not public posted without
保密审查; 收支明细 given the public scope, as a draft, a revision or an obligation; a
correction without 审查. A community that records another choice, with its reason, is
held to that one; only the committee's chair records it."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.domain.gates import SEEDS_GATES, Gates
from ledger.errors import InvalidInputError, InvalidTransitionError, PermissionDeniedError
from tests.contract.test_corrections import FIXED, verified
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, PARTY, approve, key, posted

POSTING: dict[str, str] = {
    "channel": "board",
    "period_from": "2026-07-01",
    "period_until": "2026-07-31",
}
INTERNAL = {**DRAFT, "scope": "internal", "category": "income_expense"}


def submitted(ledger: CommunityLedger, **content: Any) -> str:
    did = str(ledger.draft_disclosure(CLERK, key(), **{**DRAFT, **content}).result["id"])
    ledger.submit_for_review(CLERK, key(), did)
    return did


def review(ledger: CommunityLedger, did: str, *steps: tuple[Any, str]) -> None:
    for who, stage in steps:
        ledger.review(who, key(), did, stage=stage, outcome="approved", opinion="同意")


def refused(ledger: CommunityLedger, match: str, act: Any) -> None:
    """``act`` is refused, naming the rule, and the chain does not move."""
    before = ledger.head()
    with pytest.raises((InvalidTransitionError, InvalidInputError), match=match):
        act()
    assert ledger.head() == before


def test_the_seeds_rules_hold_by_default(ledger: CommunityLedger) -> None:
    assert ledger.gates() == SEEDS_GATES
    assert Gates(True, True, True, True) == SEEDS_GATES


def test_publishing_without_the_party_branchs_review_is_refused(
    ledger: CommunityLedger,
) -> None:
    did = submitted(ledger)
    review(ledger, did, (CHAIR, "committee"))
    refused(ledger, "党支部审查", lambda: ledger.publish(CLERK, key(), did, **POSTING))
    review(ledger, did, (PARTY, "party_branch"))
    ledger.publish(CLERK, key(), did, **POSTING)


def test_the_same_person_may_not_sign_second_and_final_review(
    ledger: CommunityLedger,
) -> None:
    did = submitted(ledger, scope="internal", category="tenders")
    review(ledger, did, (CLERK, "first"), (CHAIR, "second"))
    refused(
        ledger,
        "王建国 signed 复审",
        lambda: review(ledger, did, (CHAIR, "final")),
    )
    review(ledger, did, (PARTY, "final"), (CHAIR, "committee"), (PARTY, "party_branch"))
    ledger.publish(CLERK, key(), did, **POSTING)


def test_an_item_not_public_needs_the_confidentiality_review(ledger: CommunityLedger) -> None:
    did = submitted(ledger, scope="leadership", category="tenders")
    review(ledger, did, (CHAIR, "committee"), (PARTY, "party_branch"))
    refused(ledger, "保密审查", lambda: ledger.publish(CLERK, key(), did, **POSTING))


def test_an_internal_category_cannot_be_given_the_public_scope(ledger: CommunityLedger) -> None:
    public_accounts = {**DRAFT, "category": "income_expense", "scope": "public"}
    refused(
        ledger, "所属内部人员", lambda: ledger.draft_disclosure(CLERK, key(), **public_accounts)
    )
    did = str(ledger.draft_disclosure(CLERK, key(), **INTERNAL).result["id"])
    refused(ledger, "社会公开", lambda: ledger.revise_draft(CLERK, key(), did, **public_accounts))
    refused(
        ledger,
        "所属内部人员",
        lambda: ledger.adopt_obligation(CLERK, key(), title="收支", category="income_expense",
                                        cadence="monthly", due_days=10, scope="public"),
    )  # fmt: skip
    # Its own scope is fine, through every gate.
    ledger.submit_for_review(CLERK, key(), did)
    approve(ledger, did, "internal")
    ledger.publish(CLERK, key(), did, **POSTING)


def test_a_correction_passes_the_same_gates(ledger: CommunityLedger) -> None:
    oid = verified(ledger, posted(ledger))
    ledger.draft_correction(CLERK, key(), oid, **FIXED)
    ledger.review_correction(CHAIR, key(), oid, stage="committee", outcome="approved",
                             opinion="同意")  # fmt: skip
    refused(ledger, "党支部审查", lambda: ledger.publish_correction(CLERK, key(), oid))
    ledger.review_correction(PARTY, key(), oid, stage="party_branch", outcome="approved",
                             opinion="同意")  # fmt: skip
    ledger.publish_correction(CLERK, key(), oid)


def test_a_community_records_its_own_choice_and_is_held_to_it(ledger: CommunityLedger) -> None:
    with pytest.raises(PermissionDeniedError):
        ledger.choose_gates(CLERK, key(), reason="试行", party_review=False)
    refused(ledger, "reason", lambda: ledger.choose_gates(CHAIR, key(), reason=" ",
                                                          party_review=False))  # fmt: skip
    refused(ledger, "no gate", lambda: ledger.choose_gates(CHAIR, key(), reason="试行",
                                                           party=False))  # fmt: skip
    refused(ledger, "true or false", lambda: ledger.choose_gates(CHAIR, key(), reason="试行",
                                                                 party_review="no"))  # fmt: skip
    ledger.choose_gates(CHAIR, key(), reason="党支部书记兼任监委会主任", party_review=False)
    assert ledger.gates() == Gates(party_review=False)
    did = submitted(ledger)
    review(ledger, did, (CHAIR, "committee"))
    ledger.publish(CLERK, key(), did, **POSTING)
    refused(
        ledger,
        "already in force",
        lambda: ledger.choose_gates(CHAIR, key(), reason="再次", party_review=False),
    )
    ledger.choose_gates(CHAIR, key(), reason="恢复审查")
    assert ledger.gates() == SEEDS_GATES
    again = submitted(ledger)
    review(ledger, again, (CHAIR, "committee"))
    refused(ledger, "党支部审查", lambda: ledger.publish(CLERK, key(), again, **POSTING))
