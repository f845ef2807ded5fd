"""Bounds and types the routes' parameters share.

The request models check input as the ledger does, with the ledger's own functions
(:mod:`ledger.domain.validate`), so that what the API lets through is what the ledger
would take and what it refuses gets a 422 naming the field before anything is tried.
Above all, nothing is coerced on the way: pydantic's lax mode would turn ``true``,
``"100"``, ``100.0`` and ``1e2`` into the integer 1 or 100 before the ledger's refusal of
bools, strings and floats could see them, so amounts and numbers are ``StrictInt``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Final

from pydantic import AfterValidator, Field, StrictInt, ValidationInfo

from ledger.domain import validate
from ledger.errors import InvalidInputError

MAX_SEQ: Final = 2**63 - 1
"""The largest entry number or tree size: the stores hold them as signed 64-bit integers
(SQLite's INTEGER, PostgreSQL's BIGINT). A larger one names nothing, so a route refuses
it as invalid (422) before it reaches a query, where the database driver would fail on it."""

#: A finance month as a query's bound: the ledger's own period, as a pattern for the
#: OpenAPI schema (``[0-9]``: ASCII digits only).
PERIOD_PATTERN: Final = r"^(?:20[0-9]{2}|2100)-(?:0[1-9]|1[0-2])$"


def _single_line(value: str, info: ValidationInfo) -> str:
    return _as_ledger(validate.shown_as_stored, value.strip(), info, value)


def _multi_line(value: str, info: ValidationInfo) -> str:
    return _as_ledger(_multi_line_check, value.strip(), info, value)


def _multi_line_check(value: str, field: str) -> str:
    return validate.shown_as_stored(value, field, multiline=True)


def _period(value: str, info: ValidationInfo) -> str:
    return _as_ledger(validate.period, value, info, value)


def _as_ledger(
    check: Callable[[str, str], object], checked: str, info: ValidationInfo, value: str
) -> str:
    """``value`` once the ledger's ``check`` takes ``checked`` (what the ledger itself
    would check: text stripped, as it strips it); its refusal becomes pydantic's, a 422
    naming the field in the ledger's words."""
    try:
        check(checked, info.field_name or "value")
    except InvalidInputError as e:
        raise ValueError(str(e)) from None
    return value


#: Text on one line (a title, a name, a counterparty, a memo): no control character at
#: all, not even a line break, and no bidirectional control.
SingleLine = Annotated[str, AfterValidator(_single_line)]
#: Prose (a body, an opinion, a finding): line breaks and tabs allowed, nothing else of
#: the controls.
MultiLine = Annotated[str, AfterValidator(_multi_line)]
#: An accounting month, YYYY-MM in ASCII digits, 2000-01 to 2100-12.
Period = Annotated[str, AfterValidator(_period)]
#: A positive amount of fen, within the ledger's bound; an integer, never coerced.
Fen = Annotated[StrictInt, Field(gt=0, le=validate.MAX_AMOUNT_FEN)]
