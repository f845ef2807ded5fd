"""Writers for the concurrency and crash tests, run in threads, processes, or as
``python -m tests.integration.writers URL COMMUNITY LABEL COUNT`` (prints one line per
acknowledged command: ID FIRST_SEQ LAST_SEQ)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from ledger.application import CommunityLedger, Ledger
from ledger.domain.base import Actor
from ledger.domain.vocabulary import Role
from ledger.store import open_store

CLERK = Actor("李娜", Role.CLERK)
VOUCHER = "ab" * 32
Ack = tuple[str, int, int]


def append_one(ledger: CommunityLedger, label: str, i: int) -> Ack:
    done = ledger.record_entry(
        CLERK,
        f"{label}-{i}",
        kind="expense",
        amount_fen=100 + i,
        account="office",
        counterparty=f"writer {label}",
        voucher_sha256=VOUCHER,
        period="2026-07",
    )
    return done.result["id"], done.first_seq, done.last_seq


def append_many(
    url: str,
    community_id: str,
    label: str,
    count: int,
    start_at: float = 0.0,
    on_ack: Callable[[Ack], None] | None = None,
) -> list[Ack]:
    """Append ``count`` entries, starting at wall-clock time ``start_at``."""
    with Ledger(open_store(url)) as whole:
        ledger = whole.community(community_id)
        time.sleep(max(0.0, start_at - time.time()))
        acks = []
        for i in range(count):
            ack = append_one(ledger, label, i)
            acks.append(ack)
            if on_ack is not None:
                on_ack(ack)
        return acks


def _print_ack(ack: Ack) -> None:
    print(*ack, flush=True)


if __name__ == "__main__":
    url, community, label, count = sys.argv[1:5]
    append_many(url, community, label, int(count), on_ack=_print_ack)
