"""A resource opened for the app's lifetime beside the ledger (the accounts, the read
models), around whatever lifespan the app already has. The service creates no table:
when the resource is missing (before 'gongkai db init') the error is kept, and the
routes that need it answer 503 with it, while the others still answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI, Request

from ledger.errors import StoreError

T = TypeVar("T")


def open_for_lifespan(
    app: FastAPI, name: str, opener: Callable[[], T], closer: Callable[[T], None]
) -> None:
    """Open ``opener()`` as ``app.state.<name>`` while the app runs (or keep the
    StoreError it raised), and close it with ``closer`` at the end."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: Any) -> AsyncIterator[Any]:
        resource: T | StoreError
        try:
            resource = opener()
        except StoreError as e:
            resource = e
        setattr(app.state, name, resource)
        try:
            async with inner(running) as state:
                yield state
        finally:
            if not isinstance(resource, StoreError):
                closer(resource)

    app.router.lifespan_context = lifespan


def opened(request: Request, name: str, what: str) -> Any:
    """``app.state.<name>``, or a StoreError (503) saying why ``what`` is unavailable."""
    resource = getattr(request.app.state, name)
    if isinstance(resource, StoreError):
        raise StoreError(f"{what} unavailable: {resource}")
    return resource
