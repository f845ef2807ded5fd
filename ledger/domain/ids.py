"""IDs of new disclosures, objections and finance entries: UUID version 7 (RFC 9562,
section 5.7), which begins with the time it was made in milliseconds.

Every index keyed by an aggregate's ID (the read models' boards, histories and audit
trails, on SQLite and PostgreSQL alike) then grows at its end, as the ledger does,
instead of at a random place in pages scattered over the whole index. The time an ID
shows is no secret: the ledger stamps the same time on the aggregate's first event. IDs
made before, of version 4, stay valid: nothing reads the time back out of an ID.
"""

from __future__ import annotations

import secrets
import time
from typing import Final
from uuid import UUID

_VERSION: Final = 7
_VARIANT: Final = 0b10  # RFC 9562's variant, as in every UUID made by the uuid module


def time_ordered_id(unix_ms: int, random_bits: int) -> UUID:
    """A version-7 UUID of time ``unix_ms`` and 74 bits of ``random_bits``."""
    if not 0 <= unix_ms < 1 << 48:
        raise ValueError(f"a UUIDv7 holds 48 bits of milliseconds, not {unix_ms}")
    random_bits &= (1 << 74) - 1
    # The 128 bits, from the top (RFC 9562, Figure 11): unix_ts_ms (48), ver (4),
    # rand_a (12), var (2), rand_b (62).
    value = unix_ms << 80
    value |= _VERSION << 76
    value |= (random_bits >> 62) << 64
    value |= _VARIANT << 62
    value |= random_bits & ((1 << 62) - 1)
    return UUID(int=value)


def new_id() -> UUID:
    """A new aggregate's ID, made now."""
    return time_ordered_id(time.time_ns() // 1_000_000, secrets.randbits(74))
