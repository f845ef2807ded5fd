"""Where the service and the command line find a community's log key.

The log key of community ``C`` is ``<keys dir>/C.log.key`` (private, mode 0600) with its
verifier key beside it in ``C.log.vkey``. The keys directory is a setting
(``GONGKAI_KEYS_DIR``, default ``data/keys``); private keys never enter the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from ledger.errors import InvalidInputError
from ledger.seal.keys import KeyKind, PrivateKey, load_private_key

DEFAULT_KEYS_DIR: Final = Path("data/keys")


def log_key_path(keys_dir: Path, community_id: str) -> Path:
    return keys_dir / f"{community_id}.log.key"


def vkey_path(key_path: Path) -> Path:
    """``x.log.key`` → ``x.log.vkey``: the public half, written beside the private one."""
    return key_path.with_suffix(".vkey")


def find_log_key(keys_dir: Path, community_id: str) -> PrivateKey | None:
    """The community's log key if its file exists (a log key, not a cosigner key)."""
    path = log_key_path(keys_dir, community_id)
    if not path.exists():
        return None
    key = load_private_key(path)
    if key.kind is not KeyKind.LOG:
        raise InvalidInputError(f"{path} holds a {key.kind} key, not a log key")
    return key
