"""Which attachments are accepted, judged by their first bytes and never by their name
or the type a browser claims: a scanned notice or voucher is a PDF, a photograph a JPEG,
PNG or WebP, and nothing else is kept."""

from __future__ import annotations

from typing import Final

from ledger.errors import InvalidInputError

#: The media types accepted, with their names for people.
MEDIA_TYPES: Final = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
}
#: Enough of the file's start to tell every accepted type.
SNIFF_BYTES: Final = 12

_PNG: Final = b"\x89PNG\r\n\x1a\n"
_JPEG: Final = b"\xff\xd8\xff"
_PDF: Final = b"%PDF-"


class UnsupportedMediaTypeError(InvalidInputError):
    """The file is none of the accepted types; nothing was stored."""


def media_type_of(head: bytes) -> str | None:
    """The accepted media type whose signature ``head`` (the file's first bytes) starts
    with, or None. The signatures: PDF's header ``%PDF-`` (ISO 32000-1 §7.5.2), JPEG's
    start-of-image marker ``FF D8`` and the ``FF`` of the marker after it (ITU-T T.81),
    PNG's eight-byte signature (RFC 2083 §3.1), and WebP's RIFF header whose form type
    is ``WEBP`` (RFC 9649)."""
    if head.startswith(_PDF):
        return "application/pdf"
    if head.startswith(_JPEG):
        return "image/jpeg"
    if head.startswith(_PNG):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def require_media_type(head: bytes) -> str:
    """:func:`media_type_of`, or :class:`UnsupportedMediaTypeError` saying what is."""
    found = media_type_of(head)
    if found is None:
        accepted = ", ".join(MEDIA_TYPES.values())
        raise UnsupportedMediaTypeError(
            f"the file is not one of the accepted types ({accepted}), judged by its content",
            field="file",
        )
    return found
