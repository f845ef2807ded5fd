"""Files written whole or not at all: written to a temporary file beside their place,
then moved into it."""

from __future__ import annotations

import os
from pathlib import Path


def move_into_place(tmp: Path, path: Path, *, overwrite: bool) -> None:
    """Move ``tmp`` to ``path``; unless ``overwrite``, FileExistsError if ``path`` is
    there already, even if it appeared a moment ago."""
    if overwrite:
        tmp.replace(path)
        return
    try:
        # A hard link never replaces an existing file, unlike a rename.
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it") from None
    except OSError:  # no hard links on this file system: check, then rename
        if path.exists():
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it") from None
        tmp.replace(path)
