"""Attachments and vouchers kept by content: each file is named by its SHA-256, the
hash that disclosures and finance entries record, so that a stored file can be checked
against the chain and a bundle can carry it.

- :mod:`.media`: which files are accepted (PDF, JPEG, PNG, WebP), judged by content;
- :mod:`.files`: the content-addressed file store, written as the upload streams in.
"""

from ledger.attachments.files import (
    DEFAULT_DIRECTORY,
    DEFAULT_MAX_BYTES,
    AttachmentTooLargeError,
    FileAttachmentStore,
    StoredAttachment,
    Upload,
    directory_beside,
)
from ledger.attachments.media import MEDIA_TYPES, UnsupportedMediaTypeError, media_type_of

__all__ = [
    "DEFAULT_DIRECTORY",
    "DEFAULT_MAX_BYTES",
    "MEDIA_TYPES",
    "AttachmentTooLargeError",
    "FileAttachmentStore",
    "StoredAttachment",
    "UnsupportedMediaTypeError",
    "Upload",
    "directory_beside",
    "media_type_of",
]
