"""The attachment store keeps only complete files of an accepted type, named by their
SHA-256; everything refused leaves nothing behind."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.attachments import (
    DEFAULT_DIRECTORY,
    AttachmentTooLargeError,
    FileAttachmentStore,
    UnsupportedMediaTypeError,
    directory_beside,
    files,
    media_type_of,
)
from ledger.errors import InvalidInputError, NotFoundError

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(64)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32)


def leftovers(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")],
)
def test_each_accepted_type_is_stored_by_its_hash(
    tmp_path: Path, data: bytes, media_type: str
) -> None:
    store = FileAttachmentStore(tmp_path)
    digest = hashlib.sha256(data).hexdigest()
    # Sent in small pieces, as an upload streams in.
    stored = store.put(data[i : i + 7] for i in range(0, len(data), 7))
    assert (stored.sha256, stored.size, stored.media_type) == (digest, len(data), media_type)
    assert leftovers(tmp_path) == [f"{digest[:2]}/{digest}"]
    with store.open(digest) as f:
        assert f.read() == data


@pytest.mark.parametrize(
    "head",
    [
        b"<html><body>not a scan</body></html>",
        b"MZ\x90\x00\x03",  # a Windows program named voucher.pdf
        b"GIF89a\x01\x00\x01\x00",
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"%PD",  # too short to be a PDF
        b"\xff\xd8",  # a JPEG's first marker alone
    ],
)
def test_other_content_is_refused_whatever_it_is_called(tmp_path: Path, head: bytes) -> None:
    store = FileAttachmentStore(tmp_path)
    with pytest.raises(UnsupportedMediaTypeError, match="PDF, JPEG, PNG, WebP"):
        store.put([head])
    assert leftovers(tmp_path) == []
    assert media_type_of(head) is None


def test_the_size_limit_stops_the_upload_as_it_is_passed(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path, max_bytes=1000)
    read = 0

    def endless() -> Iterator[bytes]:
        nonlocal read
        yield PDF
        for _ in range(10_000):  # bounded: a store that ignored the limit fails, not hangs
            read += 100
            yield bytes(100)

    with pytest.raises(AttachmentTooLargeError, match="1,000 bytes"):
        store.put(endless())
    assert read <= 1000  # it stopped reading at the limit
    assert leftovers(tmp_path) == []


def test_another_type_is_refused_before_the_rest_of_it_is_read(tmp_path: Path) -> None:
    read = 0

    def big_program() -> Iterator[bytes]:
        nonlocal read
        yield b"MZ\x90\x00"  # a Windows program, its header split across chunks
        for _ in range(10_000):
            read += 1000
            yield bytes(1000)

    with pytest.raises(UnsupportedMediaTypeError):
        FileAttachmentStore(tmp_path).put(big_program())
    assert read <= 1000  # judged from the first bytes, not after 10 MB
    assert leftovers(tmp_path) == []


def test_a_file_at_the_limit_is_kept(tmp_path: Path) -> None:
    data = PDF + bytes(1000 - len(PDF))
    assert FileAttachmentStore(tmp_path, max_bytes=1000).put([data]).size == 1000


def test_a_mismatched_hash_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    other = hashlib.sha256(b"other bytes").hexdigest()
    with pytest.raises(InvalidInputError, match="not the") as caught:
        store.put([PDF], expected_sha256=other)
    assert caught.value.field == "sha256"
    assert leftovers(tmp_path) == []
    right = hashlib.sha256(PDF).hexdigest()
    assert store.put([PDF], expected_sha256=right).sha256 == right


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        FileAttachmentStore(tmp_path).put([])
    assert leftovers(tmp_path) == []


def test_the_same_bytes_twice_are_one_file(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    first, second = store.put([PNG]), store.put([PNG[:5], PNG[5:]])
    assert first == second
    assert len(leftovers(tmp_path)) == 1


def test_a_failing_upload_leaves_nothing_behind(tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield PDF
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        FileAttachmentStore(tmp_path).put(broken())
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "..",
        "A" * 64,  # uppercase hex
        "0" * 63,
        "0" * 64 + "/..",
        "0" * 63 + "\n",
        "",
    ],
)
def test_only_a_sha256_names_a_file(tmp_path: Path, name: str) -> None:
    store = FileAttachmentStore(tmp_path / "attachments")
    (tmp_path / "secret").write_bytes(PDF)
    for call in (store.open, store.has, store.path_of):
        with pytest.raises(InvalidInputError, match="64 lowercase hex"):
            call(name)
    with pytest.raises(InvalidInputError):
        store.put([PDF], expected_sha256=name)


def test_a_file_not_held_is_not_found(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    digest = hashlib.sha256(PDF).hexdigest()
    assert not store.has(digest)
    with pytest.raises(NotFoundError):
        store.open(digest)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/gongkai.sqlite3", Path("data/attachments")),
        ("sqlite:////srv/gongkai/ledger.sqlite3", Path("/srv/gongkai/attachments")),
        ("sqlite:///ledger.sqlite3?mode=rwc", Path("attachments")),
        ("sqlite:///:memory:", DEFAULT_DIRECTORY),
        ("postgresql://gongkai@db/gongkai", DEFAULT_DIRECTORY),
    ],
)
def test_files_are_kept_beside_the_database_by_default(url: str, expected: Path) -> None:
    assert directory_beside(url) == expected


def test_an_upload_left_unfinished_leaves_nothing(tmp_path: Path) -> None:
    store = FileAttachmentStore(tmp_path)
    with store.upload() as upload:
        upload.write(b"%PDF-1.4 half of a file")
    assert list(tmp_path.rglob("*")) == []


def test_writeback_is_started_on_linux_and_skipped_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files._sync_file_range.cache_clear()
    assert (files._sync_file_range() is not None) == sys.platform.startswith("linux")
    store = FileAttachmentStore(tmp_path)
    with store.upload() as upload:
        upload.write(b"%PDF-1.4 " + b"0" * 100_000)
        upload.start_writeback()
        monkeypatch.setattr(files.sys, "platform", "darwin")
        files._sync_file_range.cache_clear()
        assert files._sync_file_range() is None
        upload.start_writeback()  # nothing to call: nothing happens
        kept = upload.finish()
    assert store.path_of(kept.sha256).stat().st_size == 100_009
    files._sync_file_range.cache_clear()
