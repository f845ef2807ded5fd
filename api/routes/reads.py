"""A disclosure's history, the community's finances and its audit trail as JSON, with the
same scopes as the board: a disclosure's versions to whoever may see its scope (personal
data masked on the public view; to anyone else it does not exist), the finances
(所属内部人员, DOMAIN.md) to the community's members and the street's auditors, the audit
trail to the community's leadership and the auditors."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from api.accounts.errors import AuthenticationError
from api.service.as_of import AsOfDep
from api.service.deps import LedgerDep
from api.service.params import PERIOD_PATTERN
from api.service.read_models import ReadDBDep, ReaderDep
from ledger.domain.vocabulary import Scope
from ledger.errors import NotFoundError, PermissionDeniedError
from projections import finance
from projections.audit_trail import acts_by, acts_for
from projections.history import ContentVersion, changes, history
from projections.masking import mask_name, mask_text
from projections.recipients import key_ids, recipients_view
from projections.seal_keys import keys_in_force, registered_keys
from projections.visibility import Reader, can_see, reads_everything, sees_public_view

router = APIRouter(prefix="/v1/communities", tags=["reads"])

#: A month, YYYY-MM, as the ledger takes a finance period: a bound of the months asked for.
PERIOD = PERIOD_PATTERN


def version_json(
    version: ContentVersion,
    *,
    public: bool,
    community_id: str = "",
    keys: Mapping[str, bytes | None] | None = None,
) -> dict[str, Any]:
    """One version as JSON; its recipients (an aid list's) opened with ``keys``, the
    keys held for them now (:mod:`projections.recipients`). Without ``keys`` the
    recipients are left out: the sealed form is never shown as it is stored."""
    data = {
        k: (str(v) if isinstance(v, UUID) else v) for k, v in dataclasses.asdict(version).items()
    }
    data["attachments"] = list(version.attachments)
    del data["recipients"]
    if keys is not None:
        data["recipients"] = recipients_view(community_id, version.recipients, keys, public=public)
    if public:
        data["title"], data["body"] = mask_text(version.title), mask_text(version.body)
        data["actor"] = mask_name(version.actor)
    return data


@router.get("/{community_id}/disclosures/{disclosure_id}/history")
def disclosure_history(
    community_id: str,
    disclosure_id: UUID,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
) -> dict[str, Any]:
    """Every version of a disclosure's content, oldest first, and what changed between
    each and the next. Its latest version's scope decides who may read it."""
    ledger.store.community(community_id)
    versions = history(db, community_id, disclosure_id, as_of)
    if not versions or not can_see(reader, community_id, versions[-1].scope):
        raise NotFoundError(f"no disclosure {disclosure_id} in {community_id!r}")
    public = sees_public_view(reader, community_id)
    keys = ledger.community(community_id).personal_keys(
        {k for v in versions for k in key_ids(v.recipients)}
    )
    return {
        "community": community_id,
        "disclosure_id": str(disclosure_id),
        "as_of": as_of,
        "public_view": public,
        "versions": [
            version_json(v, public=public, community_id=community_id, keys=keys) for v in versions
        ],
        "changes": [
            {"from": old.version, "to": new.version, "fields": list(changes(old, new).fields)}
            for old, new in itertools.pairwise(versions)
        ],
    }


def may_read_finances(reader: Reader, community_id: str) -> None:
    """Finance is for the community's members and the auditors: 401 anonymous, 403 others.
    Every route that shows finances (the JSON ones, the package) asks this."""
    if reader.role is None:
        raise AuthenticationError("the finances are shown to the community's members: sign in")
    if not can_see(reader, community_id, Scope.INTERNAL):
        raise PermissionDeniedError(
            f"the finances of {community_id!r} are shown to its members and the auditors"
        )


@router.get("/{community_id}/finance/entries")
def finance_entries(
    community_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
    period_from: Annotated[str | None, Query(alias="from", pattern=PERIOD)] = None,
    period_to: Annotated[str | None, Query(alias="to", pattern=PERIOD)] = None,
) -> dict[str, Any]:
    """Every finance entry of the periods, reversed and reversing ones too (amounts in
    integer fen)."""
    ledger.store.community(community_id)
    may_read_finances(reader, community_id)
    rows = finance.entries(db, community_id, period_from, period_to, as_of)
    return {
        "community": community_id,
        "as_of": as_of,
        "entries": [entry_json(r) for r in rows],
    }


def entry_json(r: finance.FinanceEntryRow) -> dict[str, Any]:
    """One entry as the finance routes give it; ``invalid`` says why it cannot be booked
    (its period is no month), and is null on every entry recorded as the ledger checks."""
    return {
        "entry_id": str(r.entry_id),
        "seq": r.seq,
        "recorded_at": r.recorded_at.isoformat(),
        "kind": r.kind,
        "amount_fen": r.amount_fen,
        "account": r.account,
        "account_name": r.account_name,
        "counterparty": r.counterparty,
        "voucher_sha256": r.voucher_sha256,
        "period": r.period,
        "memo": r.memo,
        "reverses": str(r.reverses) if r.reverses else None,
        "reversed": r.reversed,
        "reversal_reason": r.reversal_reason,
        "invalid": r.invalid,
    }


@router.get("/{community_id}/finance/totals")
def finance_totals(
    community_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
    by: Literal["month", "quarter", "year"] = "month",
) -> dict[str, Any]:
    """Income, expense, net and the running balance per period and per account. Entries
    marked invalid (a period that is no month) are in no period's sums: they are listed
    under ``invalid_entries``, so that the sums never look complete when they are not."""
    ledger.store.community(community_id)
    may_read_finances(reader, community_id)
    return {
        "community": community_id,
        "by": by,
        "as_of": as_of,
        "periods": [dataclasses.asdict(t) for t in finance.totals(db, community_id, by, as_of)],
        "invalid_entries": [
            entry_json(r) for r in finance.invalid_entries(db, community_id, as_of)
        ],
    }


@router.get("/{community_id}/audit-trail")
def audit_trail(
    community_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
    subject: Annotated[UUID | None, Query(description="a disclosure, objection or entry")] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    role: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    """Every review and approval act (of one subject and those that concern it, or of
    an actor or role), oldest first. The acts carry opinions on items of every scope,
    so they are for the community's leadership and the auditors, like the entries."""
    ledger.store.community(community_id)
    if reader.role is None:
        raise AuthenticationError("the audit trail is for the community's leadership: sign in")
    if not reads_everything(reader, community_id):
        raise PermissionDeniedError(
            "the audit trail shows acts on items of every scope: only the community's "
            "leadership and the disciplinary auditors may read it"
        )
    if subject is not None:
        acts = acts_for(db, community_id, subject, as_of, with_related=True)
    else:
        acts = acts_by(db, community_id, actor, role=role, as_of=as_of)
    return {
        "community": community_id,
        "as_of": as_of,
        "acts": [
            {k: (str(v) if isinstance(v, UUID) else v) for k, v in dataclasses.asdict(a).items()}
            for a in acts
        ],
    }


@router.get("/{community_id}/seal-keys")
def seal_keys(community_id: str, ledger: LedgerDep, db: ReadDBDep) -> dict[str, Any]:
    """The supervision committee's registered seal keys (监审印章备案), oldest first, and
    each member's key in force: public, as a checkpoint's keys are, so that anyone can
    check the seals on what is posted."""
    ledger.store.community(community_id)
    keys = registered_keys(db, community_id)
    return {
        "community": community_id,
        "in_force": {k.member: k.vkey for k in keys_in_force(db, community_id).values()},
        "registered": [dataclasses.asdict(k) for k in keys],
    }
