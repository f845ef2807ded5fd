"""Signed notes (C2SP signed-note): the text format every checkpoint, committee seal and
witness cosignature travels in.

- :mod:`ledger.seal.note.parse`: the format, read strictly, and the encodings shared
  with checkpoints and proofs;
- :mod:`ledger.seal.note.sign`: signing keys and signing a note;
- :mod:`ledger.seal.note.verify`: public keys, vkeys, and opening a signed note.

The names below are the package's interface; import them from here."""

from ledger.seal.note.parse import (
    COSIGNATURE_HEADER,
    COSIGNATURE_SIZE,
    ED25519_KEY_SIZE,
    ED25519_SIGNATURE_SIZE,
    KEY_ID_SIZE,
    MAX_SIGNATURES,
    MAX_TIMESTAMP,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    SIGNATURE_PREFIX,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    Note,
    NoteSigner,
    NoteVerificationError,
    NoteVerifier,
    Signature,
    VerifiedNote,
    add_signatures,
    check_key_name,
    cosignature_message,
    cosignature_timestamp,
    key_id,
    open_note,
    parse_note,
    parse_vkey,
    sign_note,
)

__all__ = [
    "COSIGNATURE_HEADER",
    "COSIGNATURE_SIZE",
    "ED25519_KEY_SIZE",
    "ED25519_SIGNATURE_SIZE",
    "KEY_ID_SIZE",
    "MAX_SIGNATURES",
    "MAX_TIMESTAMP",
    "SIGNATURE_PREFIX",
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "CosignatureSigner",
    "CosignatureVerifier",
    "Ed25519Signer",
    "Ed25519Verifier",
    "Note",
    "NoteSigner",
    "NoteVerificationError",
    "NoteVerifier",
    "Signature",
    "VerifiedNote",
    "add_signatures",
    "check_key_name",
    "cosignature_message",
    "cosignature_timestamp",
    "key_id",
    "open_note",
    "parse_note",
    "parse_vkey",
    "sign_note",
]
