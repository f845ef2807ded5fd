"""The FastAPI application factory. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import ledger as ledger_routes
from api.settings import Settings
from ledger.application import Ledger
from ledger.errors import StoreError
from ledger.store import open_store


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = Ledger(open_store(settings.db_url))
        app.state.ledger = ledger
        try:
            yield
        finally:
            ledger.close()

    app = FastAPI(title="gongkai", version="0.1.0", lifespan=lifespan)
    errors.install_all(app)
    app.include_router(ledger_routes.router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, object]:
        ledger: Ledger = app.state.ledger
        try:
            communities = len(ledger.store.communities())
        except StoreError as e:
            raise StoreError(f"store unavailable: {e}") from e
        return {"status": "ok", "communities": communities}

    return app
