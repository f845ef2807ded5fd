"""An aid list's recipients as a reader sees them (ledger.domain.personal_data).

The read models keep the recipients as stored, sealed; they are opened only here, when
a view is made, with the keys the ledger's key table holds at that moment. So a person
erased since the read model was written shows :data:`ERASED` on every view at once,
without any read model being rebuilt.

Members of the community and the street's auditors see each recipient's fields; the
public view shows the name masked (张*) and the amount, never the ID number, the phone
or the note (个人隐私, DOMAIN.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ledger.domain.personal_data import ERASED, shown
from projections.masking import mask_name

__all__ = ["ERASED", "key_ids", "recipients_view"]


def key_ids(stored: Iterable[Mapping[str, str]]) -> set[str]:
    return {r["key_id"] for r in stored}


def recipients_view(
    community_id: str,
    stored: Iterable[Mapping[str, str]],
    keys: Mapping[str, bytes | None],
    *,
    public: bool,
) -> list[dict[str, Any]]:
    """Each stored recipient as JSON for one view: erased ones as :data:`ERASED`."""
    out: list[dict[str, Any]] = []
    for entry in stored:
        person = shown(community_id, entry, keys)
        if person.erased:
            row: dict[str, Any] = {"person_id": person.person_id, "erased": True, "name": ERASED}
            if not public:
                row |= {"id_number": ERASED, "phone": ERASED, "note": ERASED}
            out.append(row | {"amount_fen": None})
            continue
        row = {
            "person_id": person.person_id,
            "erased": False,
            "name": mask_name(person.name) if public else person.name,
            "amount_fen": person.amount_fen,
        }
        if not public:
            row |= {"id_number": person.id_number, "phone": person.phone, "note": person.note}
        out.append(row)
    return out
