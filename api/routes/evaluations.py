"""Democratic evaluation over HTTP (民主评议, :mod:`ledger.domain.evaluation`): the street
(or the clerk) opens a round; the clerk or the street records each person's written
report; the street issues the ballot forms' one-time codes (answered here once, in the
clear, and stored nowhere), opens voting, closes it, publishes the tally and records
what follows from it; a representative or resident casts a ballot with their form's
code, or the street enters a paper form.

A ballot is recorded under no one's name: the route hands the signed-in account to the
ledger only for its role to be checked (:meth:`~ledger.application.evaluations
.EvaluationCommands.cast_ballot`), takes no ``Idempotency-Key`` and adds nothing of the
request to what is stored.

A round is the community's members' and the auditors' until its tally is published;
then it is public, as the seeds post the results. Its ballots are not listed here: the
chain holds them, each under its code's salted hash, for ``gongkai evaluation
recount``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import Field, StrictInt

from api.routes.command_bodies import Body
from api.routes.commands import IdempotencyKey, run_command
from api.service.auth import SignedIn, require_csrf
from api.service.deps import LedgerDep
from api.service.params import MultiLine, SingleLine
from api.service.read_models import ReaderDep
from ledger.application import CommunityLedger
from ledger.application.evaluations import IssuedCodes
from ledger.chain.idempotency import CommandResult
from ledger.domain.evaluation import Evaluation, EvaluationStatus
from ledger.domain.vocabulary import Scope
from ledger.errors import NotFoundError
from projections.visibility import Reader, can_see

commands = APIRouter(
    prefix="/v1/communities/{community_id}",
    tags=["commands"],
    dependencies=[Depends(require_csrf)],
)
reads = APIRouter(prefix="/v1/communities/{community_id}", tags=["reads"])

#: The states in which a round's tally is published, and the round public.
PUBLISHED = frozenset({EvaluationStatus.PUBLISHED, EvaluationStatus.CONCLUDED})


class Person(Body):
    name: SingleLine = Field(min_length=1, max_length=50)
    post: SingleLine = Field(min_length=1, max_length=100)
    tenure: str = Field(description="elected (民主选举产生) or hired (招聘的专职工作者)")


class Opening(Body):
    year: StrictInt
    month: StrictInt = Field(description="6 or 12: June's round or December's")
    evaluated: list[Person] = Field(min_length=1, max_length=50)


class EvaluationReport(Body):
    person: SingleLine = Field(min_length=1, max_length=50)
    sha256: str = Field(description="the uploaded report's SHA-256 (述职述廉报告)")


class CodeIssue(Body):
    count: StrictInt = Field(description="one code per ballot form: 1 to 5000")


class Ballot(Body):
    code: str = Field(min_length=1, max_length=40, description="the form's one-time code")
    grades: dict[str, dict[str, str]] = Field(
        max_length=50,
        description="each person evaluated → dimension (de neng qin ji lian) → grade",
    )


class ConsequenceNote(Body):
    note: MultiLine = Field(default="", max_length=2_000)


def _on_evaluation(name: str, path: str, doc: str) -> None:
    """Register ``POST {path}``, a command on one evaluation with no body."""

    def route(
        community_id: str,
        evaluation_id: UUID,
        key: IdempotencyKey,
        who: SignedIn,
        ledger: LedgerDep,
        response: Response,
    ) -> dict[str, Any]:
        return run_command(
            name,
            who,
            ledger,
            community_id,
            response,
            lambda c: getattr(c, name)(who.actor(), key, evaluation_id),
        )

    route.__doc__ = doc
    route.__name__ = name
    commands.post(path, status_code=201, name=name)(route)


@commands.post("/evaluations", status_code=201)
def open_evaluation(
    community_id: str,
    body: Opening,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """Open the round of ``year``-``month`` (June or December) evaluating each person
    named, on 德 能 勤 绩 廉 and in the four grades."""
    return run_command(
        "open_evaluation",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.open_evaluation(who.actor(), key, **body.model_dump()),
    )


@commands.post("/evaluations/{evaluation_id}/reports", status_code=201)
def record_evaluation_report(
    community_id: str,
    evaluation_id: UUID,
    body: EvaluationReport,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """A person's written report (述职述廉), its file uploaded first; before voting."""
    return run_command(
        "record_evaluation_report",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.record_evaluation_report(who.actor(), key, evaluation_id, **body.model_dump()),
    )


@commands.post("/evaluations/{evaluation_id}/codes", status_code=201)
def issue_ballot_codes(
    community_id: str,
    evaluation_id: UUID,
    body: CodeIssue,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """Make ``count`` one-time ballot codes and commit their salted hashes. The answer's
    ``codes`` are the only copy, to be printed one per form: a replay answers ``null``."""
    return with_codes("issue_ballot_codes", who, ledger, community_id, response,
                      lambda c: c.issue_ballot_codes(who.actor(), key, evaluation_id,
                                                     count=body.count))  # fmt: skip


def with_codes(
    command: str,
    who: SignedIn,
    ledger: LedgerDep,
    community_id: str,
    response: Response,
    issue: Callable[[CommunityLedger], IssuedCodes],
) -> dict[str, Any]:
    """Run a command that issues codes, and answer them beside its result: this once,
    never to be cached (a replay answers ``null``)."""
    issued: list[list[str] | None] = []

    def run(c: CommunityLedger) -> CommandResult:
        done = issue(c)
        issued.append(done.codes)
        return done.result

    answer = run_command(command, who, ledger, community_id, response, run)
    answer["codes"] = issued[0]
    response.headers["Cache-Control"] = "no-store"
    return answer


_on_evaluation(
    "open_voting",
    "/evaluations/{evaluation_id}/voting/open",
    "Voting opens, in the round's month (China date), once the codes are committed.",
)


@commands.post("/evaluations/{evaluation_id}/ballots", status_code=201)
def cast_ballot(
    community_id: str,
    evaluation_id: UUID,
    body: Ballot,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """One ballot with its form's code, grading every person on every dimension. The
    account is checked for its role and then forgotten: the ballot is recorded as cast
    by no one, and a retry is refused as already cast (no ``Idempotency-Key``)."""
    return run_command(
        "cast_ballot",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.cast_ballot(who.actor(), evaluation_id, code=body.code, grades=body.grades),
    )


_on_evaluation(
    "close_voting", "/evaluations/{evaluation_id}/voting/close", "Voting closes: no more ballots."
)
_on_evaluation(
    "publish_tally",
    "/evaluations/{evaluation_id}/tally",
    "Publish the tally, counted by the ledger from the ballots received; answers it.",
)


@commands.post("/evaluations/{evaluation_id}/consequences", status_code=201)
def record_consequences(
    community_id: str,
    evaluation_id: UUID,
    body: ConsequenceNote,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """What follows from the published grades: 优秀 commended, 基本合格 admonished,
    不合格 a recall motion (the recall itself is a residents' meeting's)."""
    return run_command(
        "record_consequences",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.record_consequences(who.actor(), key, evaluation_id, note=body.note),
    )


def recount_command(community_id: str, evaluation_id: UUID | str) -> str:
    """The command anyone holding a copy of the chain runs to recount the tally."""
    return f"gongkai evaluation recount --community {community_id} --evaluation {evaluation_id}"


def visible_evaluation(
    book: CommunityLedger, reader: Reader, evaluation_id: UUID | str
) -> Evaluation:
    """The round, if ``reader`` may see it: anyone once published, else the community's
    members and the auditors; to anyone else it does not exist."""
    found = book.evaluation(evaluation_id)
    if found.status not in PUBLISHED and not can_see(reader, book.community.id, Scope.INTERNAL):
        raise NotFoundError(f"no evaluation {evaluation_id} is published")
    return found


def evaluation_view(book: CommunityLedger, found: Evaluation) -> dict[str, Any]:
    """A round as shown: who is evaluated (with their report's file), whether its codes
    are committed (their count only), its state, and the published tally with each
    person's overall grade and the consequences recorded."""
    consequences: list[dict[str, str]] | None = None
    note = ""
    published_at = None
    for event in book.events.get(found.id):
        if isinstance(event, Evaluation.TallyPublished):
            published_at = event.timestamp.isoformat()
        elif isinstance(event, Evaluation.ConsequencesRecorded):
            consequences, note = event.consequences, event.note
    following = {c["name"]: c["consequence"] for c in consequences or []}
    tally = found.tally
    return {
        "community": book.community.id,
        "id": str(found.id),
        "year": found.year,
        "month": found.month,
        "status": found.status.value,
        "evaluated": [
            {**person, "report_sha256": found.reports.get(person["name"])}
            for person in found.evaluated
        ],
        "dimensions": found.dimensions,
        "grades": found.grades,
        "codes_committed": bool(found.committed),
        "codes": len(found.committed),
        "ballots_received": len(found.ballots),
        "tally": None
        if tally is None
        else {
            **tally,
            "published_at": published_at,
            "people": [
                {**person, "consequence": following.get(person["name"])}
                for person in tally["people"]
            ],
        },
        "consequences": consequences,
        "consequences_note": note if consequences is not None else None,
        "recount": recount_command(book.community.id, found.id),
    }


@reads.get("/evaluations/{evaluation_id}")
def evaluation(
    community_id: str, evaluation_id: UUID, ledger: LedgerDep, reader: ReaderDep
) -> dict[str, Any]:
    """A round: public once its tally is published, the members' and the auditors'
    before. Its ballots are never listed here; the chain keeps each under its code's
    salted hash."""
    ledger.store.community(community_id)
    book = ledger.community(community_id)
    return evaluation_view(book, visible_evaluation(book, reader, evaluation_id))
