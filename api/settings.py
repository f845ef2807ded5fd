"""Service settings, read when the app is created, never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from api.keyfiles import DEFAULT_KEYS_DIR
from ledger.errors import InvalidInputError
from ledger.store import default_url


@dataclass(frozen=True, slots=True)
class Settings:
    """What the service needs to start.

    ``from_env`` reads ``GONGKAI_DB``, ``GONGKAI_KEYS_DIR`` (where each community's log
    key file is, see :mod:`api.keyfiles`), ``GONGKAI_CHECKPOINT_INTERVAL`` (seconds
    between scheduled checkpoints; 0 turns the sealer off) and ``GONGKAI_WITNESSES``
    (witness URLs, comma-separated, asked to cosign each new checkpoint).
    """

    db_url: str = field(default_factory=default_url)
    page_limit: int = 500
    keys_dir: Path = DEFAULT_KEYS_DIR
    checkpoint_interval: float = 300.0
    witnesses: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> Settings:
        interval = os.environ.get("GONGKAI_CHECKPOINT_INTERVAL", "300")
        try:
            seconds = float(interval)
        except ValueError:
            raise InvalidInputError(
                f"GONGKAI_CHECKPOINT_INTERVAL must be a number of seconds, not {interval!r}"
            ) from None
        return cls(
            db_url=os.environ.get("GONGKAI_DB") or default_url(),
            keys_dir=Path(os.environ.get("GONGKAI_KEYS_DIR") or DEFAULT_KEYS_DIR),
            checkpoint_interval=seconds,
            witnesses=tuple(
                url.strip()
                for url in os.environ.get("GONGKAI_WITNESSES", "").split(",")
                if url.strip()
            ),
        )
