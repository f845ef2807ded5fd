"""The satisfaction survey over HTTP (满意度测评, :mod:`ledger.domain.survey`): the street
(or the clerk) opens a survey with its questions; the street issues the forms' one-time
codes (answered here once, in the clear, and stored nowhere), opens voting, closes it
and publishes the tally; a representative or resident answers with their form's code,
or the street enters a paper form. As with an evaluation's ballot, the answers are
recorded under no one's name and take no ``Idempotency-Key``.

A survey is the community's members' and the auditors' until its tally is published;
then it is public."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import Field, StrictInt

from api.routes.command_bodies import Body
from api.routes.commands import IdempotencyKey, run_command
from api.routes.evaluations import with_codes
from api.service.auth import SignedIn, require_csrf
from api.service.deps import LedgerDep
from api.service.params import SingleLine
from api.service.read_models import ReaderDep
from ledger.domain.survey import SurveyStatus
from ledger.domain.vocabulary import Scope
from ledger.errors import NotFoundError
from projections.visibility import can_see

commands = APIRouter(
    prefix="/v1/communities/{community_id}",
    tags=["commands"],
    dependencies=[Depends(require_csrf)],
)
reads = APIRouter(prefix="/v1/communities/{community_id}", tags=["reads"])


class SurveyOpening(Body):
    year: StrictInt
    month: StrictInt = Field(description="6 or 12: with June's evaluation or December's")
    questions: list[SingleLine] = Field(min_length=1, max_length=20)


class SurveyCodes(Body):
    count: StrictInt = Field(description="one code per form: 1 to 5000")


class SurveyForm(Body):
    code: str = Field(min_length=1, max_length=40, description="the form's one-time code")
    answers: dict[str, str] = Field(
        max_length=20,
        description="each question's number, from 0 → satisfied, fairly_satisfied or "
        "dissatisfied (满意, 基本满意, 不满意)",
    )


def _on_survey(name: str, path: str, doc: str) -> None:
    """Register ``POST {path}``, a command on one survey with no body."""

    def route(
        community_id: str,
        survey_id: UUID,
        key: IdempotencyKey,
        who: SignedIn,
        ledger: LedgerDep,
        response: Response,
    ) -> dict[str, Any]:
        return run_command(name, who, ledger, community_id, response,
                           lambda c: getattr(c, name)(who.actor(), key, survey_id))  # fmt: skip

    route.__doc__ = doc
    route.__name__ = name
    commands.post(path, status_code=201, name=name)(route)


@commands.post("/surveys", status_code=201)
def open_survey(
    community_id: str,
    body: SurveyOpening,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """Open the survey of a round (June or December) with its questions."""
    return run_command(
        "open_survey", who, ledger, community_id, response,
        lambda c: c.open_survey(who.actor(), key, year=body.year, month=body.month,
                                questions=body.questions),
    )  # fmt: skip


@commands.post("/surveys/{survey_id}/codes", status_code=201)
def issue_survey_codes(
    community_id: str,
    survey_id: UUID,
    body: SurveyCodes,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """Make ``count`` one-time codes and commit their salted hashes. The answer's
    ``codes`` are the only copy, to be printed one per form: a replay answers ``null``."""
    return with_codes("issue_survey_codes", who, ledger, community_id, response,
                      lambda c: c.issue_survey_codes(who.actor(), key, survey_id,
                                                     count=body.count))  # fmt: skip


_on_survey("open_survey_voting", "/surveys/{survey_id}/voting/open",
           "Voting opens, in the round's month, once the codes are committed.")  # fmt: skip


@commands.post("/surveys/{survey_id}/answers", status_code=201)
def answer_survey(
    community_id: str,
    survey_id: UUID,
    body: SurveyForm,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """One form with its code, answering every question. The account is checked for
    its role and then forgotten; a retry is refused as already used."""
    return run_command(
        "answer_survey", who, ledger, community_id, response,
        lambda c: c.answer_survey(who.actor(), survey_id, code=body.code, answers=body.answers),
    )  # fmt: skip


_on_survey("close_survey_voting", "/surveys/{survey_id}/voting/close",
           "Voting closes: no more forms.")  # fmt: skip
_on_survey("publish_survey_tally", "/surveys/{survey_id}/tally",
           "Publish the tally, counted by the ledger from the forms received.")  # fmt: skip


@reads.get("/surveys/{survey_id}")
def survey(
    community_id: str, survey_id: UUID, ledger: LedgerDep, reader: ReaderDep
) -> dict[str, Any]:
    """A survey: public once its tally is published, the members' and the auditors'
    before. Its forms are never listed; the chain keeps each under its code's hash."""
    ledger.store.community(community_id)
    book = ledger.community(community_id)
    found = book.survey(survey_id)
    if found.status is not SurveyStatus.PUBLISHED and not can_see(
        reader, community_id, Scope.INTERNAL
    ):
        raise NotFoundError(f"no survey {survey_id} is published")
    return {
        "community": community_id,
        "id": str(found.id),
        "year": found.year,
        "month": found.month,
        "status": found.status.value,
        "questions": found.questions,
        "codes": len(found.committed),
        "forms_received": len(found.answers),
        "tally": found.tally,
    }
