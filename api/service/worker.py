"""The projection worker inside the service's process (``gongkai serve`` without
``--no-worker``): a thread that keeps this store's read models current, woken by the
service's own commands as they commit and polling slowly for other processes' writes."""

from __future__ import annotations

import logging

from api.service.escalation import escalation_hook
from ledger.application import Ledger
from ledger.store.backend import Store
from projections.db import ReadDB, open_read_db
from projections.registry import all_projections
from projections.runner import ProjectionRunner, store_source
from projections.worker import POLL, CommitSignal, ProjectionWorker, WorkerStatus

log = logging.getLogger("gongkai.projections")


class InProcessWorker:
    """A :class:`ProjectionWorker` with a read models' database of its own (its writes
    never wait behind a reader's connection), stopped with the service."""

    def __init__(self, worker: ProjectionWorker, db: ReadDB) -> None:
        self.worker = worker
        self.db = db

    def status(self) -> WorkerStatus:
        return self.worker.status()

    def stop(self) -> None:
        self.worker.stop()
        self.db.close()


def start_worker(
    store: Store,
    db_url: str,
    signal: CommitSignal,
    *,
    poll: float = POLL,
    ledger: Ledger | None = None,
) -> InProcessWorker:
    """Start the worker on ``store``'s communities (those added later included), or
    StoreError when the read models' database was never made. With ``ledger``, it
    escalates the inquiries due after each pass (:mod:`api.service.escalation`)."""
    db = open_read_db(db_url, create=False)
    runner = ProjectionRunner(db, all_projections(), store_source(store))

    def communities() -> list[str]:
        return [c.id for c in store.communities()]

    def applied(community_id: str, count: int) -> None:
        log.debug("%s: applied %d", community_id, count)

    hook = escalation_hook(ledger, db) if ledger is not None else None
    worker = ProjectionWorker(
        runner, communities, signal, poll=poll, on_applied=applied, after_pass=hook
    )
    worker.start()
    return InProcessWorker(worker, db)
