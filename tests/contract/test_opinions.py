"""Opinions (意见) on a posted disclosure and the clerk's answers, on SQLite and
PostgreSQL alike: who may leave and answer them, when, once, and that a disclosure with
an unanswered opinion is not archived."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.chain.verify import verify_store
from ledger.domain.base import Actor
from ledger.domain.disclosure import Disclosure, Status
from ledger.domain.vocabulary import Role
from ledger.errors import (
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
)
from ledger.store.backend import Store
from tests.contract.test_ledger_contract import CHAIR, CLERK, DRAFT, RESIDENT, key, posted

REPRESENTATIVE = Actor("孙*明", Role.RESIDENT_REPRESENTATIVE)


def leave(ledger: CommunityLedger, disclosure: str, who: Actor = RESIDENT, **kw: Any) -> str:
    fields: dict[str, Any] = {"resident": "刘华", "text": "名单里漏了一户", "text_public": True}
    done = ledger.leave_opinion(who, key(), disclosure, **{**fields, **kw})
    return str(done.result["opinion_id"])


def count(ledger: CommunityLedger) -> int:
    return ledger.head().seq


def test_an_opinion_is_left_answered_and_then_the_item_archives(
    ledger: CommunityLedger, store: Store
) -> None:
    d = posted(ledger)
    first = leave(ledger, d)
    second = leave(ledger, d, REPRESENTATIVE, resident="孙明", text_public=False)
    assert first != second
    ledger.withdraw(CLERK, key(), d, reason="公示期满")
    with pytest.raises(InvalidTransitionError, match="not yet answered"):
        ledger.archive(CLERK, key(), d)
    ledger.answer_opinion(CLERK, key(), d, first, answer="已核实，下期补列。")
    with pytest.raises(InvalidTransitionError, match=r"1 opinion\(s\)"):
        ledger.archive(CLERK, key(), d)
    # Answered after the withdrawal: the resident is owed the answer all the same.
    ledger.answer_opinion(CLERK, key(), d, second, answer="已电话答复。")
    ledger.archive(CLERK, key(), d)
    assert verify_store(store, ledger.community.id).head == ledger.head()


def test_an_opinion_records_the_posted_version_the_name_and_the_choice(
    ledger: CommunityLedger,
) -> None:
    d = posted(ledger)
    leave(ledger, d, resident="刘华", text="请公开名单", text_public=False)
    event = ledger.entries(after=count(ledger) - 1)[0]
    assert event.topic == "gongkai/disclosure/opinion-left"
    state = json.loads(event.state)
    assert state["disclosure_version"] == 1
    assert (state["resident"], state["text"], state["text_public"]) == (
        "刘华",
        "请公开名单",
        False,
    )
    assert (state["actor"], state["actor_role"]) == (RESIDENT.name, "resident")


def test_no_opinion_on_an_item_not_posted(ledger: CommunityLedger) -> None:
    draft = str(ledger.draft_disclosure(CLERK, key(), **DRAFT).result["id"])
    before = count(ledger)
    with pytest.raises(
        InvalidTransitionError, match="leave an opinion on a disclosure that is draft"
    ):
        leave(ledger, draft)
    d = posted(ledger)
    ledger.withdraw(CLERK, key(), d, reason="撤回")
    with pytest.raises(InvalidTransitionError, match="withdrawn"):
        leave(ledger, d)
    # The second item's draft, submission, two reviews, posting, withdrawal.
    assert count(ledger) == before + 6


def test_an_opinion_is_answered_once_and_only_if_it_exists(ledger: CommunityLedger) -> None:
    d = posted(ledger)
    opinion = leave(ledger, d)
    ledger.answer_opinion(CLERK, key(), d, opinion, answer="已答复")
    before = count(ledger)
    with pytest.raises(InvalidTransitionError, match="already been answered"):
        ledger.answer_opinion(CLERK, key(), d, opinion, answer="再次答复")
    with pytest.raises(InvalidTransitionError, match="has no opinion"):
        ledger.answer_opinion(CLERK, key(), d, str(uuid.uuid4()), answer="答复")
    other = posted(ledger)
    with pytest.raises(InvalidTransitionError, match="has no opinion"):
        ledger.answer_opinion(CLERK, key(), other, leave(ledger, d), answer="答错了事项")
    with pytest.raises(InvalidInputError, match="opinion ID"):
        ledger.answer_opinion(CLERK, key(), d, "not-a-uuid", answer="答复")
    with pytest.raises(NotFoundError):
        ledger.answer_opinion(CLERK, key(), str(uuid.uuid4()), opinion, answer="答复")
    assert count(ledger) == before + 5 + 1  # the other item's five acts and one opinion


@pytest.mark.parametrize(
    ("who", "command"),
    [
        (CLERK, "leave"),
        (CHAIR, "leave"),
        (Actor("陈静", Role.DISCIPLINARY_AUDITOR), "leave"),
        (RESIDENT, "answer"),
        (REPRESENTATIVE, "answer"),
        (CHAIR, "answer"),
    ],
)
def test_only_residents_leave_and_only_the_clerk_answers(
    ledger: CommunityLedger, who: Actor, command: str
) -> None:
    d = posted(ledger)
    opinion = leave(ledger, d)
    before = count(ledger)
    act: Callable[[], object] = (
        (lambda: leave(ledger, d, who))
        if command == "leave"
        else (lambda: ledger.answer_opinion(who, key(), d, opinion, answer="答复"))
    )
    with pytest.raises(PermissionDeniedError):
        act()
    assert count(ledger) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("resident", ""),
        ("text", "   "),
        ("text", "x" * 5_001),
        ("text", "名单\u202e漏了"),  # a bidirectional control
        ("text_public", "yes"),
    ],
)
def test_a_bad_opinion_is_refused_and_stores_nothing(
    ledger: CommunityLedger, field: str, value: Any
) -> None:
    d = posted(ledger)
    before = count(ledger)
    with pytest.raises(InvalidInputError) as refused:
        leave(ledger, d, **{field: value})
    assert refused.value.field == field
    assert count(ledger) == before


def test_a_retried_opinion_is_stored_once(ledger: CommunityLedger) -> None:
    d = posted(ledger)
    k = key()
    fields: dict[str, Any] = {"resident": "刘华", "text": "意见", "text_public": True}
    first = ledger.leave_opinion(RESIDENT, k, d, **fields)
    again = ledger.leave_opinion(RESIDENT, k, d, **fields)
    assert again.replayed
    assert again.result == first.result
    assert count(ledger) == first.last_seq


def race(ledger: CommunityLedger, d: str) -> dict[str, str]:
    """Leave an opinion on ``d`` and archive it at the same moment; answers what came of
    each ("done" or "refused")."""
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def attempt(name: str, act: Callable[[], object]) -> None:
        barrier.wait()
        try:
            act()
            outcomes[name] = "done"
        except InvalidTransitionError:
            outcomes[name] = "refused"

    threads = [
        threading.Thread(target=attempt, args=("opinion", lambda: leave(ledger, d))),
        threading.Thread(
            target=attempt, args=("archive", lambda: ledger.archive(CLERK, key(), d))
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_an_opinion_left_as_the_item_is_archived_never_leaves_it_unanswered(
    ledger: CommunityLedger,
) -> None:
    """Either the opinion is in and the archive refused, or the archive is in and the
    opinion refused; never an archived item with an unanswered opinion (the runner
    retries on a version conflict and checks the aggregate again)."""
    for _ in range(6):
        d = posted(ledger)
        outcomes = race(ledger, d)
        assert sorted(outcomes.values()) == ["done", "refused"], outcomes
        disclosure = ledger.get(Disclosure, d, "disclosure")
        archived = disclosure.status is Status.ARCHIVED
        assert archived == (outcomes["archive"] == "done")
        assert not (archived and disclosure.unanswered_opinions())
