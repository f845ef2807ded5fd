"""When a read route answers for: now, after a given chain entry (``as_of``), or at a
given time (``at``), which the ledger's clock turns into the entry the record had then
reached. Every read model keeps its state after each entry, so the entry is all a
route needs; it answers with it, so the reader learns which entry a time meant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query
from fastapi.concurrency import run_in_threadpool

from api.service.params import MAX_SEQ
from api.service.read_models import ReadDBDep
from ledger.errors import InvalidInputError
from projections.clock import seq_at


async def requested_entry(
    community_id: str,
    db: ReadDBDep,
    as_of: Annotated[
        int | None, Query(ge=0, le=MAX_SEQ, description="as it stood after this entry")
    ] = None,
    at: Annotated[
        datetime | None,
        Query(
            description="as it stood at this time: ISO 8601 with its zone, "
            "e.g. 2026-07-01T00:00:00+08:00 (one of as_of and at)"
        ),
    ] = None,
) -> int | None:
    """The entry asked for (None: now)."""
    if at is None:
        return as_of
    if as_of is not None:
        raise InvalidInputError("as_of and at both say when: give one of them", field="at")
    # The clock is read from the database: in the thread pool, off the event loop.
    return await run_in_threadpool(seq_at, db, community_id, at)


AsOfDep = Annotated[int | None, Depends(requested_entry)]
