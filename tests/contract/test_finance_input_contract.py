"""The ledger takes finance input exactly as the domain means it, and idempotency keys
are per account, on SQLite and PostgreSQL alike.

A period is ``YYYY-MM`` in ASCII digits from 2000-01 to 2100-12; an amount is an ``int``
of fen, never a bool, a string or a float; text shows as stored (no control characters,
no bidirectional controls; line breaks and tabs only in prose). A refused command
stores nothing. A key is the account's own: another account's command under the same
key is its own command, and a key stored bare before keys were scoped still answers
only the account that stored it."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import CommunityLedger
from ledger.chain.idempotency import canonical_json, fingerprint
from ledger.domain.base import Actor
from ledger.domain.disclosure import Disclosure
from ledger.domain.vocabulary import Role
from ledger.errors import IdempotencyKeyReusedError, InvalidInputError
from ledger.store.base import CommandRecord
from tests.contract.test_ledger_contract import CLERK, DRAFT, VOUCHER, key

OTHER_CLERK = Actor("zhang.wei", Role.CLERK)
ENTRY: dict[str, Any] = {
    "kind": "expense",
    "amount_fen": 12_000,
    "account": "office",
    "counterparty": "文具店",
    "voucher_sha256": VOUCHER,
    "period": "2026-07",
    "memo": "打印纸",
}
BAD_PERIODS = [
    "0000-01",
    "9999-12",
    "\u0662\u0660\u0662\u0666-03",  # Arabic-Indic digits
    "\uff12\uff10\uff12\uff16-03",  # full-width digits
    "1999-12",
    "2101-01",
    "2026-13",
    "2026-7",
]
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE


def refused(ledger: CommunityLedger, match: str, **change: Any) -> None:
    """record_entry with ``change`` is refused with ``match``, and nothing is stored."""
    head = ledger.head()
    with pytest.raises(InvalidInputError, match=match):
        ledger.record_entry(CLERK, key(), **{**ENTRY, **change})
    assert ledger.head() == head


@pytest.mark.parametrize("period", BAD_PERIODS)
def test_a_period_that_is_no_month_is_refused(ledger: CommunityLedger, period: str) -> None:
    refused(
        ledger, r"period must be a month as YYYY-MM in ASCII digits, from 2000-01", period=period
    )
    entry = ledger.record_entry(CLERK, key(), **ENTRY).result["id"]
    with pytest.raises(InvalidInputError, match="period must be a month"):
        ledger.reverse_entry(
            CLERK, key(), entry, period=period, voucher_sha256=VOUCHER, reason="重复"
        )


@pytest.mark.parametrize("period", ["2000-01", "2100-12"])
def test_the_first_and_last_months_are_taken(ledger: CommunityLedger, period: str) -> None:
    assert not ledger.record_entry(CLERK, key(), **{**ENTRY, "period": period}).replayed


# JSON's 1e2 reaches Python as the float 100.0, so 100.0 stands for both here; the API's
# tests send the two spellings as they are.
@pytest.mark.parametrize("amount", [True, False, "100", 100.0, 100.5, None], ids=repr)
def test_an_amount_that_is_not_an_int_of_fen_is_refused(
    ledger: CommunityLedger, amount: object
) -> None:
    refused(ledger, r"amount_fen must be a whole number of fen", amount_fen=amount)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "counterparty",
            f"文具店{RLO}",
            r"counterparty contains a bidirectional control character \(U\+202E\)",
        ),
        (
            "memo",
            "打印纸\u2066x\u2069",
            r"memo contains a bidirectional control character \(U\+2066\)",
        ),
        ("account", f"off{RLO}ice", r"account contains a bidirectional control character"),
        ("counterparty", "文具\n店", r"counterparty contains a control character \(U\+000A\)"),
        ("memo", "打印\t纸", r"memo contains a control character \(U\+0009\)"),
        ("memo", "打印\x00纸", r"memo contains a control character \(U\+0000\)"),
        ("counterparty", "文具\x85店", r"counterparty contains a control character \(U\+0085\)"),
        ("counterparty", "文具\x7f店", r"counterparty contains a control character \(U\+007F\)"),
    ],
)
def test_finance_text_that_would_not_show_as_stored_is_refused(
    ledger: CommunityLedger, field: str, value: str, message: str
) -> None:
    refused(ledger, message, **{field: value})


def test_a_reversal_reason_is_one_line_too(ledger: CommunityLedger) -> None:
    entry = ledger.record_entry(CLERK, key(), **ENTRY).result["id"]
    for reason in (f"重复{RLO}入账", "重复\n入账"):
        with pytest.raises(InvalidInputError, match="reason contains"):
            ledger.reverse_entry(
                CLERK, key(), entry, period="2026-08", voucher_sha256=VOUCHER, reason=reason
            )


def test_prose_keeps_its_lines_and_titles_keep_none(ledger: CommunityLedger) -> None:
    body = "本月低保对象共12户。\n\t发放金额合计18,600元。"
    assert not ledger.draft_disclosure(CLERK, key(), **{**DRAFT, "body": body}).replayed
    for change, message in (
        ({"body": f"合计{RLO}18,600元"}, r"body contains a bidirectional control character"),
        ({"body": "合计\r18,600元"}, r"body contains a control character \(U\+000D\); only line"),
        ({"title": "低保\n公示"}, r"title contains a control character \(U\+000A\)"),
        ({"title": f"低保{RLO}公示"}, r"title contains a bidirectional control character"),
    ):
        with pytest.raises(InvalidInputError, match=message):
            ledger.draft_disclosure(CLERK, key(), **{**DRAFT, **change})


# --- idempotency keys are per account ---------------------------------------------------


def test_two_accounts_with_one_key_each_get_their_own_command(ledger: CommunityLedger) -> None:
    shared = "2026-07-office"
    mine = ledger.record_entry(CLERK, shared, **ENTRY)
    theirs = ledger.record_entry(OTHER_CLERK, shared, **{**ENTRY, "amount_fen": 34_000})
    assert not theirs.replayed, "the second account was answered the first one's result"
    assert theirs.result["id"] != mine.result["id"]
    assert theirs.first_seq > mine.last_seq
    # Each account's retry answers its own first result.
    again_mine = ledger.record_entry(CLERK, shared, **ENTRY)
    again_theirs = ledger.record_entry(OTHER_CLERK, shared, **{**ENTRY, "amount_fen": 34_000})
    assert (again_mine.replayed, again_mine.result) == (True, mine.result)
    assert (again_theirs.replayed, again_theirs.result) == (True, theirs.result)
    # The same account's key for another act is still refused.
    with pytest.raises(IdempotencyKeyReusedError):
        ledger.record_entry(OTHER_CLERK, shared, **ENTRY)


def test_the_same_body_from_two_accounts_is_two_commands(ledger: CommunityLedger) -> None:
    head = ledger.head()
    first = ledger.record_entry(CLERK, "same", **ENTRY)
    second = ledger.record_entry(OTHER_CLERK, "same", **ENTRY)
    assert not second.replayed
    assert first.result != second.result
    assert ledger.head().seq == head.seq + 2


def test_a_key_stored_before_keys_were_scoped_answers_only_its_account(
    ledger: CommunityLedger,
) -> None:
    """A command stored under the bare key, as the ledger stored every key before."""
    content = ledger._content(**DRAFT, attachments=())
    disclosure = Disclosure.draft(CLERK, **content)
    result = {"id": str(disclosure.id)}
    record = CommandRecord(
        "legacy-1", fingerprint("draft_disclosure", content), canonical_json(result)
    )
    ledger.save(disclosure, command=record)
    retried = ledger.draft_disclosure(CLERK, "legacy-1", **DRAFT)
    assert (retried.replayed, retried.result) == (True, result)
    with pytest.raises(IdempotencyKeyReusedError):
        ledger.draft_disclosure(CLERK, "legacy-1", **{**DRAFT, "title": "别的"})
    other = ledger.draft_disclosure(OTHER_CLERK, "legacy-1", **DRAFT)
    assert not other.replayed
    assert other.result != result
