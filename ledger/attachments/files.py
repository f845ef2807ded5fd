"""The content-addressed attachment store on the file system: ``data/attachments/`` on
the embedded default. A file is kept at ``<dir>/<first two hex digits>/<sha256>``.

An upload is written to a temporary file beside its place while it streams in, hashed
and counted as it goes: the size limit stops it as soon as it is passed, not after the
whole body has been read, and the type is judged from its first bytes. Only a complete,
accepted file whose hash is the one expected is moved into place; anything refused
leaves nothing behind. The same bytes stored twice are one file."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from ledger.attachments.media import SNIFF_BYTES, require_media_type
from ledger.errors import InvalidInputError, NotFoundError
from ledger.files import move_into_place

DEFAULT_MAX_BYTES: Final = 20 << 20  # 20 MiB
#: Beside the embedded database's default file (``data/gongkai.sqlite3``).
DEFAULT_DIRECTORY: Final = Path("data/attachments")
_SQLITE_PREFIX: Final = "sqlite:///"
SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")


class AttachmentTooLargeError(InvalidInputError):
    """The upload passed the size limit; it was stopped there and nothing was stored."""


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    sha256: str
    size: int
    media_type: str


def check_sha256(value: str, what: str = "sha256") -> str:
    """``value`` if it is a SHA-256 in lowercase hex; never a path, so that no name can
    reach outside the store."""
    if not isinstance(value, str) or not SHA256_HEX.fullmatch(value):
        raise InvalidInputError(f"{what} must be 64 lowercase hex digits", field=what)
    return value


def directory_beside(store_url: str) -> Path:
    """Where the files are kept by default: ``attachments/`` beside an SQLite ledger's
    file, as its accounts and read models are; for a PostgreSQL ledger, which has no
    file, :data:`DEFAULT_DIRECTORY`."""
    if store_url.startswith(_SQLITE_PREFIX):
        database = Path(store_url.removeprefix(_SQLITE_PREFIX).partition("?")[0])
        if database.name and database.name != ":memory:":
            return database.parent / "attachments"
    return DEFAULT_DIRECTORY


class FileAttachmentStore:
    """Attachments as files under ``directory``."""

    def __init__(self, directory: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes

    def path_of(self, sha256: str) -> Path:
        digest = check_sha256(sha256)
        return self.directory / digest[:2] / digest

    def has(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        """The stored file, for reading; :class:`NotFoundError` if it is not held."""
        try:
            return self.path_of(sha256).open("rb")
        except FileNotFoundError:
            raise NotFoundError(f"no attachment {sha256}") from None

    def put(
        self, chunks: Iterable[bytes], *, expected_sha256: str | None = None
    ) -> StoredAttachment:
        """Store the bytes of ``chunks`` (read in order, never all at once). Refused, with
        nothing stored: past :attr:`max_bytes`, not an accepted type, empty, or not the
        bytes of ``expected_sha256`` when one is given."""
        with self.upload() as upload:
            for chunk in chunks:
                upload.write(chunk)
            return upload.finish(expected_sha256)

    def upload(self) -> Upload:
        """An upload to write chunk by chunk as they arrive (an HTTP body streaming in),
        then :meth:`Upload.finish`; leaving its ``with`` block unfinished stores nothing."""
        self.directory.mkdir(parents=True, exist_ok=True)
        return Upload(self)


_SYNC_FILE_RANGE_WRITE: Final = 2  # <linux/fs.h>


@functools.cache
def _sync_file_range() -> Any:
    if sys.platform != "linux":
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return function


def start_writeback(fd: int) -> None:
    """Start the writeback of every dirty page of ``fd``; returns at once."""
    function = _sync_file_range()
    if function is not None:
        function(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)  # a failure only leaves more to fsync


class Upload:
    """One file being received: written to a temporary file beside its place, hashed and
    counted as it comes, and judged by type as soon as its first bytes are in, so that a
    file too big or of another type is refused before the rest of it is read."""

    def __init__(self, store: FileAttachmentStore) -> None:
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.directory, prefix=".upload-")
        self._tmp = Path(name)
        self._out: BinaryIO = os.fdopen(fd, "wb")
        self._digest = hashlib.sha256()
        self.size = 0
        self._head = b""
        self._media_type: str | None = None

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._store.max_bytes:
            raise AttachmentTooLargeError(
                f"the file is larger than the limit of {self._store.max_bytes:,} bytes",
                field="file",
            )
        if self._media_type is None:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
            if len(self._head) == SNIFF_BYTES:
                self._media_type = require_media_type(self._head)
        self._digest.update(chunk)
        self._out.write(chunk)

    def start_writeback(self) -> None:
        """Ask the kernel to start writing what has been written so far to the disk,
        without waiting for it (Linux's ``sync_file_range``), so that the ``fsync`` of
        :meth:`finish` finds most of a large file on the disk already. Elsewhere, or if
        the call is refused, nothing happens: ``finish`` still syncs it all."""
        self._out.flush()
        start_writeback(self._out.fileno())

    def finish(self, expected_sha256: str | None = None) -> StoredAttachment:
        """Keep the file, once it is whole: refused if empty, or if it is not the bytes
        of ``expected_sha256`` when one is given."""
        expected = check_sha256(expected_sha256) if expected_sha256 is not None else None
        if self._media_type is None and self._head:  # a file shorter than the sniffed start
            self._media_type = require_media_type(self._head)
        if self._media_type is None:
            raise InvalidInputError("the file is empty", field="file")
        digest = self._digest.hexdigest()
        if expected is not None and digest != expected:
            raise InvalidInputError(
                f"the file's SHA-256 is {digest}, not the {expected} it was sent with",
                field="sha256",
            )
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        path = self._store.path_of(digest)
        path.parent.mkdir(exist_ok=True)
        # The same bytes stored already: the file there is this one.
        with contextlib.suppress(FileExistsError):
            move_into_place(self._tmp, path, overwrite=False)
        return StoredAttachment(digest, self.size, self._media_type)

    def __enter__(self) -> Upload:
        return self

    def __exit__(self, *exc: object) -> None:
        self._out.close()
        self._tmp.unlink(missing_ok=True)
