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
#: An accounting month, YYYY-MM, 2000-01 to 2100-12. ``[0-9]``, never ``\d``, which
#: takes any script's digits (٢٠٢٦, ２０２６), and the years a community's books can
#: hold: earlier ones are typing slips that no calendar below can draw (year 0 has no
#: date at all), later ones the same.
PERIOD: Final = re.compile(r"(?:20[0-9]{2}|2100)-(?:0[1-9]|1[0-2])")
FIRST_PERIOD: Final = "2000-01"
LAST_PERIOD: Final = "2100-12"
# Text that changes how *other* text is shown, or is not shown at all: C0 (U+0000-U+001F),
# DEL and C1 (U+007F-U+009F) controls, and the bidirectional embeddings, overrides
# (U+202A-U+202E) and isolates (U+2066-U+2069) that can make a posted figure or name
# read differently from what is stored (a "Trojan Source" reordering).
_BIDI: Final = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
#: What a multi-line field (a disclosure's body, an opinion, a finding) may keep of C0:
#: line breaks and tabs are how such text is written. Single-line fields (titles,
#: names, counterparties, a finance entry's memo, 摘要) keep none: a line break there
#: would split a table row or a printed sheet's line.
MULTILINE_CONTROLS: Final = frozenset("\n\t")
MAX_TITLE: Final = 200
MAX_TEXT: Final = 20_000
# 100 million yuan, in fen: far above any community's budget line, far below overflow.
MAX_AMOUNT_FEN: Final = 10_000_000_000


def text(
    value: object,
    field: str,
    *,
    max_length: int = MAX_TEXT,
    required: bool = True,
    multiline: bool = False,
) -> str:
    """A string, stripped; empty is refused when ``required``. Control characters and
    bidirectional controls are refused (see :func:`shown_as_stored`)."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be text", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidInputError(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise InvalidInputError(f"{field} is longer than {max_length} characters", field=field)
    return shown_as_stored(value, field, multiline=multiline)


def hidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character of ``value`` that a reader would not see as stored, or None.
    ``multiline`` text may hold line breaks and tabs."""
    for ch in value:
        if multiline and ch in MULTILINE_CONTROLS:
            continue
        if ch < "\x20" or "\x7f" <= ch <= "\x9f" or ch in _BIDI:
            return ch
    return None


def shown_as_stored(value: str, field: str, *, multiline: bool = False) -> str:
    """``value`` if every character of it shows as stored, else raise naming the field
    and the character: a control character or a bidirectional override in a posted text
    would make the board show something other than what the ledger holds."""
    ch = hidden_character(value, multiline=multiline)
    if ch is None:
        return value
    kind = "a bidirectional control" if ch in _BIDI else "a control"
    allowed = "; only line breaks and tabs are allowed" if multiline else ""
    raise InvalidInputError(
        f"{field} contains {kind} character (U+{ord(ch):04X}){allowed}", field=field
    )


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
    """An accounting period, ``YYYY-MM`` in ASCII digits, from 2000-01 to 2100-12."""
    problem = period_problem(value)
    if problem is not None:
        raise InvalidInputError(f"{field} {problem}", field=field)
    assert isinstance(value, str)
    return value


def period_problem(value: object) -> str | None:
    """Why ``value`` is not an accounting period, or None when it is one. The read
    models ask this of entries recorded before the check was this strict."""
    if isinstance(value, str) and PERIOD.fullmatch(value):
        return None
    return (
        f"must be a month as YYYY-MM in ASCII digits, from {FIRST_PERIOD} to "
        f"{LAST_PERIOD}, got {value!r}"
    )


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
