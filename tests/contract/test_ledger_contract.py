"""The ledger's contract, held to on SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import itertools
import threading
import uuid
from typing import Any

import pytest

from ledger.application import CommunityLedger, Ledger
from ledger.chain.idempotency import scoped_key
from ledger.chain.verify import verify_store
from ledger.domain.base import Actor
from ledger.domain.correction import Correction
from ledger.domain.disclosure import Disclosure
from ledger.domain.finance import FinanceEntry
from ledger.domain.vocabulary import Role
from ledger.errors import (
    IdempotencyKeyReusedError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    UnknownCommunityError,
)
from ledger.store.backend import Store
from ledger.store.base import CommandRecord, Community, DuplicateCommandError

CLERK = Actor("李娜", Role.CLERK)
CHAIR = Actor("王建国", Role.COMMITTEE_CHAIR)
PARTY = Actor("赵志刚", Role.PARTY_REVIEWER)
RESIDENT = Actor("刘*华", Role.RESIDENT)
VOUCHER = hashlib.sha256(b"voucher").hexdigest()

DRAFT: dict[str, Any] = {
    "category": "social_assistance",
    "title": "2026年7月低保发放公示",
    "body": "本月低保对象共12户,发放金额合计18,600元。",
    "scope": "public",
    "planned_from": "2026-07-01",
    "planned_until": "2026-07-31",
}


def key() -> str:
    return str(uuid.uuid4())


def approve(ledger: CommunityLedger, disclosure: str, scope: str = "public") -> None:
    """The reviews the seeds' gates ask before an item of ``scope`` is posted: for one
    not public, the confidentiality review by three people (初审 the clerk, 复审 the
    chair, 终审 the party branch); then the committee's 审核 and the party branch's 审查."""
    steps = [("first", CLERK), ("second", CHAIR), ("final", PARTY)] if scope != "public" else []
    for stage, who in [*steps, ("committee", CHAIR), ("party_branch", PARTY)]:
        ledger.review(who, key(), disclosure, stage=stage, outcome="approved", opinion="同意")


def posted(ledger: CommunityLedger) -> str:
    """A disclosure taken through review to the board; returns its ID."""
    disclosure = ledger.draft_disclosure(CLERK, key(), **DRAFT).result["id"]
    ledger.submit_for_review(CLERK, key(), disclosure)
    approve(ledger, disclosure)
    ledger.publish(
        CLERK,
        key(),
        disclosure,
        channel="board",
        period_from="2026-07-01",
        period_until="2026-07-31",
    )
    return str(disclosure)


def test_commands_are_chained_and_verify(ledger: CommunityLedger, store: Store) -> None:
    posted(ledger)
    head = ledger.head()
    assert head.seq == 6  # chart of accounts + five disclosure events
    result = verify_store(store, ledger.community.id)
    assert (result.count, result.head) == (6, head)
    entries = ledger.entries(after=0, limit=10)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    assert [e.topic for e in entries[1:]] == [
        "gongkai/disclosure/drafted",
        "gongkai/disclosure/submitted-for-review",
        "gongkai/disclosure/reviewed",
        "gongkai/disclosure/reviewed",
        "gongkai/disclosure/published",
    ]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))


def test_notification_log_is_the_chain(ledger: CommunityLedger) -> None:
    """Projections read eventsourcing's notification log; its IDs are the chain's seq."""
    posted(ledger)
    notifications = ledger.notification_log.select(start=1, limit=10)
    assert [n.id for n in notifications] == [1, 2, 3, 4, 5, 6]
    assert ledger.recorder.max_notification_id() == 6
    assert [n.id for n in ledger.recorder.select_notifications(start=3, limit=2)] == [3, 4]


def test_every_event_names_actor_role_and_time(ledger: CommunityLedger) -> None:
    disclosure = posted(ledger)
    aggregate = ledger.get(Disclosure, disclosure, "disclosure")
    events = list(ledger.events.get(aggregate.id))
    assert [(e.actor, e.actor_role) for e in events] == [  # type: ignore[attr-defined]
        ("李娜", "clerk"),
        ("李娜", "clerk"),
        ("王建国", "committee_chair"),
        ("赵志刚", "party_reviewer"),
        ("李娜", "clerk"),
    ]
    assert all(e.timestamp.tzinfo is not None for e in events)


def test_correction_points_at_the_original_and_its_chain_entry(ledger: CommunityLedger) -> None:
    disclosure = posted(ledger)
    drafted_seq = 2
    objection = ledger.raise_objection(
        RESIDENT,
        key(),
        disclosure,
        disclosure_version=1,
        objector="刘*华",
        form="written",
        content="公示金额与实际发放不符",
    ).result["id"]
    ledger.verify_objection(PARTY, key(), objection, finding="经核实,金额少计一户")
    ledger.draft_correction(
        CLERK,
        key(),
        objection,
        title="2026年7月低保发放公示(更正)",
        body="本月低保对象共13户,发放金额合计20,150元。",
        explanation="原公示漏计一户,现予更正。",
    )
    for who, stage in ((CHAIR, "committee"), (PARTY, "party_branch")):
        ledger.review_correction(
            who, key(), objection, stage=stage, outcome="approved", opinion="同意"
        )
    done = ledger.publish_correction(CLERK, key(), objection)
    assert done.result["corrects_seq"] == drafted_seq
    assert done.result["version"] == 2
    assert done.last_seq == done.first_seq + 1  # new version and correction, one transaction
    correction = ledger.get(Correction, objection, "objection")
    assert correction.status.value == "corrected"
    updated = ledger.get(Disclosure, disclosure, "disclosure")
    assert (updated.title, updated.content_version) == ("2026年7月低保发放公示(更正)", 2)
    # The original version is still on the record, unchanged.
    original = next(e for e in ledger.entries(limit=20) if e.seq == drafted_seq)
    assert "本月低保对象共12户" in original.state.decode()


def test_reversal_is_a_red_entry_pointing_at_the_original(ledger: CommunityLedger) -> None:
    entry = ledger.record_entry(
        CLERK,
        key(),
        kind="expense",
        amount_fen=42_000,
        account="office",
        counterparty="文具店",
        voucher_sha256=VOUCHER,
        period="2026-07",
    ).result["id"]
    reversal = ledger.reverse_entry(
        CLERK, key(), entry, period="2026-08", voucher_sha256=VOUCHER, reason="重复记账"
    ).result["id"]
    red = ledger.get(FinanceEntry, reversal, "finance entry")
    assert (red.amount_fen, red.reverses) == (-42_000, uuid.UUID(entry))
    assert ledger.get(FinanceEntry, entry, "finance entry").reversed_by == uuid.UUID(reversal)
    with pytest.raises(InvalidTransitionError, match="already reversed"):
        ledger.reverse_entry(
            CLERK, key(), entry, period="2026-08", voucher_sha256=VOUCHER, reason="again"
        )


# --- idempotency ---------------------------------------------------------------------------


def test_a_retry_answers_the_first_result_and_stores_nothing(ledger: CommunityLedger) -> None:
    first = ledger.draft_disclosure(CLERK, "retry-1", **DRAFT)
    head = ledger.head()
    again = ledger.draft_disclosure(CLERK, "retry-1", **DRAFT)
    assert again.replayed
    assert not first.replayed
    assert (again.result, again.first_seq, again.last_seq) == (
        first.result,
        first.first_seq,
        first.last_seq,
    )
    assert ledger.head() == head


def test_a_key_reused_for_another_command_is_refused(ledger: CommunityLedger) -> None:
    ledger.draft_disclosure(CLERK, "reused", **DRAFT)
    head = ledger.head()
    with pytest.raises(IdempotencyKeyReusedError, match="reused"):
        ledger.draft_disclosure(CLERK, "reused", **{**DRAFT, "title": "另一个标题"})
    assert ledger.head() == head


def test_a_lost_acknowledgement_is_answered_from_the_store(ledger: CommunityLedger) -> None:
    """The first attempt committed but its caller never heard; the retry finds it."""
    real_find = ledger.chain.find_command
    calls = {"n": 0}

    def find_missing_once(k: str) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_find(k)

    first = ledger.draft_disclosure(CLERK, "lost-ack", **DRAFT)
    head = ledger.head()
    ledger.chain.find_command = find_missing_once  # type: ignore[method-assign]
    try:
        # The look-up misses, the command runs again, and the store refuses the
        # duplicate key inside the transaction; the retry then answers the first result.
        again = ledger.draft_disclosure(CLERK, "lost-ack", **DRAFT)
    finally:
        ledger.chain.find_command = real_find  # type: ignore[method-assign]
    assert again.replayed
    assert again.result == first.result
    assert ledger.head() == head


def test_the_store_rolls_back_events_of_a_duplicate_key(ledger: CommunityLedger) -> None:
    ledger.draft_disclosure(CLERK, "dup", **DRAFT)
    head = ledger.head()
    disclosure = Disclosure.draft(CLERK, **ledger._content(**DRAFT, attachments=()))
    stored = [ledger.mapper.to_stored_event(e) for e in disclosure.collect_events()]
    # The key as the ledger stores it: within the clerk's own account.
    record = CommandRecord(scoped_key(CLERK.name, "dup"), b"x" * 32, "{}")
    with pytest.raises(DuplicateCommandError):
        ledger.recorder.insert_events(stored, command=record)
    assert ledger.head() == head


def test_concurrent_retries_store_once(ledger: CommunityLedger) -> None:
    results: list[Any] = []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        barrier.wait()
        results.append(ledger.draft_disclosure(CLERK, "racing", **DRAFT))

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.result["id"] for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert ledger.head().seq == 2


# --- bad input stores nothing --------------------------------------------------------------


def _bad_commands(
    ledger: CommunityLedger, draft_id: str
) -> list[tuple[Any, type[Exception], str]]:
    entry = {
        "kind": "expense",
        "amount_fen": 100,
        "account": "office",
        "counterparty": "文具店",
        "voucher_sha256": VOUCHER,
        "period": "2026-07",
    }

    def record(**changes: Any) -> Any:
        return lambda: ledger.record_entry(CLERK, key(), **{**entry, **changes})

    def draft(**changes: Any) -> Any:
        return lambda: ledger.draft_disclosure(CLERK, key(), **{**DRAFT, **changes})

    return [
        (draft(category="gossip"), InvalidInputError, "unknown category 'gossip'"),
        (draft(title=""), InvalidInputError, "title must not be empty"),
        (draft(title="   "), InvalidInputError, "title must not be empty"),
        (draft(scope="everyone"), InvalidInputError, "unknown scope"),
        (draft(planned_until="2026-06-01"), InvalidInputError, "ends before it starts"),
        (draft(planned_from="2026-13-01"), InvalidInputError, "YYYY-MM-DD"),
        (draft(attachments=["abc"]), InvalidInputError, "SHA-256"),
        (record(amount_fen=-100), InvalidInputError, "must be positive"),
        (record(amount_fen=0), InvalidInputError, "must be positive"),
        (record(amount_fen=12.5), InvalidInputError, "whole number of fen"),
        (record(amount_fen="100"), InvalidInputError, "whole number of fen"),
        (record(amount_fen=True), InvalidInputError, "whole number of fen"),
        (record(account="yacht"), InvalidInputError, "unknown account 'yacht'"),
        (record(account="salary", kind="income"), InvalidInputError, "is for expense"),
        (record(period="2026-7"), InvalidInputError, "YYYY-MM"),
        (record(voucher_sha256="A" * 64), InvalidInputError, "SHA-256"),
        (record(counterparty=""), InvalidInputError, "counterparty must not be empty"),
        (
            lambda: ledger.review(
                CHAIR, key(), draft_id, stage="committee", outcome="approved", opinion="同意"
            ),
            InvalidTransitionError,
            "cannot review a disclosure that is draft",
        ),
        (
            lambda: ledger.publish(
                CLERK,
                key(),
                draft_id,
                channel="board",
                period_from="2026-07-01",
                period_until="2026-07-31",
            ),
            InvalidTransitionError,
            "cannot publish a disclosure that is draft",
        ),
        (
            lambda: ledger.review(
                CLERK, key(), draft_id, stage="committee", outcome="approved", opinion="同意"
            ),
            PermissionDeniedError,
            "监委会审核",
        ),
        (
            lambda: ledger.draft_disclosure(RESIDENT, key(), **DRAFT),
            PermissionDeniedError,
            "may not draft disclosure",
        ),
        (
            lambda: ledger.submit_for_review(CLERK, key(), str(uuid.uuid4())),
            NotFoundError,
            "no disclosure",
        ),
        (
            lambda: ledger.submit_for_review(CLERK, key(), "not-a-uuid"),
            InvalidInputError,
            "is not a UUID",
        ),
        (
            lambda: ledger.draft_disclosure(CLERK, "", **DRAFT),
            InvalidInputError,
            "idempotency key",
        ),
    ]


def test_bad_input_gets_a_clear_error_and_stores_nothing(ledger: CommunityLedger) -> None:
    draft_id = ledger.draft_disclosure(CLERK, key(), **DRAFT).result["id"]
    head = ledger.head()
    for command, error, message in _bad_commands(ledger, draft_id):
        with pytest.raises(error, match=message):
            command()
        assert ledger.head() == head, message


def test_an_unknown_community_is_refused(store: Store) -> None:
    with Ledger(store) as whole, pytest.raises(UnknownCommunityError, match="nowhere"):
        whole.community("nowhere")


@pytest.mark.parametrize("bad_id", ["", "X", "1abc", "ab-cd", "a" * 40, "tian hai"])
def test_a_community_id_that_cannot_name_tables_is_refused(store: Store, bad_id: str) -> None:
    with pytest.raises(InvalidInputError, match="community ID"):
        store.add_community(Community(bad_id, "社区"))


def test_a_community_cannot_be_renamed_by_adding_it_again(
    store: Store, ledger: CommunityLedger
) -> None:
    from ledger.errors import StoreError

    with pytest.raises(StoreError, match="already exists"):
        store.add_community(Community(ledger.community.id, "别的社区"))
    store.add_community(Community(ledger.community.id, "测试社区"))  # same name: no-op
