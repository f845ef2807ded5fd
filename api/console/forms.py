"""The console's form posts, read as they stream in: text fields are kept (each and all
of them bounded), and each file is written straight into the attachment store, so that
a voucher photographed on a phone is never held whole in memory, and an upload past
the size limit or of a type not accepted is stopped at once (see
:mod:`ledger.attachments.files`).

A browser sends a form's fields in the order of the page, and the console's forms put
the CSRF token first: a file part that arrives before the token has been checked is
refused, so that another site's page cannot make the service store files."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from python_multipart.multipart import MultipartParser, parse_options_header

from api.routes.attachments import WRITEBACK_EVERY
from api.service.auth import CSRF_FIELD
from ledger.attachments import FileAttachmentStore, StoredAttachment, Upload
from ledger.errors import InvalidInputError

#: The most text one field may hold, and all of a form's text together.
MAX_FIELD: Final = 64 * 1024
MAX_TEXT: Final = 256 * 1024
#: The most files one form may carry (a disclosure names at most 50).
MAX_FILES: Final = 50


@dataclass
class Form:
    """A form's text fields (repeated ones in order) and the files it carried, stored."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[StoredAttachment]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    text: bytearray = field(default_factory=bytearray)
    upload: Upload | None = None
    unsynced: int = 0  # bytes written since the writeback was last started


class _Reader:
    """The callbacks of python-multipart's streaming parser, over one request."""

    def __init__(self, store: FileAttachmentStore, check_csrf: Callable[[str | None], None]):
        self.store = store
        self.check_csrf = check_csrf
        self.form = Form()
        self.csrf_checked = False
        self.text_size = 0
        self.part = _Part()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.finished: list[tuple[str, Upload]] = []
        self.stack = contextlib.ExitStack()

    def on_part_begin(self) -> None:
        self.part = _Part()
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if filename is None:
            return
        self.part.filename = filename.decode("utf-8", "replace")
        if not self.part.filename:
            return  # a file input left empty: no file
        if not self.csrf_checked:
            self.check_csrf(None)  # refuses: no token came before the file
        if len(self.finished) >= MAX_FILES:
            raise InvalidInputError(f"a form carries at most {MAX_FILES} files", field="file")
        self.part.upload = self.stack.enter_context(self.store.upload())

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        if part.upload is not None:
            part.upload.write(data[start:end])
            part.unsynced += end - start
            if part.unsynced >= WRITEBACK_EVERY:  # as the attachment route does
                part.upload.start_writeback()
                part.unsynced = 0
        elif part.filename is None:
            self._add_text(part.text, data[start:end])

    def on_part_end(self) -> None:
        part = self.part
        if part.upload is not None:
            self.finished.append((part.name, part.upload))
        elif part.filename is None:
            self.add_field(part.name, part.text.decode("utf-8", "replace"))

    def _add_text(self, into: bytearray, chunk: bytes) -> None:
        self.text_size += len(chunk)
        if len(into) + len(chunk) > MAX_FIELD or self.text_size > MAX_TEXT:
            raise InvalidInputError("the form's text is too long", field="form")
        into += chunk

    def add_field(self, name: str, value: str) -> None:
        self.form.fields.setdefault(name, []).append(value)
        if name == CSRF_FIELD and not self.csrf_checked:
            self.check_csrf(value)
            self.csrf_checked = True


async def read_form(
    request: Request,
    store: FileAttachmentStore,
    check_csrf: Callable[[str | None], None],
) -> Form:
    """The form posted in ``request`` (multipart or urlencoded), its files stored.
    ``check_csrf`` is called with the ``csrf_token`` field as soon as it comes (and
    with None if a file comes first); it raises to refuse the form."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    reader = _Reader(store, check_csrf)
    with reader.stack:
        if content_type == b"multipart/form-data" and b"boundary" in options:
            parser = MultipartParser(
                options[b"boundary"],
                {
                    "on_part_begin": reader.on_part_begin,
                    "on_header_field": reader.on_header_field,
                    "on_header_value": reader.on_header_value,
                    "on_header_end": reader.on_header_end,
                    "on_headers_finished": reader.on_headers_finished,
                    "on_part_data": reader.on_part_data,
                    "on_part_end": reader.on_part_end,
                },
            )
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        elif content_type == b"application/x-www-form-urlencoded":
            body = bytearray()
            async for chunk in request.stream():
                reader._add_text(body, chunk)
            for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
                reader.add_field(name, value)
        else:
            raise InvalidInputError("send the form as a browser does", field="form")
        if not reader.csrf_checked:
            check_csrf(None)
        for name, upload in reader.finished:
            stored = await run_in_threadpool(upload.finish)
            reader.form.files.setdefault(name, []).append(stored)
    return reader.form
