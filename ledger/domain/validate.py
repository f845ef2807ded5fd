"""Input checks shared by the commands. Each raises :class:`InvalidInputError` naming
the field, so that bad input is refused before anything is stored."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Final, TypeVar

from ledger.errors import InvalidInputError

E = TypeVar("E", bound=StrEnum)

SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")
PERIOD: Final = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
MAX_TITLE: Final = 200
MAX_TEXT: Final = 20_000
# 100 million yuan, in fen: far above any community's budget line, far below overflow.
MAX_AMOUNT_FEN: Final = 10_000_000_000


def text(value: object, field: str, *, max_length: int = MAX_TEXT, required: bool = True) -> str:
    """A string, stripped; empty is refused when ``required``."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be text", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInputError(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise InvalidInputError(f"{field} is longer than {max_length} characters", field=field)
    if any(ord(ch) < 0x20 and ch not in "\n\t" for ch in value):
        raise InvalidInputError(f"{field} contains control characters", field=field)
    return value


def choice(enum: type[E], value: object, field: str) -> E:
    """A member of ``enum`` given by its value, with the allowed values in the error."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidInputError(
            f"unknown {field} {value!r}; expected one of: {allowed}", field=field
        ) from None


def sha256_hex(value: object, field: str) -> str:
    """A SHA-256 digest as 64 lower-case hex digits."""
    if not isinstance(value, str) or not SHA256_HEX.fullmatch(value):
        raise InvalidInputError(
            f"{field} must be a SHA-256 digest as 64 lower-case hex digits", field=field
        )
    return value


def sha256_list(values: Iterable[object], field: str) -> list[str]:
    digests = [sha256_hex(v, field) for v in values]
    if len(set(digests)) != len(digests):
        raise InvalidInputError(f"{field} lists the same file twice", field=field)
    return digests


def amount_fen(value: object, field: str = "amount_fen") -> int:
    """A positive whole number of fen (分). Floats, strings and bools are refused: money
    never passes through a float."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(
            f"{field} must be a whole number of fen (分), got {value!r}", field=field
        )
    if value <= 0:
        raise InvalidInputError(f"{field} must be positive, got {value}", field=field)
    if value > MAX_AMOUNT_FEN:
        raise InvalidInputError(f"{field} {value} exceeds {MAX_AMOUNT_FEN} fen", field=field)
    return value


def period(value: object, field: str = "period") -> str:
    """An accounting period, ``YYYY-MM``."""
    if not isinstance(value, str) or not PERIOD.fullmatch(value):
        raise InvalidInputError(f"{field} must be a month as YYYY-MM, got {value!r}", field=field)
    return value


def date(value: object, field: str) -> dt.date:
    """A calendar date, given as a date or as ``YYYY-MM-DD``."""
    if isinstance(value, dt.datetime):
        raise InvalidInputError(f"{field} must be a date, not a date and time", field=field)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInputError(f"{field} must be a date as YYYY-MM-DD, got {value!r}", field=field)


def date_range(start: object, end: object, field: str) -> tuple[dt.date, dt.date]:
    first = date(start, f"{field}_from")
    last = date(end, f"{field}_until")
    if last < first:
        raise InvalidInputError(f"{field} ends before it starts ({first} to {last})", field=field)
    return first, last
