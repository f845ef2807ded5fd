"""Democratic evaluation (民主评议) in the console, and its results on the portal.

The street's disciplinary auditor (or the clerk) opens a round; the street (or the
community's party branch) issues the ballot forms' one-time codes, shown once on a
printable page of cut-out slips and never again, since the ledger keeps only their
salted hashes; opens voting, closes it, publishes the tally and records what follows
from it. While voting is open, a representative or a resident casts their ballot with
their form's code, and the street enters the paper forms, on the same form: the ballot
is recorded under no one's name (:mod:`ledger.application.evaluations`).

The page lists the community's rounds of last year, this year and next year, to its
members and the auditors; the portal's results page shows a published tally to
everyone, per person and dimension, with the ``gongkai evaluation recount`` command
that counts it again from the chain."""

from __future__ import annotations

import re
from typing import Any, Final
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts import Principal
from api.console.routes import (
    CommunityPath,
    done,
    form_context,
    own_or_street,
    posted,
    refused,
)
from api.portal.routes import LangQuery, Page, PortalRoute, page_of
from api.portal.views import recorded_text
from api.routes.evaluations import PUBLISHED, evaluation_view, recount_command, visible_evaluation
from api.routes.inquiries import may_read_inquiries
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.read_models import ReaderDep
from ledger.application import CommunityLedger
from ledger.chain.idempotency import CommandResult
from ledger.domain.evaluation import (
    DIMENSION_NAMES,
    GRADE_NAMES,
    ROUNDS,
    Dimension,
    Evaluation,
    EvaluationStatus,
    Grade,
    evaluation_id,
)
from ledger.domain.permissions import COMMAND_ROLES
from ledger.domain.working_days import china_date
from ledger.errors import GongkaiError, InvalidInputError, NotFoundError, PermissionDeniedError

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)
portal_router = APIRouter(route_class=PortalRoute, include_in_schema=False, tags=["portal"])

#: A round's states as the pages name them (each translated in the page's language).
EVALUATION_STATES: Final = {
    EvaluationStatus.OPENED.value: "已启动，待发放测评码",
    EvaluationStatus.CODES_COMMITTED.value: "测评码已发放，待开始投票",
    EvaluationStatus.VOTING.value: "投票中",
    EvaluationStatus.CLOSED.value: "投票已结束，待公布结果",
    EvaluationStatus.PUBLISHED.value: "结果已公布",
    EvaluationStatus.CONCLUDED.value: "结果已公布并运用",
}
TENURE_NAMES: Final = {"elected": "民主选举产生", "hired": "招聘的专职工作者"}
CONSEQUENCE_NAMES: Final = {
    "commendation": "表彰",
    "admonition": "诫勉谈话",
    "recall_motion": "提出罢免动议",
}
#: 德 能 勤 绩 廉 and the four grades, by code, for the templates.
DIMENSION_LABELS: Final = {d.value: name for d, name in DIMENSION_NAMES.items()}
GRADE_LABELS: Final = {g.value: name for g, name in GRADE_NAMES.items()}
#: How a line of the opening form names a tenure.
TENURES: Final = {
    "elected": "elected", "选举": "elected", "民主选举": "elected", "当选": "elected",
    "hired": "hired", "招聘": "hired", "聘用": "hired", "专职": "hired",
}  # fmt: skip
#: What each act on a round does, by the path's last part.
ACTS: Final = {
    "voting-open": "open_voting",
    "voting-close": "close_voting",
    "tally": "publish_tally",
    "consequences": "record_consequences",
}


def rounds_of(book: CommunityLedger) -> list[Evaluation]:
    """The community's rounds of last year, this year and next year, newest first."""
    this_year = china_date().year
    found = []
    for year in (this_year + 1, this_year, this_year - 1):
        for month in reversed(ROUNDS):
            try:
                found.append(book.evaluation(evaluation_id(book.community.id, year, month)))
            except NotFoundError:
                continue
    return found


def title_of(community_name: str, found: Evaluation) -> dict[str, Any]:
    """What a round's title is made of, for the templates' one message."""
    return {"community": community_name, "year": found.year, "month": found.month}


def may(who: Principal, community_id: str, command: str) -> bool:
    """Whether ``who`` gives ``command`` in the community from the console."""
    street = who.community is None
    return (street or who.community == community_id) and who.role in COMMAND_ROLES[command]


def may_do(who: Principal, community_id: str, command: str) -> None:
    """Refused before the form is read (the ledger checks the role again)."""
    own_or_street(who, community_id)
    if who.role not in COMMAND_ROLES[command]:
        raise PermissionDeniedError(f"a {who.role.value} does not {command.replace('_', ' ')}")


def names(**extra: Any) -> dict[str, Any]:
    return {
        "evaluation_states": EVALUATION_STATES,
        "tenure_names": TENURE_NAMES,
        "consequence_names": CONSEQUENCE_NAMES,
        "dimension_labels": DIMENSION_LABELS,
        "grade_labels": GRADE_LABELS,
        **extra,
    }


@router.get("/c/{community_id}/evaluations")
def evaluations_page(request: Request, community_id: CommunityPath, who: SignedIn,
                     ledger: LedgerDep, reader: ReaderDep,
                     lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """The community's rounds with their state, and the form of each act a round waits
    for, for the roles that do it."""
    ledger.store.community(community_id)
    may_read_inquiries(reader, community_id)
    book = ledger.community(community_id)
    today = china_date()
    return Page.of(request, lang).render(
        "console/evaluations.html",
        **form_context(request, ledger, community_id),
        **names(),
        rounds=[evaluation_view(book, r) for r in rounds_of(book)],
        years=[today.year - 1, today.year, today.year + 1],
        this_year=today.year,
        rounds_months=ROUNDS,
        may_open=may(who, community_id, "open_evaluation"),
        may_issue=may(who, community_id, "issue_ballot_codes"),
        may_report=may(who, community_id, "record_evaluation_report"),
        may_vote=may(who, community_id, "cast_ballot"),
        may_consequences=may(who, community_id, "record_consequences"),
        acts={act: may(who, community_id, command) for act, command in ACTS.items()},
        cast=request.query_params.get("cast") == "1",
    )


def evaluated_lines(text: str) -> list[dict[str, str]]:
    """The opening form's list: one person a line, name, post and tenure (elected or
    hired) separated by commas (，or ,) or tabs."""
    people = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in re.split(r"[,，\t]", line)]
        if len(parts) != 3:
            raise InvalidInputError(
                f"line {number}: name, post and tenure (elected or hired), by commas",
                field="evaluated",
            )
        name, post, tenure = parts
        people.append({"name": name, "post": post, "tenure": TENURES.get(tenure, tenure)})
    return people


def _whole(value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInputError(f"the {field} is a whole number", field=field) from None


@router.post("/c/{community_id}/evaluations")
async def post_opening(request: Request, community_id: CommunityPath, who: SignedIn,
                       ledger: LedgerDep) -> Response:  # fmt: skip
    may_do(who, community_id, "open_evaluation")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/evaluations"
    try:
        opened = ledger.community(community_id).open_evaluation(
            who.actor(),
            form.get("idempotency_key"),
            year=_whole(form.get("year"), "year"),
            month=_whole(form.get("month"), "month"),
            evaluated=evaluated_lines(form.get("evaluated")),
        )
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, opened)


@router.post("/c/{community_id}/evaluations/{evaluation}/codes")
async def post_codes(request: Request, community_id: CommunityPath, evaluation: UUID,
                     who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    """Issue the codes and show them, this once, as a page of slips to print."""
    may_do(who, community_id, "issue_ballot_codes")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/evaluations"
    book = ledger.community(community_id)
    try:
        issued = book.issue_ballot_codes(
            who.actor(), form.get("idempotency_key"), evaluation,
            count=_whole(form.get("count"), "count"),
        )  # fmt: skip
        found = book.evaluation(evaluation)
    except GongkaiError as e:
        return refused(page, e, back)
    shown = page.render(
        "console/evaluation_codes.html",
        community=book.community,
        title=title_of(book.community.name, found),
        codes=issued.codes,
        back=page.url(back),
    )
    shown.headers["Cache-Control"] = "no-store"
    return shown


@router.post("/c/{community_id}/evaluations/{evaluation}/reports")
async def post_report(request: Request, community_id: CommunityPath, evaluation: UUID,
                      who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    """A person's written report (述职述廉), its file uploaded with the form."""
    may_do(who, community_id, "record_evaluation_report")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/evaluations"
    files = form.files.get("report", [])
    try:
        if len(files) != 1:
            raise InvalidInputError("attach the written report (one file)", field="report")
        recorded = ledger.community(community_id).record_evaluation_report(
            who.actor(), form.get("idempotency_key"), evaluation,
            person=form.get("person"), sha256=files[0].sha256,
        )  # fmt: skip
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, recorded)


@router.post("/c/{community_id}/evaluations/{evaluation}/ballots")
async def post_ballot(request: Request, community_id: CommunityPath, evaluation: UUID,
                      who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    """A ballot from the form: the code and a grade for every person on each dimension.
    The account only passes the role's check: nothing of it is stored with the ballot."""
    may_do(who, community_id, "cast_ballot")
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/evaluations"
    book = ledger.community(community_id)
    try:
        found = book.evaluation(evaluation)
        grades = {
            person["name"]: {d: form.get(f"grade-{n}-{d}") for d in found.dimensions}
            for n, person in enumerate(found.evaluated)
        }
        book.cast_ballot(who.actor(), evaluation, code=form.get("code"), grades=grades)
    except GongkaiError as e:
        return refused(page, e, back)
    # No seen= position: the page after a ballot says nothing of where it was recorded.
    return RedirectResponse(page.url(back, cast="1"), status_code=303)


@router.post("/c/{community_id}/evaluations/{evaluation}/{act}")
async def post_act(request: Request, community_id: CommunityPath, evaluation: UUID, act: str,
                   who: SignedIn, ledger: LedgerDep) -> Response:  # fmt: skip
    """Open voting, close it, publish the tally, or record what follows from it."""
    command = ACTS.get(act)
    if command is None:
        raise NotFoundError(f"no act {act!r} on an evaluation")
    may_do(who, community_id, command)
    page = page_of(request)
    form = await posted(request, who)
    back = f"/console/c/{community_id}/evaluations"
    book = ledger.community(community_id)
    key = form.get("idempotency_key")
    try:
        result: CommandResult
        if command == "record_consequences":
            result = book.record_consequences(who.actor(), key, evaluation, note=form.get("note"))
        else:
            result = getattr(book, command)(who.actor(), key, evaluation)
    except GongkaiError as e:
        return refused(page, e, back)
    return done(page, back, result)


@portal_router.get("/c/{community_id}/evaluations/{evaluation}")
def results_page(request: Request, community_id: CommunityPath, evaluation: UUID,
                 ledger: LedgerDep, reader: ReaderDep,
                 lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """A round's published tally, per person and dimension, with the command that
    recounts it: for everyone once published (the members and the auditors see a
    round before, without a tally)."""
    community = ledger.store.community(community_id)
    book = ledger.community(community_id)
    found = visible_evaluation(book, reader, evaluation)
    view = evaluation_view(book, found)
    published_at = (view["tally"] or {}).get("published_at")
    return Page.of(request, lang).render(
        "evaluation.html",
        **names(),
        community=community,
        round=view,
        title=title_of(community.name, found),
        published=found.status in PUBLISHED,
        published_at=recorded_text(published_at) if published_at else "",
        dimensions=[d.value for d in Dimension],
        grades=[g.value for g in Grade],
        recount=recount_command(community_id, found.id),
    )
