"""The witness over HTTP (C2SP tlog-witness): ``POST /add-checkpoint`` and the monitoring
``GET /<origin hash>/checkpoint``. Answers are the :class:`~ledger.seal.witness.Witness`'s
replies unchanged, in plain text; nothing is built at import time."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import StoreError
from ledger.seal.witness import MAX_REQUEST_BYTES, TEXT, Witness, WitnessReply


def _respond(reply: WitnessReply) -> Response:
    # The content type goes in as a header so that Starlette does not append a charset:
    # a 409 must be exactly "text/x.tlog.size".
    return Response(
        content=reply.body, status_code=reply.status, headers={"content-type": reply.content_type}
    )


def _text(status: int, reason: str) -> Response:
    return _respond(WitnessReply(status, TEXT, (reason + "\n").encode("utf-8"), reason))


async def _read_body(request: Request) -> bytes | None:
    """The request body, or None once it is longer than the witness accepts."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            return None
    return bytes(body)


def create_witness_app(witness: Witness) -> FastAPI:
    """The HTTP service of ``witness``; submission and monitoring prefixes are both ``/``."""
    app = FastAPI(
        title="gongkai witness",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.witness = witness

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            return _text(400, f"malformed request: longer than {MAX_REQUEST_BYTES} bytes")
        try:
            # The SQLite write lock may be waited for: off the event loop.
            reply = await run_in_threadpool(witness.add_checkpoint, body)
        except StoreError:
            return _text(503, "the witness cannot use its state; try again later")
        return _respond(reply)

    @app.get("/{origin_hash}/checkpoint")
    async def checkpoint(origin_hash: str) -> Response:
        try:
            reply = await run_in_threadpool(witness.latest, origin_hash)
        except StoreError:
            return _text(503, "the witness cannot use its state; try again later")
        return _respond(reply)

    async def plain_http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        response = _text(exc.status_code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    app.add_exception_handler(StarletteHTTPException, plain_http_error)
    return app
