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
8. Every file an entry names (attachment, voucher) is in the bundle or listed in
   ``attachments-missing.txt``, and every file there is named by an entry.

Entries and proofs are streamed, so memory does not grow with the range. Any failure,
malformed input included, raises :class:`~ledger.bundle.format.BundleVerificationError` whose
message names the file, and the entry or key where there is one.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from ledger.bundle.format import (
    ATTACHMENTS_DIR,
    CHECKPOINT,
    EVENTS,
    FORMAT,
    MANIFEST,
    MANIFEST_SIG,
    MISSING,
    OPTIONAL_FILES,
    PERSONAL_KEYS,
    PROOFS,
    REQUIRED_FILES,
    BundleReport,
    BundleVerificationError,
    Cosigned,
    check_entry,
    key_label,
    manifest_sig_text,
)
from ledger.bundle.named_files import SortedDigests, named_files
from ledger.bundle.personal_keys import parse_personal_keys
from ledger.bundle.verify_lines import read_event
from ledger.bundle.verify_parse import (
    READ_ERRORS,
    Lines,
    Manifest,
    check_digest,
    fail,
    parse_manifest,
)
from ledger.bundle.verify_proofs import ProofChecker, ProofWorker
from ledger.bundle.verify_zip import BundleZip
from ledger.errors import GongkaiError
from ledger.seal.checkpoint import Checkpoint, open_checkpoint
from ledger.seal.note import SIG_COSIGNATURE_V1, SIG_ED25519, Note, NoteVerifier, open_note

MAX_NOTE_SIZE: Final = 1 << 20  # manifest.sig, checkpoint.txt
MAX_MANIFEST_SIZE: Final = 64 << 20
_MISSING_LINE: Final = re.compile(rb"[0-9a-f]{64}\n")

#: Read in the same pass as steps 5 and 6 check their lines, not hashed on their own.
STREAMED: Final = (EVENTS, PROOFS)
#: From this size of proofs.jsonl (about 35,000 entries), the proofs are checked in a
#: process of their own beside the entries (see ledger.bundle.verify_proofs).
PARALLEL_FROM: Final = 32 << 20


def verify_bundle(path: Path, keys: Sequence[NoteVerifier]) -> BundleReport:
    """Verify the bundle at ``path`` against ``keys`` (log keys of type 0x01 and cosigner
    keys of type 0x04, mixed). Returns what was verified; raises
    :class:`BundleVerificationError` at the first failure."""
    path = Path(path)
    log_keys, cosigner_keys = _split_keys(keys)
    try:
        zf = zipfile.ZipFile(path)
    except READ_ERRORS as e:
        fail(f"{path.name}: not a readable ZIP file: {e}")
    with zf:
        return _Verifier(path, zf, log_keys, cosigner_keys).run()


def _split_keys(
    keys: Sequence[NoteVerifier],
) -> tuple[tuple[NoteVerifier, ...], tuple[NoteVerifier, ...]]:
    log_keys = tuple(k for k in keys if k.sig_type == SIG_ED25519)
    cosigners = tuple(k for k in keys if k.sig_type == SIG_COSIGNATURE_V1)
    for key in keys:
        if key.sig_type not in (SIG_ED25519, SIG_COSIGNATURE_V1):
            fail(
                f"key {key_label(key.name, key.key_id)}: signature type 0x{key.sig_type:02x} "
                "is neither a log key (0x01) nor a cosigner key (0x04)"
            )
    if not log_keys:
        fail("no trusted log key given: a bundle is checked against its log's key (type 0x01)")
    return log_keys, cosigners


class _Verifier(BundleZip):
    """One verification run; each step adds a sentence to ``checks``."""

    def __init__(
        self,
        path: Path,
        zf: zipfile.ZipFile,
        log_keys: tuple[NoteVerifier, ...],
        cosigner_keys: tuple[NoteVerifier, ...],
    ) -> None:
        super().__init__(path, zf)
        self.log_keys = log_keys
        self.cosigner_keys = cosigner_keys
        self.checks: list[str] = []
        self.held: set[str] = set()  # the attachments in the bundle (step 3)
        self.named = SortedDigests()  # the files the entries name (step 8)

    def run(self) -> BundleReport:
        self.checks.append(self.check_zip())
        manifest, manifest_signers = self.check_manifest()
        attachments = self.check_files(manifest)
        checkpoint, log_signers, cosigned, ignored = self.check_checkpoint(
            manifest, manifest_signers
        )
        entries = self.check_entries(manifest, checkpoint)
        self.checks.append(self.check_named())
        if PERSONAL_KEYS in manifest.files:
            self.checks.append(self.check_personal_keys(manifest))
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

    # 9. personal-keys.json, in a bundle for readers who may see personal data.
    def check_personal_keys(self, manifest: Manifest) -> str:
        keys = parse_personal_keys(
            self.read_small(PERSONAL_KEYS, MAX_MANIFEST_SIZE), manifest.community
        )
        erased = sum(1 for k in keys.values() if k is None)
        return (
            f"9. {PERSONAL_KEYS}: {len(keys)} personal key(s) of the people whose sealed "
            f"fields the entries hold ({erased} of them erased, their key null); the "
            "entries' hashes cover only the ciphertext, so the chain verifies with or "
            "without them."
        )

    # 2. manifest.sig: signed by a log key, for manifest.json's SHA-256.
    def check_manifest(self) -> tuple[Manifest, tuple[str, ...]]:
        sig_data = self.read_small(MANIFEST_SIG, MAX_NOTE_SIZE)
        manifest_data = self.read_small(MANIFEST, MAX_MANIFEST_SIZE)
        note, signers = self.open_signed(MANIFEST_SIG, sig_data)
        lines = note.text.split("\n")
        if len(lines) != 4 or lines[0] != FORMAT or lines[3] != "":
            fail(f"{MANIFEST_SIG}: its text is not '{FORMAT}', origin, 'sha256 HEX'")
        origin = lines[1]
        digest = hashlib.sha256(manifest_data).hexdigest()
        if note.text != manifest_sig_text(origin, digest):
            fail(
                f"{MANIFEST}: its SHA-256 {digest} is not the one signed in {MANIFEST_SIG} "
                f"({lines[2]!r})"
            )
        manifest = parse_manifest(manifest_data)
        if manifest.origin != origin:
            fail(
                f"{MANIFEST}: origin {manifest.origin!r} is not the origin {origin!r} signed "
                f"in {MANIFEST_SIG}"
            )
        self.checks.append(
            f"2. {MANIFEST_SIG} is signed by the log key {', '.join(signers)} for origin "
            f"{origin!r}, and names the SHA-256 of {MANIFEST} ({digest})."
        )
        return manifest, signers

    # 3. Every listed file present with its SHA-256, nothing unlisted, attachments by hash.
    def check_files(self, manifest: Manifest) -> int:
        files = manifest.files
        for name in REQUIRED_FILES:
            if name not in files:
                fail(f"{MANIFEST}: does not list {name}")
        held: set[str] = set()
        for name, digest in files.items():
            if name.startswith(ATTACHMENTS_DIR):
                if name[len(ATTACHMENTS_DIR) :] != digest:
                    fail(f"{name}: an attachment not named by its SHA-256 {digest}")
                held.add(digest)
            elif name not in REQUIRED_FILES and name not in OPTIONAL_FILES:
                fail(f"{MANIFEST}: lists {name!r}, which is not part of {FORMAT}")
        present = set(self.zf.namelist())
        for name in files:
            if name not in present:
                fail(f"{name}: listed in {MANIFEST} but missing from the bundle")
        for name in sorted(present - set(files) - {MANIFEST, MANIFEST_SIG}):
            fail(f"{name}: in the bundle but not listed in {MANIFEST}")
        for name, digest in files.items():
            if name not in STREAMED:
                check_digest(name, self.sha256_of(name), digest)
        self.held = held
        missing = self.check_missing(manifest, held)
        self.checks.append(
            f"3. All {len(files)} files listed in {MANIFEST} are present with the SHA-256 it "
            f"gives ({' and '.join(STREAMED)} hashed as steps 5 and 6 read them), and no "
            f"other file is in the bundle; the {len(held)} attachments are "
            f"named by their own SHA-256; {MISSING} lists {missing} attachment(s) the store "
            "does not hold, in order, none of them in the bundle."
        )
        return len(held)

    def check_missing(self, manifest: Manifest, held: set[str]) -> int:
        """Stream the missing attachments' list: hex, ascending, not held, counted."""
        count = 0
        previous = b""
        with self.member(MISSING) as stream:
            try:
                for count, line in enumerate(stream, start=1):
                    name = line.removesuffix(b"\n")
                    if not _MISSING_LINE.fullmatch(line) or name <= previous:
                        fail(
                            f"{MISSING}: line {count} is not a SHA-256 in lowercase hex "
                            "following the one before in ascending order"
                        )
                    if name.decode("ascii") in held:
                        fail(f"{MISSING}: line {count}: {name.decode()} is in the bundle")
                    previous = name
            except READ_ERRORS as e:
                fail(f"{MISSING}: cannot be read: {e}")
        if count != manifest.attachments_missing:
            fail(
                f"{MISSING}: lists {count} attachments; {MANIFEST} says "
                f"{manifest.attachments_missing}"
            )
        return count

    # 4. checkpoint.txt: signed by the manifest's log key, same origin and size, cosignatures.
    def check_checkpoint(
        self, manifest: Manifest, manifest_signers: tuple[str, ...]
    ) -> tuple[Checkpoint, tuple[str, ...], tuple[Cosigned, ...], tuple[str, ...]]:
        data = self.read_small(CHECKPOINT, MAX_NOTE_SIZE)
        try:
            signed = open_checkpoint(data, self.log_keys, self.cosigner_keys)
        except GongkaiError as e:  # a bad signature, or malformed
            fail(f"{CHECKPOINT}: {e}")
        checkpoint = signed.checkpoint
        if checkpoint.origin != manifest.origin:
            fail(
                f"{CHECKPOINT}: origin {checkpoint.origin!r} is not the manifest's origin "
                f"{manifest.origin!r}"
            )
        if checkpoint.size != manifest.tree_size:
            fail(
                f"{CHECKPOINT}: tree size {checkpoint.size} is not the manifest's tree_size "
                f"{manifest.tree_size}"
            )
        log_signers = tuple(key_label(k.name, k.key_id) for k in signed.log_keys)
        # Each log key signs its own origin's checkpoints; asking the same key to sign the
        # manifest keeps another trusted log from dressing a real checkpoint in its files.
        if not set(manifest_signers) & set(log_signers):
            fail(
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
    def check_entries(self, manifest: Manifest, checkpoint: Checkpoint) -> int:
        try:
            proofs_size = self.zf.getinfo(PROOFS).file_size
        except KeyError:
            fail(f"{PROOFS}: missing from the bundle")
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
            check_digest(EVENTS, events.drain(), manifest.files[EVENTS])
            if proofs_digest:  # empty when the worker could not read it to its end
                check_digest(PROOFS, proofs_digest, manifest.files[PROOFS])
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
        self, manifest: Manifest, events: Lines, check_proof: Callable[[int, bytes], None]
    ) -> None:
        """Steps 5 and 7 over the lines of events.jsonl; each entry that passes is handed
        to ``check_proof`` (step 6) with its hash."""
        first, last = manifest.range.first_seq, manifest.range.last_seq
        expected = first
        prev: bytes | None = None
        for lineno, line in events:
            row = read_event(lineno, line)
            if expected > last:  # step 7
                fail(
                    f"{EVENTS}: line {lineno}: entry {row[0]} is past the manifest's "
                    f"range, which ends at {last}"
                )
            check_entry(manifest.community, row, expected, prev)  # step 5
            for digest in named_files(row[6]):  # step 8
                self.named.add(digest)
            self.named.keep()
            check_proof(row[0], row[2])  # step 6
            prev = row[2]
            expected += 1
        if expected - 1 != last:  # step 7
            fail(f"{EVENTS}: ends before entry {expected}; the manifest's range ends at {last}")

    # 8. The files the entries name, each held or listed as missing, and no other.
    def check_named(self) -> str:
        """Merge the entries' files (ascending) with the missing list (ascending): each
        named file is held or is the missing list's next line, and nothing is left."""
        unnamed = set(self.held)
        listed = 0
        with self.member(MISSING) as stream:
            missing = (line.removesuffix(b"\n").decode("ascii") for line in stream)
            next_missing = next(missing, None)
            for digest in self.named.sorted_hex():
                if digest in unnamed:
                    unnamed.discard(digest)
                elif digest == next_missing:
                    listed += 1
                    next_missing = next(missing, None)
                else:
                    fail(
                        f"{EVENTS}: an entry names the file {digest}, which is neither in "
                        f"the bundle nor listed in {MISSING}"
                    )
            if next_missing is not None:
                fail(f"{MISSING}: lists {next_missing}, which no entry in the bundle names")
        for digest in sorted(unnamed):
            fail(f"{ATTACHMENTS_DIR}{digest}: in the bundle, but no entry names it")
        return (
            f"8. Each of the {len(self.held) + listed} files the entries name is in the "
            f"bundle ({len(self.held)}) or listed in {MISSING} ({listed}), and the bundle "
            "holds no other."
        )

    # --- signatures ---

    def open_signed(self, name: str, data: bytes) -> tuple[Note, tuple[str, ...]]:
        """Open a note signed by a given log key (unknown keys' signatures are ignored)."""
        try:
            opened = open_note(data, self.log_keys)
        except GongkaiError as e:  # not signed by a trusted key, a bad signature, malformed
            fail(f"{name}: {e}")
        return opened.note, tuple(key_label(k.name, k.key_id) for k, _sig in opened.verified)


def _when(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):  # far beyond what datetime can show
        return f"{timestamp} s after the Epoch"
