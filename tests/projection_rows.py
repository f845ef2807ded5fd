"""Chain rows for the tests of the read models: a real ledger's, and made-up ones.

The real rows come from the ledger itself (so the tests read exactly what the ledger
stores); the made-up rows cover what a real ledger would refuse to record (events of
disclosures never drafted, topics that are not gongkai's), and give Hypothesis something
cheap to vary.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.domain.base import Actor
from ledger.domain.vocabulary import Role
from ledger.store import open_store
from ledger.store.base import Community, RawRow
from projections.db import ReadDB
from projections.runner import Projection, ProjectionRunner

CLERK = Actor("李娜", Role.CLERK)
CHAIR = Actor("王建国", Role.COMMITTEE_CHAIR)
PARTY = Actor("赵志刚", Role.PARTY_REVIEWER)
AUDITOR = Actor("陈静", Role.DISCIPLINARY_AUDITOR)
RESIDENT = Actor("刘*华", Role.RESIDENT)
VOUCHER = hashlib.sha256(b"voucher").hexdigest()
PHOTO = hashlib.sha256(b"photo").hexdigest()

DRAFT: dict[str, Any] = {
    "category": "social_assistance",
    "title": "2026年7月低保发放公示",
    "body": "本月低保对象共12户。\n发放金额合计18,600元。\n监督电话:12345。",
    "scope": "public",
    "planned_from": "2026-07-01",
    "planned_until": "2026-07-31",
}


class Source:
    """A fake ledger: the rows given, read as the runner reads a community's chain."""

    def __init__(self, rows: Sequence[RawRow]) -> None:
        self.rows = list(rows)

    def __call__(self, community_id: str, after: int, limit: int) -> Sequence[RawRow]:
        return self.rows[after : after + limit]


def key() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Story:
    """What the real ledger recorded in :func:`record_story`, and the IDs it made."""

    rows: list[RawRow]
    disclosure: str
    objection: str  # verified, and answered by a correction
    dismissed: str  # an objection dismissed
    entry: str  # a finance entry, reversed
    reversal: str


def record_story(store_url: str, community_id: str) -> Story:
    """A disclosure's whole life in a real ledger: drafted, revised, rejected, revised,
    reviewed through every stage, posted, objected to twice (one objection dismissed,
    one verified and corrected), withdrawn and archived; and a finance entry reversed."""
    store = open_store(store_url)
    store.init_schema(service_role=None)
    whole = Ledger(store)
    try:
        ledger = whole.add_community(Community(community_id, "天海社区"))
        d = ledger.draft_disclosure(CLERK, key(), **DRAFT).result["id"]
        revised = {**DRAFT, "body": DRAFT["body"].replace("18,600", "18,800")}
        ledger.revise_draft(CLERK, key(), d, **revised)
        ledger.submit_for_review(CLERK, key(), d)
        ledger.review(CHAIR, key(), d, stage="committee", outcome="rejected", opinion="缺少名单")
        listed = {**revised, "body": revised["body"] + "\n名单附后。", "attachments": [PHOTO]}
        ledger.revise_draft(CLERK, key(), d, **listed)
        ledger.submit_for_review(CLERK, key(), d)
        ledger.review(CHAIR, key(), d, stage="committee", outcome="approved", opinion="同意")
        ledger.review(PARTY, key(), d, stage="party_branch", outcome="approved", opinion="")
        ledger.review(CLERK, key(), d, stage="first", outcome="approved", opinion="无涉密")
        ledger.review(CHAIR, key(), d, stage="second", outcome="approved", opinion="同意")
        ledger.review(PARTY, key(), d, stage="final", outcome="approved", opinion="同意公开")
        ledger.publish(
            CLERK, key(), d, channel="board", period_from="2026-07-01", period_until="2026-07-31"
        )
        dismissed = ledger.raise_objection(
            RESIDENT, key(), d, disclosure_version=3, objector="刘*华", form="oral", content="太晚"
        ).result["id"]
        ledger.dismiss_objection(AUDITOR, key(), dismissed, reason="公示时间符合规定")
        objection = ledger.raise_objection(
            RESIDENT,
            key(),
            d,
            disclosure_version=3,
            objector="刘*华",
            form="written",
            content="漏计一户",
        ).result["id"]
        ledger.verify_objection(PARTY, key(), objection, finding="经核实,少计一户")
        ledger.draft_correction(
            CLERK,
            key(),
            objection,
            title="2026年7月低保发放公示(更正)",
            body="本月低保对象共13户。\n发放金额合计20,350元。\n监督电话:12345。\n名单附后。",
            explanation="原公示漏计一户,现予更正。",
        )
        # Reviewed as the original was: the committee, then 初审, 复审 and 终审, and the
        # party branch's 审查.
        for who, stage in (
            (CHAIR, "committee"),
            (CLERK, "first"),
            (CHAIR, "second"),
            (PARTY, "final"),
            (PARTY, "party_branch"),
        ):
            ledger.review_correction(
                who, key(), objection, stage=stage, outcome="approved", opinion="同意"
            )
        ledger.publish_correction(CLERK, key(), objection)
        ledger.withdraw(CLERK, key(), d, reason="公示期满")
        ledger.archive(CLERK, key(), d)
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
        rows = list(store.seal(community_id).chain_rows(0, 10_000))
    finally:
        whole.close()
        store.close()
    return Story(rows, str(d), str(objection), str(dismissed), str(entry), str(reversal))


def catch_up(db: ReadDB, projection: Projection, community_id: str, rows: Sequence[RawRow]) -> int:
    runner = ProjectionRunner(db, [projection], Source(rows), batch=7)
    runner.setup()
    return runner.catch_up(community_id)


def table_rows(db: ReadDB, table: str, community_id: str) -> list[tuple[Any, ...]]:
    """A table's rows of one community, in an order that does not depend on the backend."""
    with db.reading() as tx:
        rows = tx.query(f"SELECT * FROM {table} WHERE community = ?", (community_id,))
    return sorted(rows, key=repr)


# --- made-up rows ------------------------------------------------------------------------

OIDS = [uuid.UUID(int=i + 1) for i in range(3)]
TOPICS = [
    *(
        f"gongkai/disclosure/{kind}"
        for kind in (
            "drafted",
            "draft-revised",
            "submitted-for-review",
            "reviewed",
            "published",
            "corrected",
            "withdrawn",
            "archived",
        )
    ),
    *(
        f"gongkai/correction/{kind}"
        for kind in (
            "objection-raised",
            "objection-verified",
            "objection-dismissed",
            "correction-published",
        )
    ),
    "gongkai/finance/entry-recorded",
    "gongkai/finance/entry-reversed",
    "gongkai/finance/chart-adopted",
    "other/app/thing-happened",
]


def uuid_value(oid: uuid.UUID) -> dict[str, str]:
    """A UUID as eventsourcing stores it in an event's state."""
    return {"_type_": "uuid_hex", "_data_": oid.hex}


def made_up_row(seq: int, oid: uuid.UUID, topic: str, n: int, version: int = 1) -> RawRow:
    """A row of ``topic`` whose state has every field any event has, varied by ``n``."""
    other = OIDS[n % len(OIDS)]
    state = {
        "timestamp": {
            "_type_": "datetime_iso",
            "_data_": f"2026-07-{1 + n % 28:02d}T08:00:00+00:00",
        },
        "actor": ["李娜", "王建国", "赵志刚"][n % 3],
        "actor_role": ["clerk", "committee_chair", "party_reviewer"][n % 3],
        "category": ["finance", "tenders"][n % 2],
        "scope": ["public", "internal"][n % 2],
        "title": f"标题 {n % 4}",
        "body": "\n".join(f"第{i}行 {n % (i + 2)}" for i in range(n % 4 + 1)),
        "attachments": [f"{n % 3:064x}"][: n % 2],
        "stage": "committee",
        "outcome": ["approved", "rejected"][n % 2],
        "opinion": f"意见 {n}",
        "reason": f"理由 {n}",
        "finding": f"核实 {n}",
        "explanation": f"说明 {n}",
        "content": f"异议 {n}",
        "memo": f"备注 {n}",
        "objector": "刘*华",
        "form": "written",
        "disclosure_id": uuid_value(other),
        "disclosure_version": n % 3 + 1,
        "correction_id": uuid_value(other),
        "corrects_version": n % 3 + 1,
        "corrects_seq": n,
        "new_version": n % 3 + 2,
        "reverses": uuid_value(other) if n % 2 else None,
        "reversal_id": uuid_value(other),
    }
    data = json.dumps(state, ensure_ascii=False).encode()
    return (seq, b"", b"", oid.bytes, version, topic.encode(), data)


# Drafts are sampled more often, so that most runs have versions to revise and correct.
made_up_events = st.lists(
    st.tuples(
        st.sampled_from(OIDS),
        st.sampled_from([*TOPICS, "gongkai/disclosure/drafted", "gongkai/disclosure/drafted"]),
        st.integers(0, 11),
    ),
    max_size=40,
)


def made_up_rows(events: Sequence[tuple[uuid.UUID, str, int]]) -> list[RawRow]:
    """Rows of ``events``; each aggregate's versions count from 1, as the store keeps
    them (unique per aggregate), whatever its topics."""
    versions: dict[uuid.UUID, int] = {}
    rows = []
    for seq, (oid, topic, n) in enumerate(events, 1):
        versions[oid] = versions.get(oid, 0) + 1
        rows.append(made_up_row(seq, oid, topic, n, versions[oid]))
    return rows


def check_runs_agree(
    db: ReadDB,
    projection: Projection,
    rows: Sequence[RawRow],
    community: str,
    cuts: Sequence[int],
    batch: int,
    snapshot: Any,
) -> None:
    """The ledger grows in steps; a new runner (a restarted worker) catches up after each,
    and what ``snapshot(db, community)`` answers then is what the whole run must answer
    ``as_of`` that entry. Then a rebuild leaves the projection's tables as they were."""
    answered_then = {}
    for cut in [*sorted(set(cuts)), len(rows)]:
        cut = min(cut, len(rows))
        runner = ProjectionRunner(db, [projection], Source(rows[:cut]), batch)
        runner.setup()
        runner.catch_up(community)
        answered_then[cut] = snapshot(db, community)
    for cut, answered in answered_then.items():
        assert snapshot(db, community, as_of=cut) == answered, cut
    incremental = [table_rows(db, t, community) for t in projection.tables()]
    runner = ProjectionRunner(db, [projection], Source(rows), batch)
    assert runner.rebuild(community) == len(rows)
    assert [table_rows(db, t, community) for t in projection.tables()] == incremental
