"""The demo's files: a one-page PDF for each scanned voucher (凭证) and attached
document, made from a few lines of text, so that the demo's items name files the
service really holds and serves. The same text always makes the same bytes, so a
second run of the demo stores nothing new."""

from __future__ import annotations

import hashlib

from ledger.attachments import FileAttachmentStore

_FONT_SIZE = 14
_LEADING = 20


def _escape(line: str) -> str:
    """A line as a PDF literal string (ISO 32000-1 §7.3.4.2): ASCII, with the three
    characters that delimit or escape it escaped."""
    ascii_line = line.encode("ascii", "replace").decode("ascii")
    return ascii_line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def one_page_pdf(lines: list[str]) -> bytes:
    """A valid one-page A4 PDF 1.4 showing ``lines`` in Helvetica (ASCII only: the
    standard 14 fonts carry no Chinese glyphs, and embedding a font would make the
    demo's files large)."""
    text = [f"BT /F1 {_FONT_SIZE} Tf 72 770 Td {_LEADING} TL"]
    text += [f"({_escape(line)}) '" for line in lines]
    text.append("ET")
    stream = "\n".join(text).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    # The cross-reference table: one 20-byte line per object (§7.5.4).
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def demo_file(store: FileAttachmentStore | None, lines: list[str]) -> str:
    """Store the PDF of ``lines`` (when there is a store) and answer its SHA-256."""
    pdf = one_page_pdf(["Tianhai Community (demo)", *lines])
    if store is None:
        return hashlib.sha256(pdf).hexdigest()
    return store.put([pdf]).sha256
