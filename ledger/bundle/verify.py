"""The offline bundle verifier: checks a ``gongkai-bundle/v1`` file (its format:
:mod:`ledger.bundle.write`), trusting nothing but the public keys it is given.

1. The file is a readable ZIP whose entry names are plain relative paths (no ``..``, no
   absolute path, no duplicate) and whose sizes are bounded.
2. ``manifest.sig`` is signed by a given log key, names the manifest's origin and the
   SHA-256 of ``manifest.json``.
3. Every file the manifest lists is present with that SHA-256 and nothing else is;
   attachments are named by their own SHA-256.
4. ``checkpoint.txt`` is signed by a given log key, for the manifest's origin and tree
   size; cosignatures by given cosigner keys are verified, others are ignored (and said).
5. Every entry's hash, recomputed from its stored form, is its recorded hash; each
   ``prev_hash`` is the previous entry's hash (the genesis hash for entry 1); the ``seq``
   run from ``first_seq`` to ``last_seq`` without a gap, within the tree size.
6. Every entry's inclusion proof (leaf ``seq - 1``, data = the entry's hash) leads to the
   checkpoint's root.
7. The entries are exactly the manifest's range.

Entries and proofs are streamed, so memory does not grow with the range. Any failure,
malformed input included, raises :class:`~ledger.bundle.write.BundleVerificationError` whose
message names the file, and the entry or key where there is one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Final, NoReturn

from ledger.bundle.write import (
    ATTACHMENTS_DIR,
    CHECKPOINT,
    EVENTS,
    FORMAT,
    MANIFEST,
    MANIFEST_SIG,
    MISSING,
    PROOFS,
    REQUIRED_FILES,
    SHA256_HEX,
    BundleRange,
    BundleReport,
    BundleVerificationError,
    Cosigned,
    check_entry,
    key_label,
    manifest_sig_text,
)
from ledger.chain.hashing import HASH_SIZE
from ledger.errors import GongkaiError
from ledger.seal.checkpoint import Checkpoint, open_checkpoint
from ledger.seal.note import (
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Note,
    NoteVerifier,
    open_note,
)
from ledger.store.base import RawRow, check_community_id

MAX_MEMBERS: Final = 100_000
MAX_MEMBER_SIZE: Final = 4 << 30
MAX_TOTAL_SIZE: Final = 16 << 30
MAX_NOTE_SIZE: Final = 1 << 20  # manifest.sig, checkpoint.txt
MAX_MANIFEST_SIZE: Final = 64 << 20
MAX_LINE: Final = 64 << 20  # one line of events.jsonl or proofs.jsonl

# Plain relative paths: components of letters, digits, ".", "_", "-" that start with a
# letter or digit, so never "", "." or "..", never absolute, never a backslash.
_SAFE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_ISO_UTC: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_HEX32: Final = re.compile(r"[0-9a-f]{32}")
_MAX_U64: Final = (1 << 64) - 1

_EVENT_KEYS: Final = frozenset(
    {"seq", "prev_hash", "hash", "originator_id", "originator_version", "topic"}
)
_PROOF_KEYS: Final = frozenset({"seq", "leaf_index", "hashes"})
_MANIFEST_KEYS: Final = frozenset(
    {
        "format",
        "community",
        "community_name",
        "origin",
        "range",
        "tree_size",
        "created_at",
        "attachments_missing",
        "files",
    }
)
_RANGE_KEYS: Final = frozenset({"first_seq", "last_seq", "period", "from", "to"})

# What reading a damaged ZIP member can raise.
_READ_ERRORS: Final = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,  # an unsupported ZIP version or compression
    RuntimeError,  # an encrypted entry
)


_MISSING_LINE: Final = re.compile(rb"[0-9a-f]{64}\n")
#: Read in the same pass as steps 5 and 6 check their lines, not hashed on their own.
STREAMED: Final = (EVENTS, PROOFS)
#: From this size of proofs.jsonl (about 35,000 entries), the proofs are checked in a
#: process of their own beside the entries (see ledger.bundle.verify_proofs).
PARALLEL_FROM: Final = 32 << 20


def _fail(message: str) -> NoReturn:
    raise BundleVerificationError(message)


@dataclass(frozen=True, slots=True)
class _Manifest:
    community: str
    community_name: str
    origin: str
    range: BundleRange
    tree_size: int
    created_at: datetime
    attachments_missing: int
    files: dict[str, str]


def verify_bundle(path: Path, keys: Sequence[NoteVerifier]) -> BundleReport:
    """Verify the bundle at ``path`` against ``keys`` (log keys of type 0x01 and cosigner
    keys of type 0x04, mixed). Returns what was verified; raises
    :class:`BundleVerificationError` at the first failure."""
    path = Path(path)
    log_keys, cosigner_keys = _split_keys(keys)
    try:
        zf = zipfile.ZipFile(path)
    except _READ_ERRORS as e:
        _fail(f"{path.name}: not a readable ZIP file: {e}")
    with zf:
        return _Verifier(path, zf, log_keys, cosigner_keys).run()


def _split_keys(
    keys: Sequence[NoteVerifier],
) -> tuple[tuple[NoteVerifier, ...], tuple[NoteVerifier, ...]]:
    log_keys = tuple(k for k in keys if k.sig_type == SIG_ED25519)
    cosigners = tuple(k for k in keys if k.sig_type == SIG_COSIGNATURE_V1)
    for key in keys:
        if key.sig_type not in (SIG_ED25519, SIG_COSIGNATURE_V1):
            _fail(
                f"key {key_label(key.name, key.key_id)}: signature type 0x{key.sig_type:02x} "
                "is neither a log key (0x01) nor a cosigner key (0x04)"
            )
    if not log_keys:
        _fail("no trusted log key given: a bundle is checked against its log's key (type 0x01)")
    return log_keys, cosigners


class _Verifier:
    """One verification run; each step adds a sentence to ``checks``."""

    def __init__(
        self,
        path: Path,
        zf: zipfile.ZipFile,
        log_keys: tuple[NoteVerifier, ...],
        cosigner_keys: tuple[NoteVerifier, ...],
    ) -> None:
        self.path = path
        self.zf = zf
        self.log_keys = log_keys
        self.cosigner_keys = cosigner_keys
        self.checks: list[str] = []

    def run(self) -> BundleReport:
        self.check_zip()
        manifest, manifest_signers = self.check_manifest()
        attachments = self.check_files(manifest)
        checkpoint, log_signers, cosigned, ignored = self.check_checkpoint(
            manifest, manifest_signers
        )
        entries = self.check_entries(manifest, checkpoint)
        return BundleReport(
            path=self.path,
            community=manifest.community,
            community_name=manifest.community_name,
            origin=manifest.origin,
            range=manifest.range,
            created_at=manifest.created_at,
            tree_size=checkpoint.size,
            root=checkpoint.root,
            entries=entries,
            log_keys=tuple(dict.fromkeys(manifest_signers + log_signers)),
            cosigners=cosigned,
            ignored_signatures=ignored,
            attachments=attachments,
            attachments_missing=manifest.attachments_missing,
            checks=tuple(self.checks),
        )

    # 1. A readable ZIP: safe names, no duplicates, bounded sizes.
    def check_zip(self) -> None:
        infos = self.zf.infolist()
        if len(infos) > MAX_MEMBERS:
            _fail(f"{self.path.name}: {len(infos)} entries, more than the limit {MAX_MEMBERS}")
        seen: set[str] = set()
        total = 0
        for info in infos:
            name = info.orig_filename
            if not _SAFE_NAME.fullmatch(name) or name != info.filename:
                _fail(f"{name!r}: unsafe entry name (absolute, '..', or odd characters)")
            if name in seen:
                _fail(f"{name}: appears twice in the ZIP")
            seen.add(name)
            if info.flag_bits & 0x1:
                _fail(f"{name}: encrypted")
            file_type = stat.S_IFMT(info.external_attr >> 16)  # Unix mode, when given
            if info.create_system == 3 and file_type not in (0, stat.S_IFREG):
                _fail(f"{name}: not a regular file (a link, a directory or a device)")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                _fail(f"{name}: unsupported compression method {info.compress_type}")
            if info.file_size > MAX_MEMBER_SIZE:
                _fail(f"{name}: {info.file_size} bytes, more than the limit {MAX_MEMBER_SIZE}")
            total += info.file_size
        if total > MAX_TOTAL_SIZE:
            _fail(f"{self.path.name}: {total} bytes unpacked, more than the limit")
        self.checks.append(
            f"1. {self.path.name} is a readable ZIP of {len(infos)} entries, each a plain "
            f"relative name without '..' and appearing once, {total} bytes unpacked in all."
        )

    # 2. manifest.sig: signed by a log key, for manifest.json's SHA-256.
    def check_manifest(self) -> tuple[_Manifest, tuple[str, ...]]:
        sig_data = self.read_small(MANIFEST_SIG, MAX_NOTE_SIZE)
        manifest_data = self.read_small(MANIFEST, MAX_MANIFEST_SIZE)
        note, signers = self.open_signed(MANIFEST_SIG, sig_data)
        lines = note.text.split("\n")
        if len(lines) != 4 or lines[0] != FORMAT or lines[3] != "":
            _fail(f"{MANIFEST_SIG}: its text is not '{FORMAT}', origin, 'sha256 HEX'")
        origin = lines[1]
        digest = hashlib.sha256(manifest_data).hexdigest()
        if note.text != manifest_sig_text(origin, digest):
            _fail(
                f"{MANIFEST}: its SHA-256 {digest} is not the one signed in {MANIFEST_SIG} "
                f"({lines[2]!r})"
            )
        manifest = _parse_manifest(manifest_data)
        if manifest.origin != origin:
            _fail(
                f"{MANIFEST}: origin {manifest.origin!r} is not the origin {origin!r} signed "
                f"in {MANIFEST_SIG}"
            )
        self.checks.append(
            f"2. {MANIFEST_SIG} is signed by the log key {', '.join(signers)} for origin "
            f"{origin!r}, and names the SHA-256 of {MANIFEST} ({digest})."
        )
        return manifest, signers

    # 3. Every listed file present with its SHA-256, nothing unlisted, attachments by hash.
    def check_files(self, manifest: _Manifest) -> int:
        files = manifest.files
        for name in REQUIRED_FILES:
            if name not in files:
                _fail(f"{MANIFEST}: does not list {name}")
        held: set[str] = set()
        for name, digest in files.items():
            if name.startswith(ATTACHMENTS_DIR):
                if name[len(ATTACHMENTS_DIR) :] != digest:
                    _fail(f"{name}: an attachment not named by its SHA-256 {digest}")
                held.add(digest)
            elif name not in REQUIRED_FILES:
                _fail(f"{MANIFEST}: lists {name!r}, which is not part of {FORMAT}")
        present = set(self.zf.namelist())
        for name in files:
            if name not in present:
                _fail(f"{name}: listed in {MANIFEST} but missing from the bundle")
        for name in sorted(present - set(files) - {MANIFEST, MANIFEST_SIG}):
            _fail(f"{name}: in the bundle but not listed in {MANIFEST}")
        for name, digest in files.items():
            if name not in STREAMED:
                _check_digest(name, self.sha256_of(name), digest)
        missing = self.check_missing(manifest, held)
        self.checks.append(
            f"3. All {len(files)} files listed in {MANIFEST} are present with the SHA-256 it "
            f"gives ({' and '.join(STREAMED)} hashed as steps 5 and 6 read them), and no "
            f"other file is in the bundle; the {len(held)} attachments are "
            f"named by their own SHA-256; {MISSING} lists {missing} attachment(s) the store "
            "does not hold, in order, none of them in the bundle."
        )
        return len(held)

    def check_missing(self, manifest: _Manifest, held: set[str]) -> int:
        """Stream the missing attachments' list: hex, ascending, not held, counted."""
        count = 0
        previous = b""
        with self.member(MISSING) as stream:
            try:
                for count, line in enumerate(stream, start=1):
                    name = line.removesuffix(b"\n")
                    if not _MISSING_LINE.fullmatch(line) or name <= previous:
                        _fail(
                            f"{MISSING}: line {count} is not a SHA-256 in lowercase hex "
                            "following the one before in ascending order"
                        )
                    if name.decode("ascii") in held:
                        _fail(f"{MISSING}: line {count}: {name.decode()} is in the bundle")
                    previous = name
            except _READ_ERRORS as e:
                _fail(f"{MISSING}: cannot be read: {e}")
        if count != manifest.attachments_missing:
            _fail(
                f"{MISSING}: lists {count} attachments; {MANIFEST} says "
                f"{manifest.attachments_missing}"
            )
        return count

    # 4. checkpoint.txt: signed by the manifest's log key, same origin and size, cosignatures.
    def check_checkpoint(
        self, manifest: _Manifest, manifest_signers: tuple[str, ...]
    ) -> tuple[Checkpoint, tuple[str, ...], tuple[Cosigned, ...], tuple[str, ...]]:
        data = self.read_small(CHECKPOINT, MAX_NOTE_SIZE)
        try:
            signed = open_checkpoint(data, self.log_keys, self.cosigner_keys)
        except GongkaiError as e:  # a bad signature, or malformed
            _fail(f"{CHECKPOINT}: {e}")
        checkpoint = signed.checkpoint
        if checkpoint.origin != manifest.origin:
            _fail(
                f"{CHECKPOINT}: origin {checkpoint.origin!r} is not the manifest's origin "
                f"{manifest.origin!r}"
            )
        if checkpoint.size != manifest.tree_size:
            _fail(
                f"{CHECKPOINT}: tree size {checkpoint.size} is not the manifest's tree_size "
                f"{manifest.tree_size}"
            )
        log_signers = tuple(key_label(k.name, k.key_id) for k in signed.log_keys)
        # Each log key signs its own origin's checkpoints; asking the same key to sign the
        # manifest keeps another trusted log from dressing a real checkpoint in its files.
        if not set(manifest_signers) & set(log_signers):
            _fail(
                f"{CHECKPOINT}: signed by the log key {', '.join(log_signers)}, but "
                f"{MANIFEST_SIG} by {', '.join(manifest_signers)}: one log key must sign both"
            )
        cosigned = tuple(Cosigned(k.name, k.key_id, ts) for k, ts in signed.cosignatures)
        known = {(k.name, bytes(k.key_id)) for k in (*self.log_keys, *self.cosigner_keys)}
        ignored = tuple(
            dict.fromkeys(s.key for s in signed.note.signatures if (s.name, s.key_id) not in known)
        )
        sentence = (
            f"4. {CHECKPOINT} is signed by the log key {', '.join(log_signers)} (as is "
            f"{MANIFEST_SIG}) for origin "
            f"{checkpoint.origin!r} at tree size {checkpoint.size} (the manifest's), root "
            f"{base64.b64encode(checkpoint.root).decode()}; "
        )
        if cosigned:
            sentence += "cosigned by " + ", ".join(
                f"{key_label(c.name, c.key_id)} (at {_when(c.timestamp)})" for c in cosigned
            )
        else:
            sentence += "no cosignature by a given cosigner key"
        if ignored:
            sentence += f"; ignored {len(ignored)} signature(s) by keys not given: "
            sentence += ", ".join(ignored)
        self.checks.append(sentence + ".")
        return checkpoint, log_signers, cosigned, ignored

    # 5.-7. Every entry: hash, link and place; its inclusion proof; the range's count.
    def check_entries(self, manifest: _Manifest, checkpoint: Checkpoint) -> int:
        from ledger.bundle.verify_proofs import ProofChecker, ProofWorker

        try:
            proofs_size = self.zf.getinfo(PROOFS).file_size
        except KeyError:
            _fail(f"{PROOFS}: missing from the bundle")
        with self.member(EVENTS) as ev_stream:
            events = Lines(EVENTS, ev_stream)
            failure: BundleVerificationError | None = None
            if proofs_size >= PARALLEL_FROM:
                with ProofWorker(self.path, checkpoint.size, checkpoint.root) as worker:
                    try:
                        self.check_events(manifest, events, worker.check)
                    except BundleVerificationError as e:
                        failure = e
                    # The worker was sent only entries that passed, so a proof failure
                    # is of an earlier entry than the events' own: it comes first.
                    proof_failure, proofs_digest = worker.finish(complete=failure is None)
                if proof_failure is not None:
                    failure = BundleVerificationError(proof_failure.message)
            else:
                with self.member(PROOFS) as pr_stream:
                    proofs = Lines(PROOFS, pr_stream)
                    checker = ProofChecker(iter(proofs), checkpoint.size, checkpoint.root)
                    try:
                        self.check_events(manifest, events, checker.check)
                        checker.finish()
                    except BundleVerificationError as e:
                        failure = e
                    proofs_digest = proofs.drain()
            # A file that is not the one the manifest names is the failure to report
            # (step 3), before what its damage broke in steps 5-7.
            _check_digest(EVENTS, events.drain(), manifest.files[EVENTS])
            if proofs_digest:  # empty when the worker could not read it to its end
                _check_digest(PROOFS, proofs_digest, manifest.files[PROOFS])
            if failure is not None:
                raise failure
        first, last = manifest.range.first_seq, manifest.range.last_seq
        count = last - first + 1
        link = (
            f"entry 1's is the genesis hash of {manifest.community!r}"
            if first == 1
            else f"entry {first}'s points before the range and is covered by entry {first}'s "
            "hash and inclusion proof"
        )
        self.checks += [
            f"5. {EVENTS}: the hash of each of the {count} entries, recomputed from its "
            f"stored form, is its recorded hash; each prev_hash is the previous entry's hash "
            f"({link}); seq runs {first}..{last} without a gap, within tree size "
            f"{checkpoint.size}.",
            f"6. {PROOFS}: each entry's inclusion proof (leaf index seq - 1, leaf = "
            f"SHA-256(0x00 || entry hash), RFC 6962) leads to the checkpoint's root.",
            f"7. The bundle holds exactly the {count} entries of the manifest's range "
            f"{first}..{last}.",
        ]
        return count

    def check_events(
        self, manifest: _Manifest, events: Lines, check_proof: Callable[[int, bytes], None]
    ) -> None:
        """Steps 5 and 7 over the lines of events.jsonl; each entry that passes is handed
        to ``check_proof`` (step 6) with its hash."""
        first, last = manifest.range.first_seq, manifest.range.last_seq
        expected = first
        prev: bytes | None = None
        for lineno, line in events:
            row = _read_event(lineno, line)
            if expected > last:  # step 7
                _fail(
                    f"{EVENTS}: line {lineno}: entry {row[0]} is past the manifest's "
                    f"range, which ends at {last}"
                )
            check_entry(manifest.community, row, expected, prev)  # step 5
            check_proof(row[0], row[2])  # step 6
            prev = row[2]
            expected += 1
        if expected - 1 != last:  # step 7
            _fail(f"{EVENTS}: ends before entry {expected}; the manifest's range ends at {last}")

    # --- reading ---

    def read_small(self, name: str, limit: int) -> bytes:
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            _fail(f"{name}: missing from the bundle")
        if info.file_size > limit:
            _fail(f"{name}: {info.file_size} bytes, more than the limit {limit}")
        with self.member(name) as stream:
            try:
                return stream.read()
            except _READ_ERRORS as e:
                _fail(f"{name}: cannot be read: {e}")

    @contextmanager
    def member(self, name: str) -> Iterator[IO[bytes]]:
        try:
            stream = self.zf.open(name)
        except KeyError:
            _fail(f"{name}: missing from the bundle")
        except _READ_ERRORS as e:
            _fail(f"{name}: cannot be read: {e}")
        with stream:
            yield stream

    def sha256_of(self, name: str) -> str:
        with self.member(name) as stream:
            digest = hashlib.sha256()
            try:
                while chunk := stream.read(1 << 20):
                    digest.update(chunk)
            except _READ_ERRORS as e:
                _fail(f"{name}: cannot be read: {e}")
        return digest.hexdigest()

    # --- signatures ---

    def open_signed(self, name: str, data: bytes) -> tuple[Note, tuple[str, ...]]:
        """Open a note signed by a given log key (unknown keys' signatures are ignored)."""
        try:
            opened = open_note(data, self.log_keys)
        except GongkaiError as e:  # not signed by a trusted key, a bad signature, malformed
            _fail(f"{name}: {e}")
        return opened.note, tuple(key_label(k.name, k.key_id) for k, _sig in opened.verified)


def _when(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):  # far beyond what datetime can show
        return f"{timestamp} s after the Epoch"


# --- JSON, strictly ---


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("a key appears twice in an object")
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


# One decoder: json.loads with these arguments would build a new one for every line.
_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_constant=_reject_constant
)


def _json(where: str, data: bytes) -> Any:
    try:
        return _DECODER.decode(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        _fail(f"{where}: not valid JSON: {e}")


def _check_digest(name: str, actual: str, listed: str) -> None:
    if actual != listed:
        _fail(f"{name}: its SHA-256 {actual} does not match {MANIFEST} ({listed})")


class Lines:
    """The numbered lines of a JSON-lines member (without their newlines), read a large
    chunk at a time (ZipExtFile.readline costs more than parsing the line) and hashed
    on the way, so that one read of the member serves steps 3, 5 and 6."""

    CHUNK: Final = 1 << 20

    def __init__(self, name: str, stream: IO[bytes]) -> None:
        self.name = name
        self._digest = hashlib.sha256()
        self._stream = stream

    def _read(self) -> bytes:
        try:
            chunk = self._stream.read(self.CHUNK)
        except _READ_ERRORS as e:
            _fail(f"{self.name}: cannot be read: {e}")
        self._digest.update(chunk)
        return chunk

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        lineno = 0
        rest = b""
        while chunk := self._read():
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                lineno += 1
                if len(line) >= MAX_LINE:
                    _fail(f"{self.name}: line {lineno} is longer than {MAX_LINE} bytes")
                yield lineno, line
            if len(rest) >= MAX_LINE:
                _fail(f"{self.name}: line {lineno + 1} is longer than {MAX_LINE} bytes")
        if rest:
            _fail(f"{self.name}: line {lineno + 1} does not end with a newline")

    def sha256(self) -> str:
        """The SHA-256 of what was read: all of the member once it was read to its end."""
        return self._digest.hexdigest()

    def drain(self) -> str:
        """Read the rest of the member; the SHA-256 of all of it."""
        while self._read():
            pass
        return self.sha256()


def _json_line(name: str, lineno: int, line: bytes) -> dict[str, Any]:
    obj = _json(f"{name}: line {lineno}", line)
    if not isinstance(obj, dict):
        _fail(f"{name}: line {lineno} is not a JSON object")
    return obj


# proofs.jsonl as ledger.bundle.write writes it (json.dumps' separators, 32-byte hashes): such a
# line is read without a JSON parser, and the base64 of the hashes it shares with the
# line before is not decoded again. Any other line is parsed as JSON and checked in full.
_PROOF_HEAD: Final = re.compile(
    rb'\{"seq": ([1-9][0-9]{0,19}), "leaf_index": (0|[1-9][0-9]{0,19}), "hashes": \['
)
_QUOTED_HASH_SIZE: Final = 46  # '"' + the 44 characters of 32 bytes' base64 + '"'
_SEPARATOR: Final = b", "
_ITEM_WIDTH: Final = _QUOTED_HASH_SIZE + len(_SEPARATOR)


class ProofParser:
    """Reads proofs.jsonl lines. In the writer's form every hash takes the same width
    (``"`` + 44 characters of base64 + ``"``, then ``, ``), and neighbours' proofs end
    alike (the path above the point where two leaves part): so the line is not split,
    the bytes it shares with the end of the line before are compared in one go, and
    only the hashes before them are checked and decoded."""

    def __init__(self) -> None:
        # The last line read in the writer's form, where its hashes start, and them.
        self._line = b""
        self._start = 0
        self._proof: list[bytes] = []

    def parse(self, lineno: int, line: bytes) -> tuple[int, list[bytes]]:
        head = _PROOF_HEAD.match(line)
        if head is None or not line.endswith(b"]}"):
            return self._parsed(lineno, line)
        seq, leaf_index = int(head.group(1)), int(head.group(2))
        start, end = head.end(), len(line) - 2
        count, odd = divmod(end - start + len(_SEPARATOR), _ITEM_WIDTH)
        if leaf_index != seq - 1 or seq > _MAX_U64 or odd or count > 64:
            return self._parsed(lineno, line)
        before, before_end = self._line, len(self._line) - 2
        before_count = (before_end - self._start + len(_SEPARATOR)) // _ITEM_WIDTH
        # The fewest hashes from the start after which the rest of the line's bytes are
        # the end of the line before.
        fresh = count
        for shared in range(min(count, before_count), 0, -1):
            width = shared * _ITEM_WIDTH - len(_SEPARATOR)
            if line[end - width : end] == before[before_end - width : before_end]:
                fresh = count - shared
                break
        proof = []
        for i in range(fresh):
            item = start + i * _ITEM_WIDTH
            if (
                line[item] != 34  # '"'
                or line[item + _QUOTED_HASH_SIZE - 1] != 34
                or (
                    i < count - 1
                    and line[item + _QUOTED_HASH_SIZE : item + _ITEM_WIDTH] != _SEPARATOR
                )
            ):
                return self._parsed(lineno, line)
            digest = _b64_hash(seq, line[item + 1 : item + _QUOTED_HASH_SIZE - 1])
            if len(digest) != HASH_SIZE:
                return self._parsed(lineno, line)
            proof.append(digest)
        if fresh < count:
            proof += self._proof[len(self._proof) - (count - fresh) :]
        self._line, self._start, self._proof = line, start, proof
        return seq, proof

    def _parsed(self, lineno: int, line: bytes) -> tuple[int, list[bytes]]:
        return _parse_proof(lineno, _json_line(PROOFS, lineno, line))


def _b64_hash(seq: int, text: bytes) -> bytes:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error as e:
        _fail(f"{PROOFS}: entry {seq}: a proof hash is not base64: {e}")


def _int(where: str, value: Any, low: int = 0, high: int = _MAX_U64) -> int:
    if type(value) is not int or not low <= value <= high:
        _fail(f"{where}: expected an integer from {low} to {high}, got {value!r}")
    return value


def _str(where: str, value: Any) -> str:
    if not isinstance(value, str):
        _fail(f"{where}: expected a string, got {value!r}")
    return value


def _hex(where: str, value: Any, pattern: re.Pattern[str] = SHA256_HEX) -> bytes:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        _fail(f"{where}: expected lowercase hex, got {value!r}")
    return bytes.fromhex(value)


def _keys(where: str, obj: dict[str, Any], expected: frozenset[str]) -> None:
    if set(obj) != expected:
        missing = sorted(expected - set(obj))
        extra = sorted(set(obj) - expected)
        _fail(f"{where}: fields missing {missing}, unexpected {extra}")


def _date(where: str, value: Any) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(_str(where, value))
    except ValueError:
        _fail(f"{where}: not an ISO date: {value!r}")


def _parse_manifest(data: bytes) -> _Manifest:
    obj = _json(MANIFEST, data)
    if not isinstance(obj, dict):
        _fail(f"{MANIFEST}: not a JSON object")
    if obj.get("format") != FORMAT:
        _fail(f"{MANIFEST}: format {obj.get('format')!r} is not {FORMAT!r}")
    _keys(MANIFEST, obj, _MANIFEST_KEYS)
    community = _str(f"{MANIFEST}: community", obj["community"])
    try:
        check_community_id(community)
    except GongkaiError as e:
        _fail(f"{MANIFEST}: {e}")
    rng = obj["range"]
    if not isinstance(rng, dict):
        _fail(f"{MANIFEST}: range is not an object")
    _keys(f"{MANIFEST}: range", rng, _RANGE_KEYS)
    first = _int(f"{MANIFEST}: first_seq", rng["first_seq"], 1)
    last = _int(f"{MANIFEST}: last_seq", rng["last_seq"], first)
    period = rng["period"]
    if period is not None:
        _str(f"{MANIFEST}: period", period)
    tree_size = _int(f"{MANIFEST}: tree_size", obj["tree_size"], last)
    created = _str(f"{MANIFEST}: created_at", obj["created_at"])
    try:
        if not _ISO_UTC.fullmatch(created):
            raise ValueError(created)
        created_at = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        _fail(f"{MANIFEST}: created_at {created!r} is not YYYY-MM-DDTHH:MM:SSZ")
    missing = _int(f"{MANIFEST}: attachments_missing", obj["attachments_missing"])
    files = obj["files"]
    if not isinstance(files, dict):
        _fail(f"{MANIFEST}: files is not an object")
    for name, digest in files.items():
        _hex(f"{MANIFEST}: files[{name!r}]", digest)
        if name in (MANIFEST, MANIFEST_SIG):
            _fail(f"{MANIFEST}: lists {name}, which is signed otherwise")
    return _Manifest(
        community=community,
        community_name=_str(f"{MANIFEST}: community_name", obj["community_name"]),
        origin=_str(f"{MANIFEST}: origin", obj["origin"]),
        range=BundleRange(
            first,
            last,
            period,
            _date(f"{MANIFEST}: from", rng["from"]),
            _date(f"{MANIFEST}: to", rng["to"]),
        ),
        tree_size=tree_size,
        created_at=created_at,
        attachments_missing=missing,
        files=files,
    )


# An events.jsonl line as ledger.bundle.write writes it (json.dumps' separators and key order,
# UTF-8 state) is read without building a dict: its fixed fields by this pattern, its
# two strings by the JSON decoder's own string scanner. Any other line is parsed as JSON.
_EVENT_HEAD: Final = re.compile(
    r'\{"seq": ([1-9][0-9]{0,19}), "prev_hash": "([0-9a-f]{64})", "hash": "([0-9a-f]{64})", '
    r'"originator_id": "([0-9a-f]{32})", "originator_version": (0|[1-9][0-9]{0,19}), '
    r'"topic": "'
)
_STATE_KEY: Final = ', "state": "'
# The decoder's scanner of the JSON string starting after an opening quote: (the string,
# the index after its closing quote). Not in the typing stubs; in json.decoder since 2.6.
scanstring: Final[Callable[[str, int], tuple[str, int]]] = json.decoder.scanstring  # type: ignore[attr-defined]


def _read_event(lineno: int, line: bytes) -> RawRow:
    """The raw row of one events.jsonl line."""
    try:
        text = line.decode("utf-8")
        head = _EVENT_HEAD.match(text)
        if head is not None:
            topic, end = scanstring(text, head.end())
            if text.startswith(_STATE_KEY, end):
                state, end = scanstring(text, end + len(_STATE_KEY))
                seq, version = int(head.group(1)), int(head.group(5))
                if end == len(text) - 1 and text[end] == "}" and max(seq, version) <= _MAX_U64:
                    return (
                        seq,
                        bytes.fromhex(head.group(2)),
                        bytes.fromhex(head.group(3)),
                        bytes.fromhex(head.group(4)),
                        version,
                        topic.encode("utf-8"),
                        state.encode("utf-8"),
                    )
    except ValueError:  # not UTF-8, a bad escape, a lone surrogate: said below
        pass
    return _parse_event(lineno, _json_line(EVENTS, lineno, line))


_UTF8_EVENT_KEYS: Final = _EVENT_KEYS | {"state"}


def _parse_event(lineno: int, obj: dict[str, Any]) -> RawRow:
    """The raw row of an ``events.jsonl`` object; a clear error naming the entry and field
    when it is malformed."""
    row = _well_formed_event(obj)
    return row if row is not None else _checked_event(lineno, obj)


def _well_formed_event(obj: dict[str, Any]) -> RawRow | None:
    """The row of an object of the usual form (UTF-8 state, every field well typed), read
    without composing any message; None for anything else, which _checked_event reads."""
    if obj.keys() != _UTF8_EVENT_KEYS:
        return None
    seq, version = obj["seq"], obj["originator_version"]
    prev_hash, digest, oid = obj["prev_hash"], obj["hash"], obj["originator_id"]
    topic, state = obj["topic"], obj["state"]
    if not (
        type(seq) is int
        and type(version) is int
        and 1 <= seq <= _MAX_U64
        and 0 <= version <= _MAX_U64
        and type(prev_hash) is str
        and type(digest) is str
        and type(oid) is str
        and type(topic) is str
        and type(state) is str
        and SHA256_HEX.fullmatch(prev_hash)
        and SHA256_HEX.fullmatch(digest)
        and _HEX32.fullmatch(oid)
    ):
        return None
    try:
        topic_bytes, state_bytes = topic.encode("utf-8"), state.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return None
    return (
        seq,
        bytes.fromhex(prev_hash),
        bytes.fromhex(digest),
        bytes.fromhex(oid),
        version,
        topic_bytes,
        state_bytes,
    )


def _checked_event(lineno: int, obj: dict[str, Any]) -> RawRow:
    where = f"{EVENTS}: line {lineno}"
    seq = _int(f"{where}: seq", obj.get("seq"), 1)
    where = f"{EVENTS}: entry {seq}"
    state_key = "state" if "state" in obj else "state_base64"
    _keys(where, obj, _EVENT_KEYS | {state_key})
    try:
        topic = _str(f"{where}: topic", obj["topic"]).encode("utf-8")
        if state_key == "state":
            state = _str(f"{where}: state", obj["state"]).encode("utf-8")
        else:
            state = base64.b64decode(_str(f"{where}: state_base64", obj[state_key]), validate=True)
    except (UnicodeEncodeError, binascii.Error) as e:
        _fail(f"{where}: {e}")
    return (
        seq,
        _hex(f"{where}: prev_hash", obj["prev_hash"]),
        _hex(f"{where}: hash", obj["hash"]),
        _hex(f"{where}: originator_id", obj["originator_id"], _HEX32),
        _int(f"{where}: originator_version", obj["originator_version"]),
        topic,
        state,
    )


def _parse_proof(lineno: int, obj: dict[str, Any]) -> tuple[int, list[bytes]]:
    where = f"{PROOFS}: line {lineno}"
    _keys(where, obj, _PROOF_KEYS)
    seq = _int(f"{where}: seq", obj["seq"], 1)
    where = f"{PROOFS}: entry {seq}"
    _int(f"{where}: leaf_index", obj["leaf_index"], seq - 1, seq - 1)
    hashes = obj["hashes"]
    if not isinstance(hashes, list) or len(hashes) > 64:
        _fail(f"{where}: hashes is not a list of at most 64 hashes")
    proof = []
    for item in hashes:
        try:
            digest = binascii.a2b_base64(_str(f"{where}: hashes", item), strict_mode=True)
        except binascii.Error as e:
            _fail(f"{where}: a proof hash is not base64: {e}")
        if len(digest) != HASH_SIZE:
            _fail(f"{where}: a proof hash is {len(digest)} bytes, not {HASH_SIZE}")
        proof.append(digest)
    return seq, proof
