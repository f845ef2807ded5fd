"""Amounts as people write them in the console's forms."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

from ledger.errors import InvalidInputError

#: An amount as people write it: yuan, thousands separated by commas or not, at most
#: two decimals (角 and 分).
_YUAN: Final = re.compile(r"[0-9]{1,3}(,[0-9]{3})*(\.[0-9]{1,2})?|[0-9]+(\.[0-9]{1,2})?")


def yuan_to_fen(text: str) -> int:
    """``1,260.50`` -> 126050; a clear error for anything else."""
    cleaned = text.strip().removesuffix("元")
    if not _YUAN.fullmatch(cleaned):
        raise InvalidInputError(
            f"the amount {text!r} is not yuan with at most two decimals, e.g. 1,260.50",
            field="amount",
        )
    try:
        fen = int(Decimal(cleaned.replace(",", "")) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise InvalidInputError(f"the amount {text!r} is not a number", field="amount") from None
    if fen <= 0:
        raise InvalidInputError("the amount must be more than zero", field="amount")
    return fen
