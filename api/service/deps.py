"""Request dependencies: the ledger, built once per app by ``create_app``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ledger.application import Ledger


# No I/O: async, so that FastAPI calls it on the event loop, not in the thread pool.
async def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
