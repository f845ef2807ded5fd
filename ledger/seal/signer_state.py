"""The log signer's own memory: the latest checkpoint it signed, kept beside its key.

A database owner can rewrite the chain, rebuild the Merkle tree and delete every stored
checkpoint; a signer that asked only the database what it had signed before would then
sign the forged history with the genuine key. So the process that holds a community's
log key also keeps, in a file beside the key (never in the database), the latest
checkpoint it signed, and signs nothing that is not a consistency-proven extension of
it (:meth:`ledger.seal.community_log.CommunityLog.sign_checkpoint`).

The file, ``<key file without .key>.state`` (``tianhai.log.state`` beside
``tianhai.log.key``), is that checkpoint as a signed note (C2SP signed-note and
checkpoint), so it is also an outside checkpoint that ``gongkai verify --checkpoint``
takes. It is written when the key is generated (the empty tree, size 0) and replaced
atomically after every signature. It is read back only with the key's own signature
verified, so an edited state file is refused rather than believed.

A state file that is missing while the key exists is never re-created silently: the
operator adopts a checkpoint held outside (``gongkai checkpoint adopt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ledger.errors import FormatError, VerificationError
from ledger.seal.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.seal.key_files import KeyFileError, read_public_file, write_public_file
from ledger.seal.keys import PrivateKey
from ledger.seal.merkle import EMPTY_ROOT
from ledger.seal.note import NoteSigner, NoteVerifier

STATE_SUFFIX: Final = ".state"
MAX_STATE_BYTES: Final = 64 * 1024


class SignerStateError(VerificationError):
    """The signer's state is missing, unreadable, or not signed by its key."""


def state_path(key_path: Path) -> Path:
    """``x.log.key`` → ``x.log.state``."""
    return Path(key_path).with_suffix(STATE_SUFFIX)


def adopt_command(community_id: str) -> str:
    return (
        f"gongkai checkpoint adopt --community {community_id} --checkpoint FILE "
        "(a checkpoint held outside the database: the witness's, an auditor's, a bundle's)"
    )


@dataclass(frozen=True, slots=True)
class SignedHead:
    """The latest checkpoint the signer signed, and its note."""

    checkpoint: Checkpoint
    note: str

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root


class SignerState:
    """The state file of one log key."""

    def __init__(self, path: Path, verifier: NoteVerifier, community_id: str) -> None:
        self.path = Path(path)
        self.verifier = verifier
        self.community_id = community_id

    @classmethod
    def beside(cls, key_path: Path, key: PrivateKey, community_id: str) -> SignerState:
        return cls(state_path(key_path), key.verifier(), community_id)

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> SignedHead:
        """The signed head, checked: the file exists, holds a checkpoint signed by this
        key, for this key's origin."""
        try:
            data = read_public_file(self.path, MAX_STATE_BYTES, "signer state")
        except KeyFileError as e:
            if not self.path.exists():
                raise SignerStateError(
                    f"the log key of {self.community_id!r} has no signer state at {self.path}: "
                    "the latest checkpoint it signed is unknown, so it signs nothing. Do not "
                    f"create the file by hand; run: {adopt_command(self.community_id)}"
                ) from e
            raise SignerStateError(str(e)) from e
        return self.parse(data)

    def parse(self, data: bytes | str) -> SignedHead:
        """A checkpoint note, opened with this signer's key and origin."""
        try:
            opened = open_checkpoint(data, [self.verifier], origin=self.verifier.name)
        except (FormatError, VerificationError) as e:
            raise SignerStateError(
                f"{self.path} is not a checkpoint signed by {self.verifier.name}: {e}"
            ) from e
        return SignedHead(opened.checkpoint, str(opened.note))

    def save(self, note: str) -> None:
        """Replace the state with ``note`` (checked first), atomically: a crash leaves
        the old state or the new one, never a torn file."""
        self.parse(note)
        write_public_file(self.path, note.encode("utf-8"), overwrite=True)

    def create_empty(self, signer: NoteSigner) -> SignedHead:
        """The state of a new key: it has signed only the empty tree. Refuses to
        overwrite an existing state, which may record a later checkpoint."""
        note = str(sign_checkpoint(Checkpoint(signer.name, 0, EMPTY_ROOT), signer))
        self.parse(note)
        write_public_file(self.path, note.encode("utf-8"), overwrite=False)
        return self.parse(note)
