"""Signed archive bundles from the console: the street's disciplinary auditor (and a
community's leadership, for its own record) downloads the bundle of any period, the same
bundle ``gongkai export`` writes, with the command that checks it offline shown beside
the form. The bundle is written to a temporary file, sent, and removed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse

from api.accounts import Principal
from api.cli.export import export_bundle, parse_range
from api.console.routes import NAMES, CommunityPath
from api.portal.routes import LangQuery, Page, PortalRoute, community_named
from api.routes.attachments import attachment_store
from api.service.auth import SignedIn
from api.service.deps import LedgerDep
from api.service.keyfiles import find_log_key
from ledger.errors import NotFoundError, PermissionDeniedError, StoreError
from projections.visibility import Reader, reads_everything

router = APIRouter(
    prefix="/console", route_class=PortalRoute, include_in_schema=False, tags=["console"]
)
DateQuery = Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")]


def may_export(who: Principal, community_id: str) -> None:
    """A bundle holds every entry of every scope: the auditors' and the leadership's."""
    if not reads_everything(Reader(who.role, who.community), community_id):
        raise PermissionDeniedError(
            "a bundle holds the whole record: the disciplinary auditors and the "
            "community's leadership download it"
        )


@router.get("/bundles")
def bundles_page(request: Request, who: SignedIn, ledger: LedgerDep,
                 lang: LangQuery = None) -> HTMLResponse:  # fmt: skip
    """The form of a bundle for each community the reader may export."""
    communities = [
        c
        for c in sorted(ledger.store.communities(), key=lambda c: c.id)
        if reads_everything(Reader(who.role, who.community), c.id)
    ]
    if not communities:
        raise PermissionDeniedError("bundles are for the auditors and the leadership")
    page = Page.of(request, lang)
    vkeys: dict[str, str] = getattr(request.app.state, "log_vkeys", {})
    return page.render(
        "console/bundles.html", **NAMES, who=who, communities=communities, vkeys=vkeys
    )


@router.get("/c/{community_id}/bundle.zip")
async def download_bundle(request: Request, community_id: CommunityPath, who: SignedIn,
                          ledger: LedgerDep, background: BackgroundTasks,
                          date_from: Annotated[DateQuery, Query(alias="from")] = None,
                          date_to: Annotated[DateQuery, Query(alias="to")] = None,
                          ) -> FileResponse:  # fmt: skip
    """The signed bundle of the days ``from``..``to`` (China time; either open)."""
    community = community_named(ledger, community_id)
    may_export(who, community_id)
    dates = parse_range(None, date_from or None, date_to or None)
    keys_dir: Path = request.app.state.keys_dir
    log_key = find_log_key(keys_dir, community_id)
    if log_key is None:
        raise StoreError(f"this service holds no log key for {community_id!r}")
    directory = Path(tempfile.mkdtemp(prefix="gongkai-bundle-"))
    background.add_task(shutil.rmtree, directory, ignore_errors=True)
    name = f"{community.id}-{date_from or 'start'}-{date_to or 'now'}.zip"
    try:
        summary = await run_in_threadpool(
            export_bundle,
            ledger.store,
            community_id,
            dates,
            directory / name,
            log_key,
            files=attachment_store(request),
        )
    except NotFoundError:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return FileResponse(
        summary.path,
        media_type="application/zip",
        filename=name,
        headers={"X-Content-Type-Options": "nosniff", "X-Bundle-SHA256": summary.sha256},
        background=background,
    )
