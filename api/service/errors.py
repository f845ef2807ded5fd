"""Domain errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.attachments import AttachmentTooLargeError, UnsupportedMediaTypeError
from ledger.errors import (
    ConflictError,
    FormatError,
    GongkaiError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
    VerificationError,
)
from ledger.seal.community_log import InconsistentCheckpointError
from ledger.seal.cosignatures import BadCosignatureError, UnknownCosignerError

PROBLEM_JSON = "application/problem+json"

# Most specific first: the first matching class decides the status.
_STATUS: list[tuple[type[GongkaiError], int, str]] = [
    (NotFoundError, 404, "Not found"),
    (UnknownCosignerError, 403, "Unknown cosigner"),
    (BadCosignatureError, 403, "Bad cosignature"),
    (InconsistentCheckpointError, 409, "Inconsistent with a signed checkpoint"),
    (FormatError, 400, "Malformed"),
    (VerificationError, 422, "Verification failed"),
    (AttachmentTooLargeError, 413, "Content too large"),
    (UnsupportedMediaTypeError, 415, "Unsupported media type"),
    (InvalidInputError, 422, "Invalid input"),
    (InvalidTransitionError, 409, "Not allowed in the current state"),
    (IdempotencyKeyReusedError, 422, "Idempotency key reused"),
    (ConflictError, 409, "Conflict"),
    (PermissionDeniedError, 403, "Forbidden"),
    (StoreError, 503, "Store unavailable"),
]


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _handle(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GongkaiError)
    for cls, status, title in _STATUS:
        if isinstance(exc, cls):
            extra = (
                {"field": exc.field} if isinstance(exc, InvalidInputError) and exc.field else {}
            )
            return problem(status, title, str(exc), **extra)
    return problem(500, "Internal error", "the ledger raised an unexpected error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(GongkaiError, _handle)


async def _handle_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    detail = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
    return problem(422, "Invalid request", detail)


async def _handle_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    response = problem(exc.status_code, str(exc.detail), str(exc.detail))
    # The framework's own headers stay: a 405 must say which methods are allowed (Allow).
    response.headers.update(exc.headers or {})
    return response


def install_all(app: FastAPI) -> None:
    """Every error the service answers is problem+json, its own and the framework's."""
    install(app)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
