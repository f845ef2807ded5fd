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
``personal-keys.json`` (only in a bundle for readers who may see personal data)
    ``{"format": "gongkai-personal-keys/v1", "community", "keys": [{"person_id",
    "key_id", "key": base64 or null}]}``: the keys of the people whose sealed fields its
    entries hold (:mod:`ledger.domain.personal_data`), null for a person erased. A public
    bundle has none: its entries carry the ciphertext only.

:func:`write_bundle` writes a bundle from plain data (gathered from the store elsewhere)
after checking that it will verify; :func:`verify_bundle` (in :mod:`ledger.bundle.verify`)
checks one, offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Final

from ledger.bundle.contents import BundleContents, BundleSummary, ProofWriter
from ledger.bundle.format import (
    ATTACHMENTS_DIR,
    BOARD,
    CHECKPOINT,
    EVENTS,
    FORMAT,
    MANIFEST,
    MANIFEST_SIG,
    MISSING,
    PERSONAL_KEYS,
    PROOFS,
    README,
    SHA256_HEX,
    BundleRange,
    attachment_name,
    iso_utc,
    key_label,
    manifest_sig_text,
    range_json,
)
from ledger.bundle.stream import STREAM_LEVEL, write_entries, write_missing, zipinfo
from ledger.errors import FormatError
from ledger.files import move_into_place
from ledger.seal.checkpoint import Checkpoint, parse_checkpoint
from ledger.seal.note import NoteSigner, parse_note, sign_note
from ledger.store.base import check_community_id

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
                    zf.writestr(zipinfo(name, stamp), data)
                    files[name] = hashlib.sha256(data).hexdigest()

                readme = readme_text(contents, log_signer, path.name, created)
                put(README, readme.encode("utf-8"))
                put(CHECKPOINT, contents.signed_checkpoint.encode("utf-8"))
                # A ZIP takes one entry at a time: events go straight in, proofs wait in a
                # spooled temporary file (in memory while small), or in the file of the
                # process that writes them.
                with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spooled:
                    with zf.open(
                        zipinfo(EVENTS, stamp, STREAM_LEVEL), "w", force_zip64=True
                    ) as events:
                        files[EVENTS], files[PROOFS], count = write_entries(
                            contents, checkpoint, events, spooled
                        )
                    with zf.open(
                        zipinfo(PROOFS, stamp, STREAM_LEVEL), "w", force_zip64=True
                    ) as member:
                        if isinstance(contents.proofs, ProofWriter):
                            with contents.proofs.path.open("rb") as written:
                                shutil.copyfileobj(written, member, 1 << 20)
                        else:
                            spooled.seek(0)
                            shutil.copyfileobj(spooled, member, 1 << 20)
                put(BOARD, contents.board_html.encode("utf-8"))
                if contents.personal_keys is not None:
                    put(PERSONAL_KEYS, contents.personal_keys)
                with zf.open(zipinfo(MISSING, stamp, STREAM_LEVEL), "w", force_zip64=True) as out:
                    files[MISSING], missing_count = write_missing(contents, attachments, out)
                for digest in sorted(attachments):
                    held = attachments[digest]
                    name = attachment_name(digest)
                    if isinstance(held, bytes):
                        put(name, held)
                    else:
                        files[name] = _put_file(zf, zipinfo(name, stamp, STREAM_LEVEL), held)

                manifest = _manifest_bytes(contents, created_at, files, missing_count)
                manifest_digest = hashlib.sha256(manifest).hexdigest()
                note = sign_note(manifest_sig_text(contents.origin, manifest_digest), [log_signer])
                zf.writestr(zipinfo(MANIFEST, stamp), manifest)
                zf.writestr(zipinfo(MANIFEST_SIG, stamp), str(note).encode("utf-8"))
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


def _checked_attachments(contents: BundleContents) -> dict[str, bytes | Path]:
    """The attachments, each named by its SHA-256: bytes are checked here, a file as it
    is copied in (:func:`_put_file`), so that a large one is never held in memory."""
    attachments = dict(contents.attachments)
    for digest, data in attachments.items():
        if not SHA256_HEX.fullmatch(digest) or (
            isinstance(data, bytes) and hashlib.sha256(data).hexdigest() != digest
        ):
            raise ValueError(f"attachment {digest!r} is not named by its SHA-256 (lowercase hex)")
    return attachments


def _put_file(zf: zipfile.ZipFile, info: zipfile.ZipInfo, source: Path) -> str:
    """Stream the file at ``source`` into the bundle as ``info``; its SHA-256, which
    must be its name: a stored file changed since it was uploaded fails the export."""
    digest = hashlib.sha256()
    with source.open("rb") as f, zf.open(info, "w", force_zip64=True) as member:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            member.write(chunk)
    found = digest.hexdigest()
    if found != info.filename.removeprefix(ATTACHMENTS_DIR):
        raise ValueError(
            f"the stored file {source} is not the attachment it is named for: its SHA-256 "
            f"is {found}"
        )
    return found


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
