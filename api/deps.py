"""Request dependencies: the ledger, built once per app by ``create_app``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ledger.application import Ledger


def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
