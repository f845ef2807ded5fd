"""The read models' database for the service's routes, opened for the app's lifetime,
and who is reading, as the projections' visibility rules name them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from api.accounts.model import Principal
from api.auth import CurrentAccount
from api.settings import Settings
from ledger.errors import StoreError
from projections.db import ReadDB, open_read_db
from projections.visibility import ANONYMOUS, Reader


def install_read_models(app: FastAPI, settings: Settings) -> None:
    """Open the read models' database around the app's lifespan. The service creates no
    table: before 'gongkai db init' the read routes answer 503."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: Any) -> AsyncIterator[Any]:
        db: ReadDB | StoreError
        try:
            db = open_read_db(settings.db_url, create=False)
        except StoreError as e:
            db = e
        app.state.read_db = db
        try:
            async with inner(running) as state:
                yield state
        finally:
            if isinstance(db, ReadDB):
                db.close()

    app.router.lifespan_context = lifespan


def get_read_db(request: Request) -> ReadDB:
    db: ReadDB | StoreError = request.app.state.read_db
    if isinstance(db, StoreError):
        raise StoreError(f"read models unavailable: {db}")
    return db


def reader_of(principal: Principal | None) -> Reader:
    if principal is None:
        return ANONYMOUS
    return Reader(principal.role, principal.community)


def current_reader(principal: CurrentAccount) -> Reader:
    return reader_of(principal)


ReadDBDep = Annotated[ReadDB, Depends(get_read_db)]
ReaderDep = Annotated[Reader, Depends(current_reader)]
