"""Signed archive bundles: one ZIP file that an auditor checks completely offline, trusting
nothing but the public keys of the community's log and of its cosigners.

Format ``gongkai-bundle/v1``, a ZIP file (deflate) with these entries:

``manifest.json``
    ``{"format", "community", "community_name", "origin", "range": {"first_seq",
    "last_seq", "period", "from", "to"}, "tree_size", "created_at",
    "attachments_missing": count, "files": {path: sha256 hex}}``; ``files``
    lists every other entry except ``manifest.json`` and ``manifest.sig``.
``manifest.sig``
    A signed note by the log key whose text is exactly
    ``gongkai-bundle/v1\\n<origin>\\nsha256 <hex of manifest.json>\\n``. Through the
    manifest's ``files`` it binds every byte of the bundle to the log key.
``checkpoint.txt``
    The log's signed checkpoint (C2SP tlog-checkpoint) with every cosignature, verbatim.
``events.jsonl``
    One JSON object per chain entry in ``seq`` order: ``seq``, ``prev_hash``, ``hash``
    (hex), ``originator_id`` (32 hex digits, the UUID's bytes), ``originator_version``,
    ``topic`` and ``state`` (the stored bytes as UTF-8) or ``state_base64`` when they are
    not UTF-8. The stored form is reproduced exactly, so the hash can be recomputed.
``proofs.jsonl``
    One line per entry: ``seq``, ``leaf_index`` (``seq - 1``) and ``hashes`` (base64):
    the inclusion of the entry's leaf, ``leaf_hash(entry hash)``, in the checkpoint's tree.
``attachments/<sha256 hex>``
    The referenced attachments the store holds, each named by its own SHA-256.
``attachments-missing.txt``
    The SHA-256 (lowercase hex) of each referenced attachment the store does not hold,
    one per line, in ascending order without repeats; the manifest gives their count.
    A file of its own, streamed, so that a long range never makes the manifest large.
``board.html``
    The board as it stood at the end of the range.
``README.txt``
    What this is and how to check it, in Chinese and English.

:func:`write_bundle` writes a bundle from plain data (gathered from the store elsewhere)
after checking that it will verify; :func:`verify_bundle` (in :mod:`ledger.bundle.verify`)
checks one, offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import stat
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import IO, Final, Protocol, runtime_checkable

from ledger.bundle.format import (
    BOARD,
    CHECKPOINT,
    EVENTS,
    FORMAT,
    MANIFEST,
    MANIFEST_SIG,
    MISSING,
    PROOFS,
    README,
    SHA256_HEX,
    BundleRange,
    BundleVerificationError,
    ProofLines,
    attachment_name,
    check_entry,
    check_proof,
    event_line,
    iso_utc,
    key_label,
    manifest_sig_text,
    range_json,
)
from ledger.errors import FormatError
from ledger.files import move_into_place
from ledger.seal import merkle
from ledger.seal.checkpoint import Checkpoint, parse_checkpoint
from ledger.seal.note import NoteSigner, parse_note, sign_note
from ledger.store.base import RawRow, check_community_id


@runtime_checkable
class ProofWriter(Protocol):
    """Writes proofs.jsonl elsewhere (see :mod:`ledger.bundle.proof_writer`): given each
    entry's hash once the entry passed its checks, it works out the entry's proof,
    checks it against the checkpoint and writes its line to the file at ``path``."""

    path: Path

    def add(self, seq: int, entry_hash: bytes) -> None: ...

    def finish(self) -> tuple[str, int]:
        """The SHA-256 of the file and the number of proofs; raises
        BundleVerificationError if a proof did not check."""
        ...


@dataclass(frozen=True, slots=True)
class BundleContents:
    """Everything :func:`write_bundle` needs, as plain data.

    ``rows`` are the raw chain rows ``first_seq..last_seq`` in order and ``proofs`` the
    inclusion proof of each (aligned with ``rows``) in the tree of ``signed_checkpoint``,
    whose size is ``tree_size``. Both may be iterators, consumed once, so that a long
    range is streamed; or ``proofs`` is a :class:`ProofWriter` that works out, checks and
    writes them elsewhere as it is given the entries. ``attachments`` maps SHA-256 hex to
    bytes.
    """

    community_id: str
    community_name: str
    origin: str
    first_seq: int
    last_seq: int
    rows: Iterable[RawRow]
    proofs: Iterable[Sequence[bytes]] | ProofWriter
    signed_checkpoint: str
    tree_size: int
    board_html: str
    period: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    attachments: Mapping[str, bytes] = field(default_factory=dict)
    # Ascending, without repeats: streamed into attachments-missing.txt.
    attachments_missing: Iterable[str] = ()
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BundleSummary:
    """What :func:`write_bundle` wrote."""

    path: Path
    sha256: str
    size: int
    manifest_sha256: str
    entries: int
    attachments: int
    files: Mapping[str, str]


# --- pieces shared by the writer and the verifier --------------------------------------


# --- the writer -------------------------------------------------------------------------


def write_bundle(
    path: Path,
    contents: BundleContents,
    log_signer: NoteSigner,
    *,
    overwrite: bool = False,
) -> BundleSummary:
    """Write ``contents`` as a bundle at ``path``, ``manifest.sig`` signed by ``log_signer``.

    Every entry is checked on the way (seq, hash, link, inclusion proof against the
    checkpoint), so a bundle that would not verify is never written: a failure raises
    :class:`BundleVerificationError` (the data disagrees with its checkpoint) or
    :class:`ValueError` (the contents are inconsistent). The ZIP is written to a temporary
    file beside ``path`` and moved into place only when complete; an existing ``path``
    raises :class:`FileExistsError` unless ``overwrite``.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    checkpoint = _checked_checkpoint(contents, log_signer)
    attachments = _checked_attachments(contents)
    created_at = contents.created_at or datetime.now(UTC)
    created = iso_utc(created_at)  # refuses a naive time before anything is written
    stamp = created_at.astimezone(UTC)

    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as raw:
            files: dict[str, str] = {}
            with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:

                def put(name: str, data: bytes) -> None:
                    zf.writestr(_zipinfo(name, stamp), data)
                    files[name] = hashlib.sha256(data).hexdigest()

                readme = readme_text(contents, log_signer, path.name, created)
                put(README, readme.encode("utf-8"))
                put(CHECKPOINT, contents.signed_checkpoint.encode("utf-8"))
                # A ZIP takes one entry at a time: events go straight in, proofs wait in a
                # spooled temporary file (in memory while small), or in the file of the
                # process that writes them.
                with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spooled:
                    with zf.open(
                        _zipinfo(EVENTS, stamp, STREAM_LEVEL), "w", force_zip64=True
                    ) as events:
                        files[EVENTS], files[PROOFS], count = _write_entries(
                            contents, checkpoint, events, spooled
                        )
                    with zf.open(
                        _zipinfo(PROOFS, stamp, STREAM_LEVEL), "w", force_zip64=True
                    ) as member:
                        if isinstance(contents.proofs, ProofWriter):
                            with contents.proofs.path.open("rb") as written:
                                shutil.copyfileobj(written, member, 1 << 20)
                        else:
                            spooled.seek(0)
                            shutil.copyfileobj(spooled, member, 1 << 20)
                put(BOARD, contents.board_html.encode("utf-8"))
                with zf.open(_zipinfo(MISSING, stamp, STREAM_LEVEL), "w", force_zip64=True) as out:
                    files[MISSING], missing_count = _write_missing(contents, attachments, out)
                for digest in sorted(attachments):
                    put(attachment_name(digest), attachments[digest])

                manifest = _manifest_bytes(contents, created_at, files, missing_count)
                manifest_digest = hashlib.sha256(manifest).hexdigest()
                note = sign_note(manifest_sig_text(contents.origin, manifest_digest), [log_signer])
                zf.writestr(_zipinfo(MANIFEST, stamp), manifest)
                zf.writestr(_zipinfo(MANIFEST_SIG, stamp), str(note).encode("utf-8"))
            raw.flush()
            os.fchmod(raw.fileno(), 0o644)  # mkstemp makes it private; a bundle is shared
            os.fsync(raw.fileno())
            raw.seek(0)
            bundle_digest = hashlib.file_digest(raw, "sha256").hexdigest()
            size = raw.tell()
        move_into_place(tmp, path, overwrite=overwrite)
    finally:
        tmp.unlink(missing_ok=True)
    return BundleSummary(
        path=path,
        sha256=bundle_digest,
        size=size,
        manifest_sha256=manifest_digest,
        entries=count,
        attachments=len(attachments),
        files=files,
    )


def _checked_checkpoint(contents: BundleContents, log_signer: NoteSigner) -> Checkpoint:
    """The checkpoint in ``contents``, parsed, after checking that the range fits it and
    that ``log_signer`` signed it (the verifier asks for one log key to sign both the
    checkpoint and the manifest; the signature itself is the verifier's to check)."""
    check_community_id(contents.community_id)
    if not 1 <= contents.first_seq <= contents.last_seq:
        raise ValueError(
            f"range {contents.first_seq}..{contents.last_seq} must hold at least one entry, "
            "starting at 1 or later"
        )
    try:
        note = parse_note(contents.signed_checkpoint)
        checkpoint = parse_checkpoint(note.text)
    except FormatError as e:
        raise ValueError(f"signed_checkpoint is not a signed checkpoint: {e}") from e
    signer = (log_signer.name, bytes(log_signer.key_id))
    if not any((s.name, s.key_id) == signer for s in note.signatures):
        raise ValueError(
            f"the checkpoint is not signed by the log key {key_label(*signer)} that is to "
            "sign the manifest"
        )
    if checkpoint.origin != contents.origin:
        raise ValueError(
            f"the checkpoint's origin {checkpoint.origin!r} is not {contents.origin!r}"
        )
    if checkpoint.size != contents.tree_size:
        raise ValueError(f"the checkpoint's size {checkpoint.size} is not {contents.tree_size}")
    if contents.last_seq > checkpoint.size:
        raise ValueError(
            f"last_seq {contents.last_seq} is past the checkpoint's tree size {checkpoint.size}"
        )
    return checkpoint


def _checked_attachments(contents: BundleContents) -> dict[str, bytes]:
    attachments = dict(contents.attachments)
    for digest, data in attachments.items():
        if not SHA256_HEX.fullmatch(digest) or hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"attachment {digest!r} is not named by its SHA-256 (lowercase hex)")
    return attachments


def _write_entries(
    contents: BundleContents, checkpoint: Checkpoint, events: IO[bytes], proofs: IO[bytes]
) -> tuple[str, str, int]:
    """Check and write every entry; the SHA-256 of both files and the count."""
    with _Chunked(events) as events_out, _Chunked(proofs) as proofs_out:
        writer = (
            contents.proofs
            if isinstance(contents.proofs, ProofWriter)
            else _ProofsHere(contents.proofs, checkpoint, proofs_out)
        )
        return _write_lines(contents, writer, events_out)


def _write_lines(
    contents: BundleContents, writer: ProofWriter | _ProofsHere, events_out: _Chunked
) -> tuple[str, str, int]:
    """Check each entry and write its line; ``writer`` checks and writes its proof."""
    prev: bytes | None = None
    seq = contents.first_seq - 1
    for row in contents.rows:
        seq += 1
        if seq > contents.last_seq:
            raise ValueError(f"rows go past last_seq {contents.last_seq}")
        check_entry(contents.community_id, row, seq, prev)
        writer.add(seq, row[2])
        prev = row[2]
        events_out.write(event_line(row))
    if seq != contents.last_seq:
        raise ValueError(f"rows end at {seq}, before last_seq {contents.last_seq}")
    proofs_digest, proofs = writer.finish()
    count = seq - contents.first_seq + 1
    if proofs != count:
        raise BundleVerificationError(
            f"{PROOFS}: {proofs} proofs were written for {count} entries"
        )
    return events_out.close(), proofs_digest, count


class _ProofsHere:
    """The proofs given with the contents, checked and written in this process (the
    in-process counterpart of a :class:`ProofWriter`)."""

    def __init__(
        self, proofs: Iterable[Sequence[bytes]], checkpoint: Checkpoint, out: _Chunked
    ) -> None:
        self._proofs = iter(proofs)
        self._tree = merkle.InclusionVerifier(checkpoint.size, checkpoint.root)
        self._lines = ProofLines()
        self._out = out
        self._count = 0

    def add(self, seq: int, entry_hash: bytes) -> None:
        proof = next(self._proofs, None)
        if proof is None:
            raise ValueError("rows and proofs are not aligned: fewer proofs than rows")
        check_proof(seq, entry_hash, proof, self._tree)
        self._out.write(self._lines.line(seq, proof))
        self._count += 1

    def finish(self) -> tuple[str, int]:
        if next(self._proofs, None) is not None:
            raise ValueError("rows and proofs are not aligned: more proofs than rows")
        return self._out.close(), self._count


class _Chunked:
    """Lines gathered into large writes, hashed, and written by a thread of its own.

    A ZIP member's stream deflates and checksums on every call, which costs more than the
    work per line itself, hence the large writes; and deflate, CRC-32 and SHA-256 all let
    other Python threads run, so the thread writing them keeps a second core busy while
    the caller makes the next lines. Use as a context manager: leaving it, even on an
    error, stops the thread."""

    LIMIT: Final = 1 << 20

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._digest = hashlib.sha256()
        self._pending: list[bytes] = []
        self._size = 0
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bundle-writer", daemon=True)

    def __enter__(self) -> _Chunked:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._failure is None:
                try:
                    self._digest.update(chunk)
                    self._out.write(chunk)
                except BaseException as e:  # handed to the caller's thread by close()
                    self._failure = e

    def write(self, line: bytes) -> None:
        self._pending.append(line)
        self._size += len(line)
        if self._size >= self.LIMIT:
            self._flush()

    def _flush(self) -> None:
        if self._failure is not None:
            raise self._failure
        self._chunks.put(b"".join(self._pending))
        self._pending.clear()
        self._size = 0

    def close(self) -> str:
        """Write what is left and wait for it; the SHA-256 (hex) of everything written."""
        self._flush()
        self.__exit__()
        if self._failure is not None:
            raise self._failure
        return self._digest.hexdigest()


def _write_missing(
    contents: BundleContents, attachments: Mapping[str, bytes], out: IO[bytes]
) -> tuple[str, int]:
    """Stream ``attachments_missing`` into its file; its SHA-256 and the count."""
    with _Chunked(out) as lines:
        return _write_missing_lines(contents, attachments, lines)


def _write_missing_lines(
    contents: BundleContents, attachments: Mapping[str, bytes], lines: _Chunked
) -> tuple[str, int]:
    count = 0
    previous = ""
    for name in contents.attachments_missing:
        if not SHA256_HEX.fullmatch(name):
            raise ValueError(f"missing attachment {name!r} is not a SHA-256 in lowercase hex")
        if name <= previous:
            raise ValueError("attachments_missing must be in ascending order without repeats")
        if name in attachments:
            raise ValueError(f"attachment {name} is both included and listed as missing")
        lines.write(f"{name}\n".encode("ascii"))
        previous = name
        count += 1
    return lines.close(), count


def _manifest_bytes(
    contents: BundleContents, created_at: datetime, files: Mapping[str, str], missing: int
) -> bytes:
    manifest = {
        "format": FORMAT,
        "community": contents.community_id,
        "community_name": contents.community_name,
        "origin": contents.origin,
        "range": range_json(
            BundleRange(
                contents.first_seq,
                contents.last_seq,
                contents.period,
                contents.date_from,
                contents.date_to,
            )
        ),
        "tree_size": contents.tree_size,
        "created_at": iso_utc(created_at),
        "attachments_missing": missing,
        "files": dict(files),
    }
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


#: Deflate level of the streamed members: level 1 deflates this JSON twice as fast as the
#: default 6 for a bundle about 15% larger, and these members are most of the export's time.
STREAM_LEVEL: Final = 1


def _zipinfo(name: str, stamp: datetime, level: int | None = None) -> zipfile.ZipInfo:
    year = max(stamp.year, 1980)  # the ZIP format starts in 1980
    info = zipfile.ZipInfo(
        name, date_time=(year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    )
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so that the mode below means what it says
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    if level is not None:
        # ZipFile.open(ZipInfo, "w") takes the level from this attribute, which the
        # stubs leave out (3.13 names it compress_level and keeps this name as an alias).
        setattr(info, "_compresslevel", level)  # noqa: B010
    return info


# --- README -----------------------------------------------------------------------------

# README.txt, Chinese first, then English: a str.format template kept beside the code as
# package data, so that it reads as the auditor will see it.
_README: Final = (
    resources.files("ledger.bundle").joinpath("readme_template.txt").read_text(encoding="utf-8")
)


def readme_text(contents: BundleContents, signer: NoteSigner, file_name: str, created: str) -> str:
    """README.txt for ``contents``: Chinese first, then English."""
    span = [contents.period] if contents.period else []
    if contents.date_from or contents.date_to:
        span.append(
            f"{contents.date_from.isoformat() if contents.date_from else '…'} – "
            f"{contents.date_to.isoformat() if contents.date_to else '…'}"
        )
    return _README.format(
        format=FORMAT,
        name=contents.community_name,
        community=contents.community_id,
        origin=contents.origin,
        first_seq=contents.first_seq,
        last_seq=contents.last_seq,
        period=f" ({', '.join(span)})" if span else "",
        tree_size=contents.tree_size,
        created_at=created,
        signer=key_label(signer.name, signer.key_id),
        file=file_name,
    )
