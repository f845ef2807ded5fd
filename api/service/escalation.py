"""The service holds inquiries (质询) to their deadline: after each pass of the
projection worker (in the service, or ``gongkai projections run``, which a scheduler may
run ``--once``), every inquiry the read model finds due is escalated in the ledger, which
checks again on the inquiry itself. However many processes do this, an inquiry is
escalated once (:meth:`~ledger.application.inquiries.InquiryCommands.escalate_inquiry`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from ledger.application import Ledger
from ledger.application.community import SYSTEM
from ledger.domain.working_days import china_date
from projections.db import ReadDB
from projections.inquiries import inquiries

log = logging.getLogger("gongkai.escalation")


def escalate_due(
    ledger: Ledger, db: ReadDB, community_id: str, now: dt.datetime | None = None
) -> list[str]:
    """Escalate the community's inquiries due at ``now``; the IDs of those this call
    escalated (an inquiry another process escalated first is not among them)."""
    today = china_date(now)
    due = [v.inquiry_id for v in inquiries(db, community_id) if v.due_for_escalation(today)]
    if not due:
        return []
    book = ledger.community(community_id)
    done = []
    for inquiry_id in due:
        result = book.escalate_inquiry(SYSTEM, inquiry_id, now)
        if result is not None and not result.replayed:
            done.append(inquiry_id)
            log.info("%s: inquiry %s escalated (%s)", community_id, inquiry_id, result.result)
    return done


def escalation_hook(ledger: Ledger, db: ReadDB) -> Callable[[str], None]:
    """What the projection worker calls after catching a community up."""

    def after_pass(community_id: str) -> None:
        escalate_due(ledger, db, community_id)

    return after_pass
