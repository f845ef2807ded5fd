"""The ledger of one community, :class:`CommunityLedger`: its command groups joined,
one per kind of act (disclosures, objections and corrections, opinions, inquiries,
reports, the disclosure calendar, finance, meetings, democratic evaluation), over the
:class:`~ledger.application.runner.CommandRunner`; and the :class:`Ledger` that opens
every community of one store."""

from __future__ import annotations

import contextlib
import threading
from typing import Final

from ledger.application.calendar import CalendarCommands, CoverageCommands
from ledger.application.committee import CommitteeCommands
from ledger.application.disclosures import DisclosureCommands
from ledger.application.evaluations import EvaluationCommands
from ledger.application.finance_periods import FinancePeriodCommands
from ledger.application.inquiries import InquiryCommands
from ledger.application.meetings import MeetingCommands
from ledger.application.objections import ObjectionCommands
from ledger.application.opinions import OpinionCommands
from ledger.application.reports import ReportCommands
from ledger.application.runner import HoldsFiles
from ledger.application.settings import SettingsCommands
from ledger.application.surveys import SurveyCommands
from ledger.domain.base import Actor
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidTransitionError
from ledger.store.backend import Store
from ledger.store.base import Community

SYSTEM: Final = Actor("gongkai", Role.SYSTEM)


class CommunityLedger(
    DisclosureCommands,
    ObjectionCommands,
    OpinionCommands,
    InquiryCommands,
    ReportCommands,
    CalendarCommands,
    CoverageCommands,
    FinancePeriodCommands,
    SettingsCommands,
    MeetingCommands,
    CommitteeCommands,
    EvaluationCommands,
    SurveyCommands,
):
    """The ledger of one community."""

    name = "CommunityLedger"


class Ledger:
    """Every community of one store, each with its own :class:`CommunityLedger`."""

    def __init__(self, store: Store, attachments: HoldsFiles | None = None) -> None:
        self.store = store
        #: Where the files the commands name must be (None: not checked).
        self.attachments = attachments
        self._lock = threading.Lock()
        self._communities: dict[str, CommunityLedger] = {}

    def community(self, community_id: str) -> CommunityLedger:
        with self._lock:
            ledger = self._communities.get(community_id)
            if ledger is None:
                community = self.store.community(community_id)
                ledger = CommunityLedger(
                    community, self.store.recorder(community_id), self.attachments
                )
                self._communities[community_id] = ledger
            return ledger

    def add_community(self, community: Community) -> CommunityLedger:
        """Register a community, create its tables, and adopt the default chart of
        accounts. Needs the database rights of ``gongkai db init``."""
        self.store.add_community(community)
        ledger = self.community(community.id)
        # A chart adopted before, under another key, is left as it is.
        with contextlib.suppress(InvalidTransitionError):
            ledger.adopt_chart(SYSTEM, "gongkai:adopt-default-chart")
        return ledger

    def close(self) -> None:
        with self._lock:
            for ledger in self._communities.values():
                ledger.close()
            self._communities.clear()
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
