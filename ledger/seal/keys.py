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

The files are handled like ssh handles its keys, because a leaked log key lets anyone
sign a forged history:

* a private key file is created with mode 0600 from its first byte (``O_CREAT | O_EXCL``
  with the mode, never a ``chmod`` afterwards, which would leave a window in which the
  key is readable), missing parent directories 0700;
* an existing file is not replaced unless asked (and then atomically, by renaming a new
  file over it), and a symlink is never written through;
* a key file that group or others may read or write is refused on load;
* no error message ever repeats a private key's text.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.errors import FormatError, GongkaiError
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
PRIVATE_KEY_MODE: Final = 0o600
PRIVATE_DIR_MODE: Final = 0o700
VKEY_MODE: Final = 0o644
VKEY_DIR_MODE: Final = 0o755
# A key file is one short line; anything much longer is not one.
MAX_KEY_FILE_SIZE: Final = 4096

_HEX_DIGITS: Final = frozenset("0123456789abcdef")
_O_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC: Final = getattr(os, "O_CLOEXEC", 0)


class KeyFileError(GongkaiError):
    """A key file could not be written or read: missing, in the way, a symlink, or an
    I/O error."""


class InsecureKeyFileError(KeyFileError):
    """A private key file that group or others may access (like ssh, gongkai refuses
    to use it)."""


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


def _make_dirs(directory: Path, mode: int) -> None:
    """Create ``directory`` and its missing parents, each with ``mode`` (``Path.mkdir``
    gives missing parents the default mode instead)."""
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=mode)
        except FileExistsError:
            pass
        except OSError as e:
            raise KeyFileError(f"cannot create directory {d}: {e.strerror}") from e


def _check_target(path: Path, overwrite: bool) -> bool:
    """Refuse a symlink, a non-file, or (unless ``overwrite``) an existing file. Return
    whether the file exists."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    except OSError as e:
        raise KeyFileError(f"cannot inspect {path}: {e.strerror}") from e
    if stat.S_ISLNK(st.st_mode):
        raise KeyFileError(f"{path} is a symlink; refusing to write a key through it")
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"{path} exists and is not a regular file")
    if not overwrite:
        raise KeyFileError(f"{path} already exists; refusing to overwrite it")
    return True


def _write_new(path: Path, data: bytes, mode: int, *, exact_mode: bool = False) -> None:
    """Create ``path`` (which must not exist) with ``mode`` and write ``data`` durably.

    ``exact_mode`` sets the mode regardless of the umask, before anything is written.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError as e:
        raise KeyFileError(f"{path} already exists; refusing to overwrite it") from e
    except OSError as e:
        raise KeyFileError(f"cannot create {path}: {e.strerror}") from e
    try:
        try:
            if exact_mode:
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        with contextlib.suppress(OSError):
            path.unlink()
        raise KeyFileError(f"cannot write {path}: {e.strerror}") from e


def _fsync_dir(directory: Path) -> None:
    """Make a new directory entry durable (best effort: not every platform can)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | _O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_file(
    path: Path, data: bytes, mode: int, dir_mode: int, *, overwrite: bool, exact_mode: bool
) -> None:
    path = Path(path)
    # 1. missing parent directories, with dir_mode
    _make_dirs(path.parent, dir_mode)
    # 2. no symlink, no directory, no existing file unless overwrite
    exists = _check_target(path, overwrite)
    if not exists:
        # 3a. a new file, created exclusively with its mode
        _write_new(path, data, mode, exact_mode=exact_mode)
    else:
        # 3b. a replacement: a new file beside it, renamed over it (never written through)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        _write_new(temporary, data, mode, exact_mode=exact_mode)
        try:
            _check_target(path, overwrite=True)
            temporary.replace(path)
        except BaseException as e:
            with contextlib.suppress(OSError):
                temporary.unlink()
            if isinstance(e, OSError):
                raise KeyFileError(f"cannot replace {path}: {e.strerror}") from e
            raise
    _fsync_dir(path.parent)


def write_private_key(key: PrivateKey, path: Path, *, overwrite: bool = False) -> None:
    """Write ``key`` to a new file with mode 0600 (see the module docstring).

    Raises :class:`KeyFileError` if ``path`` exists (unless ``overwrite``), is a symlink,
    or cannot be written.
    """
    data = format_private_key(key).encode("utf-8")
    _write_file(
        path,
        data,
        PRIVATE_KEY_MODE,
        PRIVATE_DIR_MODE,
        overwrite=overwrite,
        exact_mode=False,
    )


def _read_small_file(
    path: Path, what: str, *, private: bool, limit: int = MAX_KEY_FILE_SIZE
) -> bytes:
    """Read a key file of at most ``limit`` bytes.

    1. open it, and look at the file opened rather than at the path, which could change;
    2. it must be a regular file;
    3. if ``private``, like ssh: group and others must have no access at all (checked
       before a byte of the key is read);
    4. read it.
    """
    # 1.
    try:
        fd = os.open(path, os.O_RDONLY | _O_CLOEXEC)
    except FileNotFoundError as e:
        raise KeyFileError(f"{what} file {path} does not exist") from e
    except OSError as e:
        raise KeyFileError(f"cannot open {what} file {path}: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        # 2.
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"{what} file {path} is not a regular file")
        # 3.
        if private and st.st_mode & 0o077:
            raise InsecureKeyFileError(
                f"permissions {stat.S_IMODE(st.st_mode):04o} for {what} file {path} are "
                f"too open: group and others must have no access (chmod 600 {path})"
            )
        # 4.
        data = os.read(fd, limit + 1)
    except OSError as e:
        raise KeyFileError(f"cannot read {what} file {path}: {e.strerror}") from e
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FormatError(f"{path} is too large to be a {what} file")
    return data


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
    text = _decode_key_file(path, _read_small_file(path, "private key", private=True), "key")
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
    _write_file(
        path,
        (vkey + "\n").encode("utf-8"),
        VKEY_MODE,
        VKEY_DIR_MODE,
        overwrite=True,
        exact_mode=True,
    )


def write_public_file(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Write a public file kept with the keys (a signer's state), mode 0644: created
    exclusively, or replaced atomically by renaming a new file over it, then the
    directory is synced, so that a crash leaves the old content or the new."""
    _write_file(path, data, VKEY_MODE, PRIVATE_DIR_MODE, overwrite=overwrite, exact_mode=True)


def read_public_file(path: Path, limit: int, what: str) -> bytes:
    """Read a public file kept with the keys, a regular file of at most ``limit`` bytes."""
    return _read_small_file(Path(path), what, private=False, limit=limit)


def load_vkey(path: Path) -> NoteVerifier:
    """Read a file written by :func:`write_vkey` (one verifier key, then a newline)."""
    path = Path(path)
    data = _read_small_file(path, "verifier key", private=False)
    text = _decode_key_file(path, data, "verifier key")
    if text.endswith("\n"):
        text = text[:-1]
    try:
        return parse_vkey(text)
    except FormatError as e:
        raise FormatError(f"{path}: {e}") from None
