"""What the read models that keep one row per act share (inquiries, reports, the
disclosure calendar): each row's fields as JSON, and the rows of a community up to an
entry, in order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from projections.db import ReadDB


@dataclass(frozen=True, slots=True)
class Act:
    """One act as its read model keeps it: when, by whom, and its own fields."""

    seq: int
    recorded_at: str
    actor: str
    actor_role: str
    fields: dict[str, Any]

    def text(self, name: str) -> str:
        """A text field; "" when missing."""
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""

    def as_json(self) -> dict[str, Any]:
        """What the JSON routes show of it."""
        return {"recorded_at": self.recorded_at, "actor": self.actor, **self.fields}


def fields_json(fields: dict[str, Any]) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True)


def fields_of(text: str) -> dict[str, Any]:
    """A row's fields; {} if the stored text is not a JSON object."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def act_rows(
    db: ReadDB,
    table: str,
    columns: str,
    community_id: str,
    as_of: int | None = None,
    **equal: str,
) -> Sequence[tuple[Any, ...]]:
    """``columns`` of ``table``'s rows of the community up to entry ``as_of`` (all when
    None) whose named columns equal the values given, in entry order. The table and
    column names are the read models' own, never a caller's input."""
    conditions: list[str] = ["community = ?"]
    params: list[object] = [community_id]
    if as_of is not None:
        conditions.append("seq <= ?")
        params.append(as_of)
    for column, value in equal.items():
        conditions.append(f"{column} = ?")
        params.append(value)
    with db.reading() as tx:
        rows: Sequence[tuple[Any, ...]] = tx.query(
            f"SELECT {columns} FROM {table} WHERE {' AND '.join(conditions)} ORDER BY seq",
            params,
        )
    return rows
