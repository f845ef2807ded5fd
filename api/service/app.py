"""The FastAPI application factory. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.console import router as console_router
from api.portal import router as portal_router
from api.routes import attachments as attachment_routes
from api.routes import auth as auth_routes
from api.routes import board as board_routes
from api.routes import calendar as calendar_routes
from api.routes import commands as command_routes
from api.routes import committee as committee_routes
from api.routes import evaluations as evaluation_routes
from api.routes import feedback as feedback_routes
from api.routes import finance_package as finance_package_routes
from api.routes import finance_periods as finance_period_routes
from api.routes import inquiries as inquiry_routes
from api.routes import ledger as ledger_routes
from api.routes import meetings as meeting_routes
from api.routes import reads as read_routes
from api.routes import reports as report_routes
from api.routes import seal as seal_routes
from api.routes import surveys as survey_routes
from api.routes import ten_preventions as ten_preventions_routes
from api.routes import tiles as tile_routes
from api.service import errors
from api.service.auth import install_accounts
from api.service.health import health
from api.service.keyfiles import find_log_key
from api.service.read_models import install_read_models
from api.service.sealer import Sealer
from api.service.settings import Settings
from api.service.worker import InProcessWorker, start_worker
from ledger.application import Ledger
from ledger.application.notifying import NotifyingLedger
from ledger.attachments import FileAttachmentStore
from ledger.errors import GongkaiError, StoreError
from ledger.store import open_store
from ledger.store.backend import Store
from projections.worker import CommitSignal


def log_vkeys(store: Store, settings: Settings) -> dict[str, str]:
    """The verifier key of each community whose log key this service holds."""
    found = {}
    try:
        communities = store.communities()
    except GongkaiError:
        return {}
    for community in communities:
        key = find_log_key(settings.keys_dir, community.id)
        if key is not None:
            found[community.id] = key.vkey
    return found


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.db_url)
        attachments = FileAttachmentStore(
            settings.attachments_directory, max_bytes=settings.attachment_max_bytes
        )
        app.state.attachments = attachments
        app.state.keys_dir = settings.keys_dir
        worker: InProcessWorker | StoreError | None = None
        if settings.worker:
            # The commands' own commits wake the worker: a publication is on the board
            # as soon as the worker has applied it, not at its next poll.
            signal = CommitSignal()
            ledger: Ledger = NotifyingLedger(store, signal.committed, attachments)
            try:
                worker = start_worker(
                    store, settings.db_url, signal, poll=settings.worker_poll, ledger=ledger
                )
            except StoreError as e:
                worker = e  # before 'gongkai db init': /healthz says so
        else:
            ledger = Ledger(store, attachments)
        app.state.ledger = ledger
        app.state.worker = worker
        app.state.sealer = None
        sealer = None
        try:  # the worker is stopped even when the rest of the start fails
            app.state.log_vkeys = log_vkeys(ledger.store, settings)
            app.state.public_url = settings.public_url
            if settings.checkpoint_interval > 0 and app.state.log_vkeys:
                sealer = Sealer(
                    ledger.store,
                    settings.keys_dir,
                    interval=settings.checkpoint_interval,
                    witnesses=settings.witnesses,
                )
                sealer.start()
            app.state.sealer = sealer
            yield
        finally:
            if sealer is not None:
                sealer.stop()
            if isinstance(worker, InProcessWorker):
                worker.stop()
            ledger.close()

    app = FastAPI(title="gongkai", version="0.1.0", lifespan=lifespan)
    errors.install_all(app)
    install_accounts(app, settings)
    install_read_models(app, settings)
    app.include_router(auth_routes.router)
    app.include_router(board_routes.router)
    app.include_router(command_routes.router)
    app.include_router(attachment_routes.router)
    app.include_router(read_routes.router)
    app.include_router(feedback_routes.router)
    app.include_router(inquiry_routes.commands)
    app.include_router(inquiry_routes.reads)
    app.include_router(report_routes.commands)
    app.include_router(report_routes.reads)
    app.include_router(calendar_routes.commands)
    app.include_router(calendar_routes.reads)
    app.include_router(ten_preventions_routes.router)
    app.include_router(finance_package_routes.router)
    app.include_router(finance_period_routes.commands)
    app.include_router(finance_period_routes.reads)
    app.include_router(meeting_routes.commands)
    app.include_router(meeting_routes.reads)
    app.include_router(committee_routes.commands)
    app.include_router(committee_routes.reads)
    app.include_router(evaluation_routes.commands)
    app.include_router(evaluation_routes.reads)
    app.include_router(survey_routes.commands)
    app.include_router(survey_routes.reads)
    app.include_router(ledger_routes.router)
    app.include_router(seal_routes.router)
    app.include_router(tile_routes.router)
    app.include_router(portal_router)
    app.include_router(console_router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, object]:
        ledger: Ledger = app.state.ledger
        return health(ledger.store, app.state.read_db, app.state.worker, app.state.sealer)

    return app
