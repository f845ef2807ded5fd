"""Reading a bundle's ZIP file safely, for :mod:`ledger.bundle.verify`: its entries
checked before anything is read (plain relative names, each once, regular files,
stored or deflated, bounded sizes), then each member read within its limit and any
damage reported as a :class:`~ledger.bundle.format.BundleVerificationError`."""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final

from ledger.bundle.verify_parse import READ_ERRORS, fail

MAX_MEMBERS: Final = 100_000
MAX_MEMBER_SIZE: Final = 4 << 30
MAX_TOTAL_SIZE: Final = 16 << 30

# Plain relative paths: components of letters, digits, ".", "_", "-" that start with a
# letter or digit, so never "", "." or "..", never absolute, never a backslash.
_SAFE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")


class BundleZip:
    """An open bundle, read with the limits above."""

    def __init__(self, path: Path, zf: zipfile.ZipFile) -> None:
        self.path = path
        self.zf = zf

    # 1. A readable ZIP: safe names, no duplicates, bounded sizes.
    def check_zip(self) -> str:
        """Step 1 of the verifier: the sentence saying what was checked."""
        infos = self.zf.infolist()
        if len(infos) > MAX_MEMBERS:
            fail(f"{self.path.name}: {len(infos)} entries, more than the limit {MAX_MEMBERS}")
        seen: set[str] = set()
        total = 0
        for info in infos:
            name = info.orig_filename
            if not _SAFE_NAME.fullmatch(name) or name != info.filename:
                fail(f"{name!r}: unsafe entry name (absolute, '..', or odd characters)")
            if name in seen:
                fail(f"{name}: appears twice in the ZIP")
            seen.add(name)
            if info.flag_bits & 0x1:
                fail(f"{name}: encrypted")
            file_type = stat.S_IFMT(info.external_attr >> 16)  # Unix mode, when given
            if info.create_system == 3 and file_type not in (0, stat.S_IFREG):
                fail(f"{name}: not a regular file (a link, a directory or a device)")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                fail(f"{name}: unsupported compression method {info.compress_type}")
            if info.file_size > MAX_MEMBER_SIZE:
                fail(f"{name}: {info.file_size} bytes, more than the limit {MAX_MEMBER_SIZE}")
            total += info.file_size
        if total > MAX_TOTAL_SIZE:
            fail(f"{self.path.name}: {total} bytes unpacked, more than the limit")
        return (
            f"1. {self.path.name} is a readable ZIP of {len(infos)} entries, each a plain "
            f"relative name without '..' and appearing once, {total} bytes unpacked in all."
        )

    def read_small(self, name: str, limit: int) -> bytes:
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            fail(f"{name}: missing from the bundle")
        if info.file_size > limit:
            fail(f"{name}: {info.file_size} bytes, more than the limit {limit}")
        with self.member(name) as stream:
            try:
                return stream.read()
            except READ_ERRORS as e:
                fail(f"{name}: cannot be read: {e}")

    @contextmanager
    def member(self, name: str) -> Iterator[IO[bytes]]:
        try:
            stream = self.zf.open(name)
        except KeyError:
            fail(f"{name}: missing from the bundle")
        except READ_ERRORS as e:
            fail(f"{name}: cannot be read: {e}")
        with stream:
            yield stream

    def sha256_of(self, name: str) -> str:
        with self.member(name) as stream:
            digest = hashlib.sha256()
            try:
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
            except READ_ERRORS as e:
                fail(f"{name}: cannot be read: {e}")
        return digest.hexdigest()
