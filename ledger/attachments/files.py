"""The content-addressed attachment store on the file system: ``data/attachments/`` on
the embedded default. A file is kept at ``<dir>/<first two hex digits>/<sha256>``.

An upload is written to a temporary file beside its place while it streams in, hashed
and counted as it goes: the size limit stops it as soon as it is passed, not after the
whole body has been read, and the type is judged from its first bytes. Only a complete,
accepted file whose hash is the one expected is moved into place; anything refused
leaves nothing behind. The same bytes stored twice are one file."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from ledger.attachments.media import SNIFF_BYTES, require_media_type
from ledger.errors import InvalidInputError, NotFoundError
from ledger.files import move_into_place

DEFAULT_MAX_BYTES: Final = 20 << 20  # 20 MiB
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")


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
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value):
        raise InvalidInputError(f"{what} must be 64 lowercase hex digits", field=what)
    return value


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
        expected = check_sha256(expected_sha256) if expected_sha256 is not None else None
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                digest, size, media_type = self._copy(chunks, out)
                out.flush()
                os.fsync(out.fileno())
            if media_type is None:
                raise InvalidInputError("the file is empty", field="file")
            if expected is not None and digest != expected:
                raise InvalidInputError(
                    f"the file's SHA-256 is {digest}, not the {expected} it was sent with",
                    field="sha256",
                )
            path = self.path_of(digest)
            path.parent.mkdir(exist_ok=True)
            # The same bytes stored already: the file there is this one.
            with contextlib.suppress(FileExistsError):
                move_into_place(tmp, path, overwrite=False)
            return StoredAttachment(digest, size, media_type)
        finally:
            tmp.unlink(missing_ok=True)

    def _copy(self, chunks: Iterable[bytes], out: BinaryIO) -> tuple[str, int, str | None]:
        """Write ``chunks`` to ``out``: their SHA-256, their size, and their media type,
        judged as soon as the first bytes are in, so that a file of another type is
        refused before the rest of it is read (None when nothing came)."""
        digest = hashlib.sha256()
        size = 0
        head = b""
        media_type: str | None = None
        for chunk in chunks:
            size += len(chunk)
            if size > self.max_bytes:
                raise AttachmentTooLargeError(
                    f"the file is larger than the limit of {self.max_bytes:,} bytes",
                    field="file",
                )
            if media_type is None:
                head += chunk[: SNIFF_BYTES - len(head)]
                if len(head) == SNIFF_BYTES:
                    media_type = require_media_type(head)
            digest.update(chunk)
            out.write(chunk)
        if media_type is None and head:  # a file shorter than the sniffed start
            media_type = require_media_type(head)
        return digest.hexdigest(), size, media_type
