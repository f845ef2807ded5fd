"""Service settings, read when the app is created, never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ledger.store import default_url


@dataclass(frozen=True, slots=True)
class Settings:
    """What the service needs to start. ``from_env`` reads ``GONGKAI_DB``."""

    db_url: str = field(default_factory=default_url)
    page_limit: int = 500

    @classmethod
    def from_env(cls) -> Settings:
        return cls(db_url=os.environ.get("GONGKAI_DB") or default_url())
