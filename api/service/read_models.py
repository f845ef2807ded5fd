"""The read models' database for the service's routes, opened for the app's lifetime,
who is reading, as the projections' visibility rules name them, and the answers built
from a read model, kept while it stays at the same position."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from api.accounts.model import Principal
from api.service.auth import CurrentAccount
from api.service.lifespan import open_for_lifespan, opened
from api.service.settings import Settings
from projections.db import ReadDB, open_read_db
from projections.kept_reports import KeptReports
from projections.visibility import ANONYMOUS, Reader


def install_read_models(app: FastAPI, settings: Settings) -> None:
    """Open the read models' database for the app's lifetime (503 on the read routes
    before 'gongkai db init'), with empty caches of current views and of the communities'
    compliance and 十个防止 reports."""
    open_for_lifespan(
        app, "read_db", lambda: open_read_db(settings.db_url, create=False), ReadDB.close
    )
    app.state.current_views = CurrentViews()
    app.state.kept_reports = KeptReports()


# The dependencies here do no I/O: async, so that FastAPI calls them on the event loop
# rather than sending each to the thread pool (that hop costs more than they do).
async def get_read_db(request: Request) -> ReadDB:
    db: ReadDB = opened(request, "read_db", "read models")
    return db


def reader_of(principal: Principal | None) -> Reader:
    if principal is None:
        return ANONYMOUS
    return Reader(principal.role, principal.community)


async def current_reader(principal: CurrentAccount) -> Reader:
    return reader_of(principal)


@dataclass(frozen=True, slots=True)
class _View:
    position: int
    built_at: float
    value: Any


class CurrentViews:
    """What a route built from one projection's read model of a community, kept while
    the projection stays at the position it was built at: a position names one state of
    the read model, so what was built at it holds until the worker applies the next
    entry. Callers put only what they built from one state (the position they read
    before building it and after is the same).

    A rebuild (``gongkai projections rebuild``) comes back through the same positions,
    so nothing is kept longer than ``max_age`` seconds either.
    """

    def __init__(self, max_age: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._views: dict[tuple[str, str], _View] = {}
        self._building: dict[tuple[str, str], threading.Lock] = {}

    def get(self, projection: str, community_id: str, position: int) -> Any:
        """What was built at ``position`` and is still fresh, or None."""
        with self._lock:
            view = self._views.get((projection, community_id))
        if view is None or view.position != position:
            return None
        return view.value if self._clock() - view.built_at <= self._max_age else None

    def building(self, projection: str, community_id: str) -> threading.Lock:
        """The lock that whoever builds this view holds: when a kept view goes stale
        under load, one request builds the next while the others wait for it, instead
        of every request in flight building its own."""
        with self._lock:
            return self._building.setdefault((projection, community_id), threading.Lock())

    def put(self, projection: str, community_id: str, position: int, value: Any) -> None:
        """Keep ``value``, built at ``position``, unless a newer position is kept (a
        slower request read an older state) and still fresh."""
        now = self._clock()
        with self._lock:
            kept = self._views.get((projection, community_id))
            if kept is None or kept.position <= position or now - kept.built_at > self._max_age:
                self._views[projection, community_id] = _View(position, now, value)


async def get_current_views(request: Request) -> CurrentViews:
    views: CurrentViews = request.app.state.current_views
    return views


async def get_kept_reports(request: Request) -> KeptReports:
    kept: KeptReports = request.app.state.kept_reports
    return kept


ReadDBDep = Annotated[ReadDB, Depends(get_read_db)]
ReaderDep = Annotated[Reader, Depends(current_reader)]
CurrentViewsDep = Annotated[CurrentViews, Depends(get_current_views)]
KeptReportsDep = Annotated[KeptReports, Depends(get_kept_reports)]
