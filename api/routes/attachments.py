"""Attachments and vouchers over HTTP: a clerk uploads a file before the command that
names it (the ledger refuses a command naming a file it does not hold), and a reader
fetches a file named by an item that reader may see.

An upload is the file itself as the request body, streamed into the store as it
arrives: refused with 413 as soon as it passes the size limit (at once, when its
``Content-Length`` says so), with 415 when its first bytes are no PDF, JPEG, PNG or
WebP, and with 422 when ``?sha256=`` is given and the bytes are not those. Anything
refused leaves nothing stored.

A file is served only to a reader who may see one of the items naming it: a
disclosure's file as its latest version's scope says (as its history is), a voucher
(凭证) to the community's members and the auditors (as the finances are). To anyone
else, and for any name that is not a SHA-256, it does not exist (404)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from api.service.auth import SignedIn, require_csrf
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep, ReaderDep
from ledger.attachments import (
    AttachmentTooLargeError,
    FileAttachmentStore,
    Upload,
    media_type_of,
)
from ledger.attachments.files import SHA256_HEX
from ledger.attachments.media import SNIFF_BYTES
from ledger.domain.permissions import COMMAND_ROLES
from ledger.domain.vocabulary import Scope
from ledger.errors import NotFoundError, PermissionDeniedError
from projections.attachment_refs import refs_to
from projections.db import ReadDB
from projections.history import history
from projections.visibility import Reader, can_see

router = APIRouter(prefix="/v1/communities/{community_id}/attachments", tags=["attachments"])

#: The commands that name files: whoever may run one of them may upload.
NAMING_COMMANDS: Final = (
    "draft_disclosure",
    "revise_draft",
    "draft_correction",
    "record_entry",
    "reverse_entry",
)
_EXTENSIONS: Final = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
}


def attachment_store(request: Request) -> FileAttachmentStore:
    store: FileAttachmentStore = request.app.state.attachments
    return store


def may_upload(who: SignedIn, community_id: str) -> None:
    """Refuse an account that may run none of the commands naming files here."""
    if who.community != community_id:
        raise PermissionDeniedError(
            f"files are uploaded by the staff of {community_id!r}, in their own community"
        )
    if not any(who.role in COMMAND_ROLES[command] for command in NAMING_COMMANDS):
        raise PermissionDeniedError(
            f"a {who.role.value} records nothing that names a file, so uploads none"
        )


@router.post("", status_code=201, dependencies=[Depends(require_csrf)])
async def upload_attachment(
    community_id: str,
    request: Request,
    who: SignedIn,
    ledger: LedgerDep,
    sha256: Annotated[
        str | None,
        Query(pattern=SHA256_HEX.pattern, description="the file's SHA-256, checked on arrival"),
    ] = None,
) -> dict[str, Any]:
    """Store the request's body as an attachment. Answers its SHA-256 (to name in the
    command), size and media type, judged by its content."""
    ledger.store.community(community_id)
    may_upload(who, community_id)
    store = attachment_store(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > store.max_bytes:
        raise AttachmentTooLargeError(
            f"the file is larger than the limit of {store.max_bytes:,} bytes", field="file"
        )
    upload = await run_in_threadpool(store.upload)
    with upload:
        await receive(request.stream(), upload)
        stored = await run_in_threadpool(upload.finish, sha256)
    return {"sha256": stored.sha256, "size": stored.size, "media_type": stored.media_type}


#: How often, as a body arrives, the kernel is asked to start writing it to the disk.
WRITEBACK_EVERY: Final = 1 << 20


async def receive(stream: AsyncIterator[bytes], upload: Upload) -> None:
    """Write the body into ``upload`` as it arrives: hashed, counted and type-checked
    chunk by chunk (a file of another type or past the limit is refused before more is
    read), and every megabyte handed to the kernel's writeback, so that the final sync
    has little left to do. All in the event loop's thread: a chunk's hashing and writing
    take microseconds, and a thread would wait for the interpreter's lock each time."""
    since_writeback = 0
    async for chunk in stream:
        upload.write(chunk)
        since_writeback += len(chunk)
        if since_writeback >= WRITEBACK_EVERY:
            upload.start_writeback()
            since_writeback = 0


def may_see_file(db: ReadDB, reader: Reader, community_id: str, sha256: str) -> bool:
    """Whether an item naming the file is one ``reader`` may see."""
    for ref in refs_to(db, community_id, sha256):
        if ref.subject == "voucher":
            if can_see(reader, community_id, Scope.INTERNAL):
                return True
        else:
            versions = history(db, community_id, ref.subject_id)
            if versions and can_see(reader, community_id, versions[-1].scope):
                return True
    return False


@router.get("/{sha256}", response_class=FileResponse)
def fetch_attachment(
    community_id: str,
    sha256: str,
    request: Request,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
) -> FileResponse:
    """The file, to a reader who may see an item naming it."""
    ledger.store.community(community_id)
    store = attachment_store(request)
    missing = NotFoundError(f"no attachment {sha256[:64]!r} in {community_id!r}")
    if not SHA256_HEX.fullmatch(sha256) or not may_see_file(db, reader, community_id, sha256):
        raise missing
    path = store.path_of(sha256)
    try:
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise missing from None
    media_type = media_type_of(head) or "application/octet-stream"
    extension = _EXTENSIONS.get(media_type, "bin")
    # Pictures are shown in the page; a PDF is saved, never run by the browser here.
    disposition = "inline" if media_type.startswith("image/") else "attachment"
    return FileResponse(
        path,
        media_type=media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{sha256}.{extension}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            # Who may see it can change (a withdrawal): a cache must ask again.
            "Cache-Control": "private, no-cache",
        },
    )
