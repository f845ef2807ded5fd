"""The community's finances as a Fiscal Data Package (a zip of ``datapackage.json`` and
the entries as CSV), for the same readers as the finance JSON: the community's members
and the street's auditors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

# The JSON finance routes' own check, so that the export cannot come to show the
# finances to anyone those routes would not.
from api.routes.reads import PERIOD, may_read_finances
from api.service.as_of import AsOfDep
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep, ReaderDep
from projections.finance.package import MEDIA_TYPE, build_package, zip_bytes

router = APIRouter(prefix="/v1/communities", tags=["reads"])

Month = Annotated[str | None, Query(pattern=PERIOD)]


@router.get(
    "/{community_id}/finance/package",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "the package, as a zip"}},
)
def finance_package(
    community_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    as_of: AsOfDep,
    period_from: Annotated[Month, Query(alias="from")] = None,
    period_to: Annotated[Month, Query(alias="to")] = None,
) -> Response:
    """Every finance entry of the months (all when none are given), reversed and
    reversing ones too, as a Fiscal Data Package: amounts in integer fen, rows in chain
    order, as the record stood after entry ``as_of`` (default: the latest the finance
    read model has applied). The same record gives the same bytes."""
    community = ledger.store.community(community_id)
    may_read_finances(reader, community_id)
    package = build_package(
        db,
        community_id,
        as_of=as_of,
        period_from=period_from,
        period_to=period_to,
        community_name=community.name,
    )
    return Response(
        zip_bytes(package.files),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{package.filename}"'},
    )
