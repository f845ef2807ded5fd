"""The demo's PDFs are real PDFs: every offset of the cross-reference table points at its
object, ``startxref`` at the table, and the text is escaped as PDF literal strings."""

from __future__ import annotations

import re
from pathlib import Path

from api.demo.files import demo_file, one_page_pdf
from ledger.attachments import FileAttachmentStore, media_type_of


def test_the_cross_reference_table_points_at_each_object() -> None:
    pdf = one_page_pdf(["Voucher, period 2026-07", "account office: 12000 fen"])
    assert media_type_of(pdf[:12]) == "application/pdf"
    assert pdf.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf)[1])  # type: ignore[index]
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    entries = re.findall(rb"(\d{10}) 00000 n \n", pdf[startxref:])
    assert len(entries) == 5
    for number, offset in enumerate(entries, start=1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"/Length (\d+)", pdf)[1])  # type: ignore[index]
    stream = pdf[pdf.index(b"stream\n") + 7 :]
    assert stream[length:].startswith(b"\nendstream")


def test_text_is_escaped_and_kept_ascii() -> None:
    pdf = one_page_pdf(["a (bracketed) back\\slash", "天海"])
    assert rb"(a \(bracketed\) back\\slash) '" in pdf
    assert b"(?? ) '" not in pdf
    assert rb"(??) '" in pdf  # no glyphs for Chinese in Helvetica: replaced, never raw bytes


def test_the_same_text_is_the_same_file(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    first = demo_file(store, ["the same"])
    assert demo_file(store, ["the same"]) == first
    assert demo_file(None, ["the same"]) == first  # named alike without a store
    assert store.has(first)
    assert demo_file(store, ["another"]) != first
