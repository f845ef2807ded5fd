"""What ``/healthz`` answers: the store is reachable, how far each community's read
models are behind its chain, the state of the in-process projection worker, and each
community's seal. A refused seal (the database lost or changed signed history) makes
the status ``alarm``: the service still answers readers, but a monitor must page."""

from __future__ import annotations

import time
from typing import Any

from api.service.sealer import Sealer
from api.service.worker import InProcessWorker
from ledger.errors import StoreError
from ledger.store.backend import Store
from projections.db import ReadDB
from projections.lag import read_model_lag
from projections.registry import all_projections


def health(
    store: Store,
    read_db: ReadDB | StoreError,
    worker: InProcessWorker | StoreError | None,
    sealer: Sealer | None = None,
) -> dict[str, Any]:
    """The body of ``/healthz``; a StoreError (503) when the ledger's store is not."""
    try:
        communities = len(store.communities())
    except StoreError as e:
        raise StoreError(f"store unavailable: {e}") from e
    body: dict[str, Any] = {"status": "ok", "communities": communities}
    if isinstance(read_db, StoreError):
        body["read_models"] = {"unavailable": str(read_db)}
    else:
        names = [p.name for p in all_projections()]
        try:
            lag = read_model_lag(store, read_db, names)
        except StoreError as e:
            # The ledger answers; only its read models do not: not a reason for 503.
            body["read_models"] = {"unavailable": str(e)}
        else:
            body["read_models"] = {c: lag[c].json() for c in sorted(lag)}
    if worker is None:
        # Run apart ('gongkai projections run'), as the compose file does.
        body["worker"] = {"state": "not in this process"}
    elif isinstance(worker, StoreError):
        body["worker"] = {"state": "not started", "error": str(worker)}
    else:
        body["worker"] = worker.status().json(time.monotonic())
    if sealer is not None:
        seal = sealer.status()
        body["seal"] = seal
        if any(not status.startswith("ok") for status in seal.values()):
            body["status"] = "alarm"
    return body
