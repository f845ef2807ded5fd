"""Reports (举报) to the street disciplinary committee, on SQLite and PostgreSQL alike:
the reporter's identity sealed with HPKE to the committee's key before anything is
stored, so that no table, row or file holds it, nor the account that filed it, nor the
receipt code; opened only with the committee's private key; the chain still verifying;
and the auditor's acknowledgement, investigation steps and finding in order."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path

import pytest

from ledger.application import CommunityLedger, Ledger
from ledger.application.reports import receipt_sha256
from ledger.chain.verify import verify_store
from ledger.domain.base import Actor
from ledger.domain.report import Report, ReportStatus
from ledger.domain.vocabulary import Role
from ledger.errors import (
    InvalidInputError,
    InvalidTransitionError,
    PermissionDeniedError,
    VerificationError,
)
from ledger.sealed_identity import generate_key_pair, load_private_key, open_sealed
from ledger.store import open_store
from ledger.store.base import Community
from tests.conftest import SERVICE_ROLE
from tests.contract.test_ledger_contract import CLERK, key

AUDITOR = Actor("纪工委孙强", Role.DISCIPLINARY_AUDITOR)
# Names and contact found nowhere else in the store, so a scan for them is exact.
ACCOUNT = "jubao-" + uuid.uuid4().hex[:8]
REPORTER = Actor(ACCOUNT, Role.RESIDENT)
NAME = "钱多多举报人"
CONTACT = "13912345678-举报联系"
SUBJECT = "3号楼维修资金去向不明"


@pytest.fixture
def keyed(ledger: CommunityLedger) -> tuple[CommunityLedger, bytes]:
    pem, public = generate_key_pair()
    ledger.register_report_key(AUDITOR, key(), public_key=public.line)
    return ledger, pem


def file(ledger: CommunityLedger) -> tuple[str, str]:
    done = ledger.file_report(
        REPORTER,
        key(),
        subject=SUBJECT,
        text="维修基金账目与公示不符。",
        name=NAME,
        contact=CONTACT,
    )
    assert done.receipt is not None
    return str(done.result.result["id"]), done.receipt


def test_the_identity_opens_only_with_the_committee_key(
    keyed: tuple[CommunityLedger, bytes],
) -> None:
    ledger, pem = keyed
    report_id, _ = file(ledger)
    (entry,) = [e for e in ledger.entries() if e.topic == Report.Filed.TOPIC]
    state = json.loads(entry.state)
    assert state["actor"] == "举报人"
    assert state["subject"] == SUBJECT
    community = ledger.community.id
    opened = open_sealed(state["sealed_identity"], load_private_key(pem), community, report_id)
    assert (opened.account, opened.name, opened.contact) == (ACCOUNT, NAME, CONTACT)

    other_pem, _ = generate_key_pair()
    with pytest.raises(VerificationError):
        open_sealed(state["sealed_identity"], load_private_key(other_pem), community, report_id)
    # Moved onto another report, or to another community, it does not open.
    with pytest.raises(VerificationError):
        open_sealed(state["sealed_identity"], load_private_key(pem), community, str(uuid.uuid4()))
    with pytest.raises(VerificationError):
        open_sealed(state["sealed_identity"], load_private_key(pem), "other", report_id)
    # One changed byte fails the AEAD's tag.
    raw = bytearray(base64.b64decode(state["sealed_identity"]))
    raw[-1] ^= 1
    with pytest.raises(VerificationError):
        open_sealed(base64.b64encode(raw).decode(), load_private_key(pem), community, report_id)


def test_no_store_holds_the_identity_the_account_or_the_receipt(
    backend: str, isolated_store_url: str, tmp_path: Path
) -> None:
    store = open_store(isolated_store_url)
    store.init_schema(service_role=SERVICE_ROLE if backend == "postgres" else None)
    whole = Ledger(store)
    ledger = whole.add_community(Community("jubao", "举报测试社区"))
    _, public = generate_key_pair()
    ledger.register_report_key(AUDITOR, key(), public_key=public.line)
    idempotency = key()
    done = ledger.file_report(
        REPORTER, idempotency, subject=SUBJECT, text="账目不符。", name=NAME, contact=CONTACT
    )
    assert done.receipt is not None
    assert verify_store(store, "jubao").head == ledger.head()
    whole.close()

    stored = everything_stored(backend, isolated_store_url, tmp_path)
    assert SUBJECT.encode() in stored  # the scan does see what is stored
    receipt = done.receipt.replace("-", "")
    for secret in (NAME, CONTACT, ACCOUNT, receipt, hashlib.sha256(ACCOUNT.encode()).hexdigest()):
        assert secret.encode() not in stored, f"{secret!r} is stored in the clear"


def everything_stored(backend: str, url: str, tmp_path: Path) -> bytes:
    """Every byte of every file of a SQLite store; every value of every row of every
    table of a PostgreSQL database."""
    if backend == "sqlite":
        return b"".join(p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file())
    import psycopg

    chunks: list[bytes] = []
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert tables
        for schema, table in tables:
            for row in conn.execute(f'SELECT * FROM "{schema}"."{table}"'):
                # bytea as its bytes (the events' state is), everything else as text.
                chunks.extend(v if isinstance(v, bytes) else str(v).encode() for v in row)
    return b"\n".join(chunks)


def test_a_replay_files_nothing_more_and_gives_no_receipt(
    keyed: tuple[CommunityLedger, bytes],
) -> None:
    ledger, _ = keyed
    idempotency = key()
    first = ledger.file_report(
        REPORTER, idempotency, subject=SUBJECT, text="甲", name="", contact=""
    )
    again = ledger.file_report(
        REPORTER, idempotency, subject=SUBJECT, text="甲", name="", contact=""
    )
    assert again.result.replayed
    assert again.receipt is None
    assert again.result.result == first.result.result
    assert sum(e.topic == Report.Filed.TOPIC for e in ledger.entries()) == 1


def test_the_auditor_acknowledges_investigates_and_concludes(
    keyed: tuple[CommunityLedger, bytes],
) -> None:
    ledger, _ = keyed
    report_id, receipt = file(ledger)
    with pytest.raises(InvalidTransitionError):
        ledger.record_investigation_step(AUDITOR, key(), report_id, step="调阅账目")
    with pytest.raises(InvalidTransitionError):
        ledger.conclude_report(AUDITOR, key(), report_id, finding="substantiated", conclusion="x")
    ledger.acknowledge_report(AUDITOR, key(), report_id, note="已受理")
    with pytest.raises(InvalidTransitionError):
        ledger.acknowledge_report(AUDITOR, key(), report_id)
    ledger.record_investigation_step(AUDITOR, key(), report_id, step="调阅2026年维修基金账目")
    ledger.record_investigation_step(AUDITOR, key(), report_id, step="约谈社区会计")
    with pytest.raises(InvalidInputError):
        ledger.conclude_report(AUDITOR, key(), report_id, finding="maybe", conclusion="x")
    ledger.conclude_report(
        AUDITOR, key(), report_id, finding="partly_substantiated", conclusion="账目漏记一笔。"
    )
    assert ledger.get(Report, report_id, "report").status is ReportStatus.CONCLUDED
    with pytest.raises(InvalidTransitionError):
        ledger.record_investigation_step(AUDITOR, key(), report_id, step="再查")
    with pytest.raises(InvalidTransitionError):
        ledger.conclude_report(AUDITOR, key(), report_id, finding="substantiated", conclusion="x")
    assert receipt_sha256(receipt.lower()) == receipt_sha256(receipt.replace("-", " "))


def test_who_may_do_what(keyed: tuple[CommunityLedger, bytes]) -> None:
    ledger, _ = keyed
    _, public = generate_key_pair()
    for actor in (CLERK, REPORTER, Actor("王建国", Role.COMMITTEE_CHAIR)):
        with pytest.raises(PermissionDeniedError):
            ledger.register_report_key(actor, key(), public_key=public.line)
    for actor in (CLERK, AUDITOR):
        with pytest.raises(PermissionDeniedError):
            ledger.file_report(actor, key(), subject="s", text="t", name="", contact="")
    report_id, _ = file(ledger)
    for actor in (CLERK, REPORTER, Actor("王建国", Role.COMMITTEE_CHAIR)):
        with pytest.raises(PermissionDeniedError):
            ledger.acknowledge_report(actor, key(), report_id)


def test_without_a_registered_key_a_report_is_refused_and_nothing_stored(
    ledger: CommunityLedger,
) -> None:
    head = ledger.head()
    with pytest.raises(InvalidTransitionError, match="no key"):
        ledger.file_report(REPORTER, key(), subject="s", text="t", name=NAME, contact=CONTACT)
    assert ledger.head() == head


def test_a_new_key_replaces_the_old_and_a_bad_one_is_refused(
    keyed: tuple[CommunityLedger, bytes],
) -> None:
    ledger, _ = keyed
    _, public = generate_key_pair()
    ledger.register_report_key(AUDITOR, key(), public_key=public.line)
    assert ledger.report_key() == public
    with pytest.raises(InvalidTransitionError):
        ledger.register_report_key(AUDITOR, key(), public_key=public.line)
    tampered = public.line[:-6] + ("AAAAA=" if not public.line.endswith("AAAAA=") else "BBBBB=")
    for bad in (
        "",
        "gongkai-report-key abc",
        tampered,
        public.line.replace(public.key_id, "0" * 16),
    ):
        with pytest.raises(InvalidInputError):
            ledger.register_report_key(AUDITOR, key(), public_key=bad)
    report_id, _ = file(ledger)
    filed = ledger.get(Report, report_id, "report")
    assert filed.status is ReportStatus.FILED
