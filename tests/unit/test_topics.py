"""Stored topics are explicit, stable strings that resolve in a fresh process."""

from __future__ import annotations

import subprocess
import sys

from eventsourcing.domain import CanMutateAggregate

from ledger.domain.committee import CommitteeRegister
from ledger.domain.correction import Correction
from ledger.domain.disclosure import Disclosure
from ledger.domain.evaluation import Evaluation
from ledger.domain.finance import ChartOfAccounts, FinanceEntry
from ledger.domain.finance_period import FinancePeriod
from ledger.domain.gates import CommunitySettings
from ledger.domain.inquiry import Inquiry
from ledger.domain.obligation import Obligation
from ledger.domain.person import PersonalData
from ledger.domain.report import DisciplinaryKey, Report
from ledger.domain.representatives import RepresentativesRegister
from ledger.domain.residents_meeting import ResidentsMeeting
from ledger.domain.seal_key import SealKey
from ledger.domain.survey import SatisfactionSurvey

AGGREGATES = [
    Disclosure,
    Correction,
    FinanceEntry,
    ChartOfAccounts,
    Inquiry,
    Report,
    DisciplinaryKey,
    Obligation,
    SealKey,
    CommunitySettings,
    FinancePeriod,
    ResidentsMeeting,
    CommitteeRegister,
    RepresentativesRegister,
    Evaluation,
    SatisfactionSurvey,
    PersonalData,
]


def event_classes() -> dict[str, type]:
    found = {}
    for aggregate in AGGREGATES:
        for name, value in vars(aggregate).items():
            if isinstance(value, type) and issubclass(value, CanMutateAggregate):
                topic = getattr(value, "TOPIC", None)
                if topic:
                    found[topic] = value
                else:
                    assert name in ("Event", "Created"), (
                        f"{aggregate.__name__}.{name} has no TOPIC"
                    )
    return found


def test_every_event_has_an_explicit_past_tense_topic() -> None:
    topics = event_classes()
    assert len(topics) == 74
    for topic, cls in topics.items():
        assert topic.startswith("gongkai/")
        past = cls.__name__.removesuffix("ForReview")
        past_tense = past.endswith(("ed", "Withdrawn", "Left")) or past.startswith("Marked")
        assert past_tense, f"{cls.__name__} is not past tense"


def test_topics_resolve_in_a_fresh_interpreter() -> None:
    code = (
        "from eventsourcing.utils import resolve_topic\n"
        "import ledger.application\n"
        f"for t in {sorted(event_classes())!r}:\n"
        "    cls = resolve_topic(t)\n"
        "    assert cls.TOPIC == t, t\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr
