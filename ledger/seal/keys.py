"""Key files: the private keys of a log, its committee members and witnesses, and the
public verifier keys (vkeys) that others configure to trust them.

Two kinds of key, one signature type each (see :mod:`ledger.seal.note`):

* :attr:`KeyKind.LOG` signs the log's checkpoints, type ``0x01`` (Ed25519);
* :attr:`KeyKind.COSIGNER` signs committee seals and witness cosignatures, type ``0x04``
  (``cosignature/v1``).

A private key file holds one line in the format of the Go ``note`` package (which uses it
for type ``0x01``; type ``0x04`` keys have the same shape)::

    PRIVATE+KEY+<name>+<hex key ID>+<base64(type || 32-byte Ed25519 seed)>

so keys move between gongkai and the Go tools unchanged. The key ID is that of the
*public* key, and is checked on load, which catches a mistyped or truncated file.

The files are handled like ssh handles its keys (:mod:`ledger.seal.key_files`), because
a leaked log key lets anyone sign a forged history:

* a private key file is created with mode 0600 from its first byte (``O_CREAT | O_EXCL``
  with the mode, never a ``chmod`` afterwards, which would leave a window in which the
  key is readable), missing parent directories 0700;
* an existing file is not replaced unless asked (and then atomically, by renaming a new
  file over it), and a symlink is never written through;
* a key file that group or others may read or write is refused on load;
* no error message ever repeats a private key's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import FormatError
from ledger.seal.key_files import (
    PRIVATE_DIR_MODE,
    PRIVATE_KEY_MODE,
    VKEY_DIR_MODE,
    VKEY_MODE,
    read_small_file,
    write_file,
)
from ledger.seal.note import (
    ED25519_KEY_SIZE,
    KEY_ID_SIZE,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    NoteSigner,
    NoteVerifier,
    check_key_name,
    key_id,
    parse_vkey,
)
from ledger.seal.note.parse import _decode_base64, _encode_base64
from ledger.seal.note.sign import _load_seed

PRIVATE_KEY_PREFIX: Final = "PRIVATE+KEY+"

_HEX_DIGITS: Final = frozenset("0123456789abcdef")


class KeyKind(StrEnum):
    """What a key signs, which fixes its signature type."""

    LOG = "log"
    """Signs the log's checkpoints: type 0x01, Ed25519."""
    COSIGNER = "cosigner"
    """Signs committee seals and witness cosignatures: type 0x04, cosignature/v1."""

    @property
    def sig_type(self) -> int:
        """The note signature type of this kind of key."""
        return SIG_ED25519 if self is KeyKind.LOG else SIG_COSIGNATURE_V1


def _kind_of(sig_type: int) -> KeyKind:
    for kind in KeyKind:
        if kind.sig_type == sig_type:
            return kind
    raise FormatError(
        f"private key has signature type 0x{sig_type:02x}; "
        "only 0x01 (log) and 0x04 (cosigner) are supported"
    )


@dataclass(frozen=True)
class PrivateKey:
    """A named Ed25519 private key (its 32-byte seed) of one :class:`KeyKind`.

    The seed is left out of ``repr`` so that it cannot end up in a log line.
    """

    name: str
    kind: KeyKind
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        try:
            object.__setattr__(self, "kind", KeyKind(self.kind))
        except ValueError:
            raise FormatError(f"unknown key kind {self.kind!r}") from None
        object.__setattr__(self, "seed", bytes(self.seed))
        _load_seed(self.seed)  # checks the length

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return _load_seed(self.seed).public_key().public_bytes_raw()

    @property
    def key_id(self) -> bytes:
        """The key ID of the public key."""
        return key_id(self.name, self.kind.sig_type, self.public_key)

    def signer(self) -> NoteSigner:
        """An :class:`~ledger.seal.note.Ed25519Signer` (log) or
        :class:`~ledger.seal.note.CosignatureSigner` (cosigner)."""
        if self.kind is KeyKind.LOG:
            return Ed25519Signer(self.seed, self.name)
        return CosignatureSigner(self.seed, self.name)

    def verifier(self) -> NoteVerifier:
        """The matching public key."""
        if self.kind is KeyKind.LOG:
            return Ed25519Verifier(self.name, self.public_key)
        return CosignatureVerifier(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        """The public verifier key string, to give to those who will trust this key."""
        return self.verifier().vkey


def generate_key(name: str, kind: KeyKind) -> PrivateKey:
    """A new random key."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return PrivateKey(name, KeyKind(kind), seed)


def format_private_key(key: PrivateKey) -> str:
    """``PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>`` and a newline."""
    encoded = _encode_base64(bytes([key.kind.sig_type]) + key.seed)
    return f"{PRIVATE_KEY_PREFIX}{key.name}+{key.key_id.hex()}+{encoded}\n"


def parse_private_key(text: str) -> PrivateKey:
    """Parse :func:`format_private_key`'s output (the final newline may be missing).

    Error messages name what is wrong but never quote the text.
    """
    # 1. one line, "PRIVATE+KEY+"
    if text.endswith("\n"):
        text = text[:-1]
    if not text.startswith(PRIVATE_KEY_PREFIX):
        raise FormatError("not a private key: it does not start with 'PRIVATE+KEY+'")
    if "\n" in text:
        raise FormatError("a private key is a single line")
    # 2. name, key ID and key, separated by '+' (the base64 part may contain '+' itself)
    name, sep1, rest = text[len(PRIVATE_KEY_PREFIX) :].partition("+")
    hex_id, sep2, encoded = rest.partition("+")
    if not (sep1 and sep2):
        raise FormatError("private key is not PRIVATE+KEY+<name>+<key ID>+<key>")
    check_key_name(name)
    if len(hex_id) != 2 * KEY_ID_SIZE or not set(hex_id) <= _HEX_DIGITS:
        raise FormatError("key ID in private key is not 8 lowercase hex digits")
    # 3. base64(type || 32-byte seed), of a supported type
    raw = _decode_base64(encoded, "private key")
    if len(raw) != 1 + ED25519_KEY_SIZE:
        raise FormatError(f"private key material is {len(raw)} bytes, not {1 + ED25519_KEY_SIZE}")
    key = PrivateKey(name, _kind_of(raw[0]), raw[1:])
    # 4. the key ID must be the public key's
    if key.key_id.hex() != hex_id:
        raise FormatError(
            f"key ID {hex_id} in private key {name} does not match its key: the file is damaged"
        )
    return key


def write_private_key(key: PrivateKey, path: Path, *, overwrite: bool = False) -> None:
    """Write ``key`` to a new file with mode 0600 (see the module docstring).

    Raises :class:`KeyFileError` if ``path`` exists (unless ``overwrite``), is a symlink,
    or cannot be written.
    """
    data = format_private_key(key).encode("utf-8")
    write_file(
        path,
        data,
        PRIVATE_KEY_MODE,
        PRIVATE_DIR_MODE,
        overwrite=overwrite,
        exact_mode=False,
    )


def _decode_key_file(path: Path, data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"{path} is not a {what} file (not UTF-8)") from None


def load_private_key(path: Path) -> PrivateKey:
    """Read a private key file, refusing one that group or others may access
    (:class:`InsecureKeyFileError`), a missing one (:class:`KeyFileError`) and a
    malformed one (:class:`FormatError`)."""
    path = Path(path)
    text = _decode_key_file(path, read_small_file(path, "private key", private=True), "key")
    try:
        return parse_private_key(text)
    except FormatError as e:
        raise FormatError(f"{path}: {e}") from None


def write_vkey(vkey: str, path: Path) -> None:
    """Write the verifier key ``vkey`` and a newline to ``path``, mode 0644, replacing
    an existing file atomically (but never writing through a symlink).

    ``vkey`` is checked first (:class:`FormatError`), so a private key can never be
    written out by mistake as if it were public.
    """
    parse_vkey(vkey)
    write_file(
        path,
        (vkey + "\n").encode("utf-8"),
        VKEY_MODE,
        VKEY_DIR_MODE,
        overwrite=True,
        exact_mode=True,
    )


def load_vkey(path: Path) -> NoteVerifier:
    """Read a file written by :func:`write_vkey` (one verifier key, then a newline)."""
    path = Path(path)
    data = read_small_file(path, "verifier key", private=False)
    text = _decode_key_file(path, data, "verifier key")
    if text.endswith("\n"):
        text = text[:-1]
    try:
        return parse_vkey(text)
    except FormatError as e:
        raise FormatError(f"{path}: {e}") from None
