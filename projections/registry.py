"""Every read model gongkai keeps: what ``gongkai db init`` creates, what the
service's worker keeps current, and what its health and preflight checks look at."""

from __future__ import annotations

from projections.attachment_refs import AttachmentRefsProjection
from projections.audit_trail import AuditTrailProjection
from projections.board_projection import BoardProjection
from projections.calendar import CalendarProjection
from projections.clock import ClockProjection
from projections.finance import FinanceProjection
from projections.history import HistoryProjection
from projections.inquiries import InquiriesProjection
from projections.opinions import OpinionsProjection
from projections.reports import ReportsProjection
from projections.runner import Projection
from projections.seal_keys import SealKeysProjection


def all_projections() -> list[Projection]:
    return [
        BoardProjection(),
        HistoryProjection(),
        FinanceProjection(),
        AuditTrailProjection(),
        ClockProjection(),
        AttachmentRefsProjection(),
        SealKeysProjection(),
        OpinionsProjection(),
        InquiriesProjection(),
        ReportsProjection(),
        CalendarProjection(),
    ]
