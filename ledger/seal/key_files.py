"""Key files written and read as ssh does with its keys: created with their mode from
the first byte (``O_CREAT | O_EXCL``), replaced only when asked and then atomically,
never written or read through a symlink, and refused on load when group or others may
read or write a private one. :mod:`ledger.seal.keys` says what the files hold."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Final

from ledger.errors import FormatError, GongkaiError

PRIVATE_KEY_MODE: Final = 0o600


PRIVATE_DIR_MODE: Final = 0o700


VKEY_MODE: Final = 0o644


VKEY_DIR_MODE: Final = 0o755


# A key file is one short line; anything much longer is not one.
MAX_KEY_FILE_SIZE: Final = 4096


_O_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)


_O_CLOEXEC: Final = getattr(os, "O_CLOEXEC", 0)


class KeyFileError(GongkaiError):
    """A key file could not be written or read: missing, in the way, a symlink, or an
    I/O error."""


class InsecureKeyFileError(KeyFileError):
    """A private key file that group or others may access (like ssh, gongkai refuses
    to use it)."""


def make_dirs(directory: Path, mode: int) -> None:
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


def check_target(path: Path, overwrite: bool) -> bool:
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


def write_new(path: Path, data: bytes, mode: int, *, exact_mode: bool = False) -> None:
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


def fsync_dir(directory: Path) -> None:
    """Make a new directory entry durable (best effort: not every platform can)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | _O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_file(
    path: Path, data: bytes, mode: int, dir_mode: int, *, overwrite: bool, exact_mode: bool
) -> None:
    path = Path(path)
    # 1. missing parent directories, with dir_mode
    make_dirs(path.parent, dir_mode)
    # 2. no symlink, no directory, no existing file unless overwrite
    exists = check_target(path, overwrite)
    if not exists:
        # 3a. a new file, created exclusively with its mode
        write_new(path, data, mode, exact_mode=exact_mode)
    else:
        # 3b. a replacement: a new file beside it, renamed over it (never written through)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        write_new(temporary, data, mode, exact_mode=exact_mode)
        try:
            check_target(path, overwrite=True)
            temporary.replace(path)
        except BaseException as e:
            with contextlib.suppress(OSError):
                temporary.unlink()
            if isinstance(e, OSError):
                raise KeyFileError(f"cannot replace {path}: {e.strerror}") from e
            raise
    fsync_dir(path.parent)


def read_small_file(
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


def write_public_file(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Write a public file kept with the keys (a signer's state), mode 0644: created
    exclusively, or replaced atomically by renaming a new file over it, then the
    directory is synced, so that a crash leaves the old content or the new."""
    write_file(path, data, VKEY_MODE, PRIVATE_DIR_MODE, overwrite=overwrite, exact_mode=True)


def read_public_file(path: Path, limit: int, what: str) -> bytes:
    """Read a public file kept with the keys, a regular file of at most ``limit`` bytes."""
    return read_small_file(Path(path), what, private=False, limit=limit)
