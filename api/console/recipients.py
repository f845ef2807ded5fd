"""The console's aid list (名单): one person a line, as a clerk pastes it from a sheet.

Each line is ``编号|姓名|身份证号|手机号|金额（元）|备注``, the fields separated by ``|`` or
a tab (a sheet's cells, pasted), the later ones optional and empty when not known; a
comma is not a separator, since amounts are written 1,260.50. The ledger checks each
field again and seals them (ledger.domain.personal_data)."""

from __future__ import annotations

import re
from typing import Any, Final

from api.console.money import yuan_to_fen
from ledger.errors import InvalidInputError

_SEPARATOR: Final = re.compile(r"\t|\|")
FIELDS: Final = ("person_id", "name", "id_number", "phone", "amount", "note")


def parse_recipients(text: str) -> list[dict[str, Any]]:
    """The recipients of the form's list; blank lines are skipped."""
    people: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in _SEPARATOR.split(line)]
        if len(cells) < 2 or len(cells) > len(FIELDS):
            raise InvalidInputError(
                f"recipients, line {number}: give 编号|姓名, then 身份证号, 手机号, 金额（元） "
                "and 备注 if known",
                field="recipients",
            )
        row = dict(zip(FIELDS, cells + [""] * (len(FIELDS) - len(cells)), strict=True))
        person: dict[str, Any] = {
            "person_id": row["person_id"],
            "name": row["name"],
            "id_number": row["id_number"],
            "phone": row["phone"],
            "note": row["note"],
        }
        if row["amount"]:
            try:
                person["amount_fen"] = yuan_to_fen(row["amount"])
            except InvalidInputError as e:
                raise InvalidInputError(
                    f"recipients, line {number}: {e}", field="recipients"
                ) from None
        people.append(person)
    return people
