"""A community's signed checkpoints and their cosignatures: the committee members'
and witnesses' keys the community accepts (type 0x04 only), each cosignature line
verified over its checkpoint before it is stored, and the checkpoint's note with every
stored cosignature appended, as readers get it."""

from __future__ import annotations

import datetime as dt
from typing import Final

from ledger.errors import InvalidInputError, NotFoundError, VerificationError
from ledger.seal.note import SIG_COSIGNATURE_V1, Signature, add_signatures, parse_note, parse_vkey
from ledger.store.backend import Store
from ledger.store.base import Cosigner, StoredCheckpoint, StoredCosignature
from ledger.store.seal import SealStore

COSIGNER_ROLES: Final = ("committee", "witness")


class UnknownCosignerError(VerificationError):
    """A cosignature by a key the community has not accepted."""


class BadCosignatureError(VerificationError):
    """A cosignature by an accepted key that does not verify over the checkpoint."""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _parse_signature_line(text: str, line: str) -> Signature:
    """One ``— name base64`` line, parsed with the note parser so that the rules are the
    same as for any signed note."""
    line = line.strip("\n")
    if "\n" in line:
        raise InvalidInputError("send exactly one cosignature line", field="cosignature")
    signatures = parse_note(text + "\n" + line + "\n").signatures
    if len(signatures) != 1 or len(signatures[0].signature) != 8 + 64:
        raise InvalidInputError(
            "not a tlog-cosignature/v1 line: '— <name> base64(key ID || timestamp || "
            "Ed25519 signature)'",
            field="cosignature",
        )
    return signatures[0]


class SignedCheckpoints:
    """One community's signed checkpoints, the cosigners it accepts, and their
    cosignatures; :class:`~ledger.seal.community_log.CommunityLog` adds the tree, the
    signing and the proofs."""

    def __init__(self, store: Store, community_id: str) -> None:
        self.store = store
        self.community_id = community_id
        self.seal: SealStore = store.seal(community_id)

    def latest_checkpoint(self) -> StoredCheckpoint:
        latest = self.seal.checkpoint()
        if latest is None:
            raise NotFoundError(f"community {self.community_id!r} has no signed checkpoint yet")
        return latest

    def checkpoint(self, tree_size: int) -> StoredCheckpoint:
        found = self.seal.checkpoint(tree_size)
        if found is None:
            raise NotFoundError(
                f"community {self.community_id!r} has no checkpoint of size {tree_size}"
            )
        return found

    def cosigned_note(self, checkpoint: StoredCheckpoint) -> str:
        """The checkpoint's signed note with every stored cosignature appended."""
        note = parse_note(checkpoint.note)
        stored = self.seal.cosignatures([checkpoint.tree_size])
        return str(
            add_signatures(note, [_parse_signature_line(note.text, c.line) for c in stored])
        )

    # --- cosigners and cosignatures ----------------------------------------------------

    def add_cosigner(self, vkey: str, *, role: str, label: str) -> Cosigner:
        """Accept a committee member's or witness's cosigning key."""
        verifier = parse_vkey(vkey)
        if verifier.sig_type != SIG_COSIGNATURE_V1:
            raise InvalidInputError(
                "a committee seal or witness key must be a cosigner key (type 0x04); "
                "generate one with 'gongkai keys generate --kind cosigner'",
                field="vkey",
            )
        if role not in COSIGNER_ROLES:
            raise InvalidInputError(f"role must be one of {', '.join(COSIGNER_ROLES)}")
        cosigner = Cosigner(verifier.vkey, verifier.name, verifier.key_id, role, label, now_iso())
        self.seal.add_cosigner(cosigner)
        return cosigner

    def cosigners(self) -> list[Cosigner]:
        return self.seal.cosigners()

    def add_cosignature(self, tree_size: int, line: str) -> tuple[Cosigner, bool]:
        """Verify and store one cosignature line on the checkpoint of ``tree_size``.
        Returns the cosigner and whether it was new."""
        checkpoint = self.checkpoint(tree_size)
        note = parse_note(checkpoint.note)
        signature = _parse_signature_line(note.text, line)
        for cosigner in self.seal.cosigners():
            if cosigner.name == signature.name and cosigner.key_id == signature.key_id:
                verifier = parse_vkey(cosigner.vkey)
                break
        else:
            raise UnknownCosignerError(
                f"{signature.name}+{signature.key_id.hex()} is not an accepted cosigner of "
                f"{self.community_id!r}"
            )
        if not verifier.verify(note.text.encode("utf-8"), signature.signature):
            raise BadCosignatureError(
                f"the cosignature by {signature.name} does not verify over the checkpoint "
                f"of size {tree_size}"
            )
        timestamp = int.from_bytes(signature.signature[:8], "big")
        added = self.seal.add_cosignature(
            StoredCosignature(
                tree_size, signature.name, signature.key_id, signature.line(), timestamp, now_iso()
            )
        )
        return cosigner, added
