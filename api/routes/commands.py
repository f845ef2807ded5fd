"""The ledger's commands over HTTP: a clerk drafts and submits, the committee reviews,
the clerk publishes, withdraws and archives; finance entries and their reversals;
residents' objections and the findings on them; residents' opinions and the clerk's
answers.

Every command needs a signed-in account (a bearer token, or a session cookie with its
CSRF token), acts in the account's own community (a disciplinary auditor, who belongs to
the whole street, only on objections) and takes an ``Idempotency-Key`` header: a retry
with the same key answers the first result (200, ``Idempotent-Replayed: true``) and
stores nothing twice. The ledger checks the role again for each command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response

from api.accounts import Account, Accounts
from api.routes.command_bodies import (
    Answer,
    Content,
    CorrectionContent,
    CorrectionReview,
    Entry,
    Erasure,
    Finding,
    Objection,
    OpinionBody,
    Publication,
    Reason,
    Reversal,
    Review,
    SealKeyRegistration,
)
from api.service.auth import SignedIn, get_accounts, require_csrf
from api.service.deps import LedgerDep
from ledger.application import CommunityLedger, Ledger
from ledger.chain.idempotency import CommandResult
from ledger.domain.permissions import require_role
from ledger.domain.vocabulary import Role
from ledger.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from ledger.seal.community_log import CommunityLog

router = APIRouter(
    prefix="/v1/communities/{community_id}",
    tags=["commands"],
    dependencies=[Depends(require_csrf)],
)

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="any unique string per intended act; a retry reuses it",
    ),
]

#: What a street-wide account (no community) may do in a community's ledger.
STREET_COMMANDS = frozenset(
    {
        "verify_objection",
        "dismiss_objection",
        "register_report_key",
        "acknowledge_report",
        "record_investigation_step",
        "conclude_report",
        # Democratic evaluation: the street's disciplinary committee holds the ballot.
        "open_evaluation",
        "record_evaluation_report",
        "issue_ballot_codes",
        "open_voting",
        "cast_ballot",
        "close_voting",
        "publish_tally",
        "record_consequences",
        # The satisfaction survey, held with the evaluation on its ballot mechanism.
        "open_survey",
        "issue_survey_codes",
        "open_survey_voting",
        "answer_survey",
        "close_survey_voting",
        "publish_survey_tally",
    }
)


def run_command(
    command: str,
    principal: SignedIn,
    ledger: LedgerDep,
    community_id: str,
    response: Response,
    call: Callable[[CommunityLedger], CommandResult],
) -> dict[str, Any]:
    if principal.community is None:
        if command not in STREET_COMMANDS:
            raise PermissionDeniedError(
                "a street-wide account records only findings on objections, the "
                f"handling of reports and democratic evaluations, not {command}"
            )
    elif principal.community != community_id:
        raise PermissionDeniedError(
            f"this account acts in community {principal.community!r}, not {community_id!r}"
        )
    done = call(ledger.community(community_id))
    response.status_code = 200 if done.replayed else 201
    if done.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return {
        "result": done.result,
        "first_seq": done.first_seq,
        "last_seq": done.last_seq,
        "replayed": done.replayed,
    }


@router.post("/disclosures", status_code=201)
def draft_disclosure(
    community_id: str,
    body: Content,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "draft_disclosure",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.draft_disclosure(who.actor(), key, **body.model_dump()),
    )


@router.post("/disclosures/{disclosure_id}/revisions", status_code=201)
def revise_draft(
    community_id: str,
    disclosure_id: UUID,
    body: Content,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "revise_draft",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.revise_draft(who.actor(), key, disclosure_id, **body.model_dump()),
    )


@router.post("/disclosures/{disclosure_id}/submission", status_code=201)
def submit_for_review(
    community_id: str,
    disclosure_id: UUID,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "submit_for_review",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.submit_for_review(who.actor(), key, disclosure_id),
    )


@router.post("/disclosures/{disclosure_id}/reviews", status_code=201)
def review(
    community_id: str,
    disclosure_id: UUID,
    body: Review,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "review",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.review(who.actor(), key, disclosure_id, **body.model_dump()),
    )


@router.post("/disclosures/{disclosure_id}/publication", status_code=201)
def publish(
    community_id: str,
    disclosure_id: UUID,
    body: Publication,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "publish",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.publish(who.actor(), key, disclosure_id, **body.model_dump()),
    )


@router.post("/disclosures/{disclosure_id}/withdrawal", status_code=201)
def withdraw(
    community_id: str,
    disclosure_id: UUID,
    body: Reason,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "withdraw",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.withdraw(who.actor(), key, disclosure_id, reason=body.reason),
    )


@router.post("/disclosures/{disclosure_id}/archival", status_code=201)
def archive(
    community_id: str,
    disclosure_id: UUID,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "archive",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.archive(who.actor(), key, disclosure_id),
    )


@router.post("/disclosures/{disclosure_id}/objections", status_code=201)
def raise_objection(
    community_id: str,
    disclosure_id: UUID,
    body: Objection,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "raise_objection",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.raise_objection(who.actor(), key, disclosure_id, **body.model_dump()),
    )


@router.post("/disclosures/{disclosure_id}/opinions", status_code=201)
def leave_opinion(
    community_id: str,
    disclosure_id: UUID,
    body: OpinionBody,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """A resident's or representative's opinion (意见) on a posted item, signed with
    their account's name."""
    return run_command(
        "leave_opinion",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.leave_opinion(
            who.actor(),
            key,
            disclosure_id,
            resident=who.display_name,
            text=body.text,
            text_public=body.text_public,
        ),
    )


@router.post("/disclosures/{disclosure_id}/opinions/{opinion_id}/answer", status_code=201)
def answer_opinion(
    community_id: str,
    disclosure_id: UUID,
    opinion_id: UUID,
    body: Answer,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """The clerk's answer (答复) to an opinion, public with the item."""
    return run_command(
        "answer_opinion",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.answer_opinion(
            who.actor(), key, disclosure_id, opinion_id, answer=body.answer
        ),
    )


@router.post("/objections/{correction_id}/verification", status_code=201)
def verify_objection(
    community_id: str,
    correction_id: UUID,
    body: Finding,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "verify_objection",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.verify_objection(who.actor(), key, correction_id, finding=body.finding),
    )


@router.post("/objections/{correction_id}/dismissal", status_code=201)
def dismiss_objection(
    community_id: str,
    correction_id: UUID,
    body: Reason,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "dismiss_objection",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.dismiss_objection(who.actor(), key, correction_id, reason=body.reason),
    )


@router.post("/objections/{correction_id}/correction-draft", status_code=201)
def draft_correction(
    community_id: str,
    correction_id: UUID,
    body: CorrectionContent,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """The corrected version and its explanation, submitted for review."""
    return run_command(
        "draft_correction",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.draft_correction(who.actor(), key, correction_id, **body.model_dump()),
    )


@router.post("/objections/{correction_id}/correction-reviews", status_code=201)
def review_correction(
    community_id: str,
    correction_id: UUID,
    body: CorrectionReview,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "review_correction",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.review_correction(who.actor(), key, correction_id, **body.model_dump()),
    )


@router.post("/objections/{correction_id}/correction", status_code=201)
def publish_correction(
    community_id: str,
    correction_id: UUID,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """Post the reviewed correction as the disclosure's new version."""
    return run_command(
        "publish_correction",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.publish_correction(who.actor(), key, correction_id),
    )


@router.post("/finance/entries", status_code=201)
def record_entry(
    community_id: str,
    body: Entry,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "record_entry",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.record_entry(who.actor(), key, **body.model_dump()),
    )


@router.post("/finance/entries/{entry_id}/reversal", status_code=201)
def reverse_entry(
    community_id: str,
    entry_id: UUID,
    body: Reversal,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    return run_command(
        "reverse_entry",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.reverse_entry(who.actor(), key, entry_id, **body.model_dump()),
    )


@router.post("/seal-keys", status_code=201)
def register_seal_key(
    community_id: str,
    body: SealKeyRegistration,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """The chair records the key that seals a committee member's reviews."""

    def register(c: CommunityLedger) -> CommandResult:
        require_role(who.actor(), "register_seal_key")  # before saying who is a member
        member = require_committee_member(get_accounts(request), community_id, body.member)
        done = c.register_seal_key(who.actor(), key, member=body.member, vkey=body.vkey)
        accept_as_cosigner(ledger, community_id, body.vkey, member.display_name)
        return done

    return run_command("register_seal_key", who, ledger, community_id, response, register)


@router.post("/people/{person_id}/erasure", status_code=201)
def erase_person(
    community_id: str,
    person_id: str,
    body: Erasure,
    key: IdempotencyKey,
    who: SignedIn,
    ledger: LedgerDep,
    response: Response,
) -> dict[str, Any]:
    """The chair erases a person's personal data (PIPL 第四十七条): their key is destroyed
    and every view shows [已删除] where their fields were; the chain still verifies."""
    return run_command(
        "erase_person",
        who,
        ledger,
        community_id,
        response,
        lambda c: c.erase_person(who.actor(), key, person_id=person_id, **body.model_dump()),
    )


#: The roles whose reviews a seal key seals.
SEALING_ROLES = frozenset({Role.COMMITTEE_MEMBER, Role.COMMITTEE_CHAIR})


def require_committee_member(accounts: Accounts, community_id: str, member: str) -> Account:
    """A seal key is registered for an account of the community's supervision committee."""
    try:
        account = accounts.directory.get(member)
    except NotFoundError:
        account = None
    if account is None or account.community != community_id or account.role not in SEALING_ROLES:
        raise InvalidInputError(
            f"{member!r} is no member of the supervision committee of {community_id!r}",
            field="member",
        )
    return account


def accept_as_cosigner(ledger: Ledger, community_id: str, vkey: str, label: str) -> None:
    """A member's registered seal key also seals the log's checkpoints (the committee's
    cosignature): accepted as the community's cosigner, if it was not already."""
    CommunityLog(ledger.store, community_id).add_cosigner(
        vkey.strip(), role="committee", label=label
    )
