"""C2SP signed notes (c2sp.org/signed-note): text signed by one or more keys.

A community's checkpoints, committee seals and witness cosignatures all travel as signed
notes, so that anyone can check them with the standard tools of the transparency-log
ecosystem (the Go ``note`` package, litewitness, sigsum) and not only with gongkai. A note
is::

    <text, ending in a newline>
    <blank line>
    — <key name> base64(4-byte key ID || signature)
    — ...

Two signature types are supported, and no others (the spec asks implementations to pick
the ones their design needs):

* ``0x01``: Ed25519 over the note text. The log signs its checkpoints with it.
* ``0x04``: timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature, ``cosignature/v1``):
  Ed25519 over ``"cosignature/v1\\ntime <ts>\\n" || note text``, carried as
  ``u64 timestamp || signature``. Committee seals and witnesses use it.

Parsing is strict and exact: a note that parses serializes back to the same characters
(base64 must be canonical for that), and anything the spec does not allow is a
:class:`~ledger.errors.FormatError`. Verification follows the spec's rules: a signature
is attributed to a known key only when *both* its key name and key ID match, signatures
from unknown keys are ignored, every signature from a known key is verified and one that
fails rejects the whole note, and a note that no known key verified is rejected
(:class:`NoteVerificationError`).

Choices beyond the spec, all on the strict side:

* at most :data:`MAX_SIGNATURES` signature lines (the spec requires accepting 16);
* base64 must be canonical (padded, unused bits zero; RFC 4648 section 3.5 allows a
  decoder to insist), so that each note has exactly one spelling;
* key names may not contain control characters (below U+0020) either: a note cannot
  carry them anyway, and this keeps them out of vkeys and key files too;
* every signature by a known key is verified, including repeats (the Go package skips
  a known key's second signature unverified; the spec says it MUST be verified), and a
  known key that signed a note twice with *different* signatures rejects the note: for
  a cosignature the two would claim different times, and the reader could not tell
  which one was meant. Exact duplicate lines are harmless and counted once.

The package in three modules, each importing only the one before:

- :mod:`ledger.seal.note.parse`: the format, read strictly, and the encodings shared
  with checkpoints and proofs;
- :mod:`ledger.seal.note.verify`: public keys, vkeys, and opening a signed note;
- :mod:`ledger.seal.note.sign`: private keys and signing a note.

Import the names below from here.
"""

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
    Note,
    NoteVerificationError,
    Signature,
    check_key_name,
    cosignature_message,
    cosignature_timestamp,
    key_id,
    parse_note,
)
from ledger.seal.note.sign import (
    CosignatureSigner,
    Ed25519Signer,
    NoteSigner,
    add_signatures,
    sign_note,
)
from ledger.seal.note.verify import (
    CosignatureVerifier,
    Ed25519Verifier,
    NoteVerifier,
    VerifiedNote,
    open_note,
    parse_vkey,
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
