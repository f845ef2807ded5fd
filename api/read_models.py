"""The read models' database for the service's routes, opened for the app's lifetime,
and who is reading, as the projections' visibility rules name them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from api.accounts.model import Principal
from api.auth import CurrentAccount
from api.lifespan import open_for_lifespan, opened
from api.settings import Settings
from projections.db import ReadDB, open_read_db
from projections.visibility import ANONYMOUS, Reader


def install_read_models(app: FastAPI, settings: Settings) -> None:
    """Open the read models' database for the app's lifetime (503 on the read routes
    before 'gongkai db init')."""
    open_for_lifespan(
        app, "read_db", lambda: open_read_db(settings.db_url, create=False), ReadDB.close
    )


def get_read_db(request: Request) -> ReadDB:
    db: ReadDB = opened(request, "read_db", "read models")
    return db


def reader_of(principal: Principal | None) -> Reader:
    if principal is None:
        return ANONYMOUS
    return Reader(principal.role, principal.community)


def current_reader(principal: CurrentAccount) -> Reader:
    return reader_of(principal)


ReadDBDep = Annotated[ReadDB, Depends(get_read_db)]
ReaderDep = Annotated[Reader, Depends(current_reader)]
