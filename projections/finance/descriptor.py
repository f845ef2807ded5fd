"""``datapackage.json`` of the finance data package: the Table Schema of
``data/entries.csv`` (:data:`COLUMNS`, one field per column with its constraints), the
Fiscal Data Package model that maps columns to measures and dimensions (:data:`MODEL`),
and :func:`build_descriptor`, which adds the community, the period and the chain entry
the record stands at, and lists the entries marked invalid with why."""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from projections.finance.queries import FinanceEntryRow

DESCRIPTOR: Final = "datapackage.json"
ENTRIES: Final = "data/entries.csv"

#: Not a key any Fiscal Data Package text defines (readers ignore unknown keys): it
#: names the version whose ``columnType`` taxonomy the fields use.
FISCAL_SPEC_VERSION: Final = "1.0-rc.1"

# Table Schema patterns match the whole cell (XML Schema regular expressions: no anchors).
_UUID_PATTERN: Final = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    type: str
    description: str
    extra: tuple[tuple[str, Any], ...] = ()

    def field(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "description": self.description} | dict(
            self.extra
        )


def _required(**more: Any) -> tuple[tuple[str, Any], ...]:
    return (("constraints", {"required": True, **more}),)


# The CSV's columns, in order; the header and the schema are both made from this list.
COLUMNS: Final = (
    _Column("seq", "integer", "the chain entry that recorded it", _required(minimum=1)),
    _Column(
        "entry_id",
        "string",
        "the entry's ID",
        (
            ("format", "uuid"),
            ("constraints", {"required": True, "unique": True, "pattern": _UUID_PATTERN}),
            ("columnType", "transaction-id"),
        ),
    ),
    _Column("recorded_at", "datetime", "when it was recorded, UTC", _required()),
    _Column("recorded_on", "date", "the day it was recorded, China Standard Time", _required()),
    _Column("period", "yearmonth", "the month it is booked to (YYYY-MM)", _required()),
    _Column(
        "quarter",
        "string",
        "the quarter of the month, as the quarterly disclosure names it (YYYYQn)",
        _required(pattern="[0-9]{4}Q[1-4]"),
    ),
    _Column(
        "fiscal_year",
        "integer",
        "the year of the month",
        (*_required(), ("columnType", "date:fiscal-year")),
    ),
    _Column(
        "kind",
        "string",
        "income (收入) or expense (支出)",
        (
            ("constraints", {"required": True, "enum": ["income", "expense"]}),
            ("columnType", "economic-classification:generic:level1:code"),
        ),
    ),
    _Column(
        "account",
        "string",
        "the account's code in the community's chart of accounts (会计科目)",
        (*_required(), ("columnType", "economic-classification:generic:level2:code")),
    ),
    _Column(
        "account_name",
        "string",
        "the account's name in the chart when the entry was recorded",
        (("columnType", "economic-classification:generic:level2:label"),),
    ),
    _Column(
        "amount_fen",
        "integer",
        "the exact amount in fen (分; 100 fen = 1 yuan), negative only on a reversing entry",
        _required(),
    ),
    _Column(
        "amount_yuan",
        "number",
        "the same amount in yuan with two decimal places, for reading; amount_fen is exact",
        (*_required(), ("bareNumber", True), ("columnType", "value")),
    ),
    _Column("counterparty", "string", "who paid or was paid (empty on a reversing entry)"),
    _Column("memo", "string", "the clerk's note; on a reversing entry, why"),
    _Column(
        "voucher_sha256",
        "string",
        "SHA-256 of the voucher (凭证) scan, hex",
        (("constraints", {"pattern": "[0-9a-f]{64}"}),),
    ),
    _Column(
        "reverses",
        "string",
        "on a reversing entry: the entry_id of the entry it reverses",
        (("format", "uuid"), ("constraints", {"pattern": _UUID_PATTERN})),
    ),
    _Column(
        "reversed",
        "boolean",
        "whether a later entry (in this package's record) reverses this one",
        (*_required(), ("trueValues", ["true"]), ("falseValues", ["false"])),
    ),
    _Column(
        "reversed_seq",
        "integer",
        "on a reversed entry: the chain entry that reversed it",
        (("constraints", {"minimum": 1}),),
    ),
    _Column(
        "reversed_by",
        "string",
        "on a reversed entry: the entry_id of its reversing entry",
        (("format", "uuid"), ("constraints", {"pattern": _UUID_PATTERN})),
    ),
    _Column("reversed_at", "datetime", "on a reversed entry: when it was reversed, UTC"),
    _Column("reversal_reason", "string", "on a reversed entry: why it was reversed"),
)


HEADER: Final = tuple(c.name for c in COLUMNS)


def build_descriptor(
    community_id: str,
    community_name: str,
    *,
    as_of: int,
    period_from: str | None,
    period_to: str | None,
    rows: Sequence[FinanceEntryRow],
    table: bytes,
    invalid: Sequence[FinanceEntryRow] = (),
) -> dict[str, Any]:
    months = sorted({r.period for r in rows})
    first = period_from or (months[0] if months else None)
    last = period_to or (months[-1] if months else None)
    span = f"{first} to {last}" if first and last else "no entries"
    schema: dict[str, Any] = {
        "fields": [c.field() for c in COLUMNS],
        "primaryKey": ["entry_id"],
        "missingValues": [""],
        # FDP 1.0: the currency of the value column, given once for every row.
        "extraFields": [
            {
                "name": "currency",
                "type": "string",
                "columnType": "value-currency:code",
                "constant": "CNY",
            }
        ],
    }
    if period_from is None and period_to is None:
        # A reversing entry follows its original in the chain, so with every month
        # present the original is always a row too; a range of months may cut it off.
        # (An original marked invalid is no row, but neither is its reversal.)
        schema["foreignKeys"] = [
            {"fields": ["reverses"], "reference": {"resource": "", "fields": ["entry_id"]}}
        ]
    descriptor: dict[str, Any] = {
        "profile": "fiscal-data-package",
        "name": f"{community_id}-finance",
        "title": f"{community_name} 财务公开 (finance entries, {span})",
        "description": (
            f"Every income and expense entry of {community_name} ({community_id}) as the "
            f"ledger stood after chain entry {as_of}, reversed and reversing entries "
            "(红字冲销) included: summing amount_fen by period nets the reversals. "
            "Amounts are integer fen; the measure's factor 0.01 makes yuan."
        ),
        "fiscalSpecVersion": FISCAL_SPEC_VERSION,
        "countryCode": "CN",
        "granularity": "transactional",
        "keywords": ["财务公开", "finance", "居务公开"],
        "gongkai": {
            "community": community_id,
            "as_of": as_of,
            "period_from": period_from,
            "period_to": period_to,
            "entries": len(rows),
        },
    }
    if invalid:
        # Only when there are any, so that a package without keeps the bytes it had.
        descriptor["gongkai"]["invalid_entries"] = [_invalid_json(r) for r in invalid]
    if first and last:
        descriptor["fiscalPeriod"] = {
            "start": f"{first}-01",
            "end": _month_end(last).isoformat(),
        }
    descriptor["resources"] = [
        {
            "profile": "tabular-data-resource",
            "name": "entries",
            "path": ENTRIES,
            "title": f"{community_name} 收支明细",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "bytes": len(table),
            "hash": "sha256:" + hashlib.sha256(table).hexdigest(),
            "schema": schema,
        }
    ]
    descriptor["model"] = MODEL
    return descriptor


def _invalid_json(r: FinanceEntryRow) -> dict[str, Any]:
    """An entry left out of the table: enough to find it in the chain and see its sum."""
    return {
        "seq": r.seq,
        "entry_id": str(r.entry_id),
        "period": r.period,
        "kind": r.kind,
        "account": r.account,
        "amount_fen": r.amount_fen,
        "reverses": str(r.reverses) if r.reverses else None,
        "reversed": r.reversed,
        "invalid": r.invalid,
    }


def _attribute(source: str, **more: str) -> dict[str, str]:
    return {"source": source, "resource": "entries", **more}


#: The logical model: one measure, the amount, and what describes it.
MODEL: Final[dict[str, Any]] = {
    "measures": {
        "amount": {
            "source": "amount_fen",
            "resource": "entries",
            "currency": "CNY",
            "factor": 0.01,
            # Money that came in or went out, not a plan: these are executed figures.
            "phase": "executed",
        }
    },
    "dimensions": {
        "period": {
            "dimensionType": "datetime",
            "attributes": {
                "month": _attribute("period", parent="quarter"),
                "quarter": _attribute("quarter", parent="year"),
                "year": _attribute("fiscal_year"),
            },
            "primaryKey": ["month"],
        },
        "date": {
            "dimensionType": "datetime",
            "attributes": {
                "recorded_at": _attribute("recorded_at"),
                "recorded_on": _attribute("recorded_on"),
            },
            "primaryKey": ["recorded_at"],
        },
        "account": {
            # The community's chart of accounts: an economic classification, under
            # the two kinds; the kind also gives an amount its direction.
            "dimensionType": "classification",
            "classificationType": "economic",
            "attributes": {
                "kind": _attribute("kind"),
                "code": _attribute("account", parent="kind"),
                "title": _attribute("account_name", labelfor="code"),
            },
            "primaryKey": ["kind", "code"],
        },
        "counterparty": {
            "dimensionType": "entity",
            "attributes": {"title": _attribute("counterparty")},
            "primaryKey": ["title"],
        },
        "entry": {
            "dimensionType": "fact",
            "attributes": {
                "id": _attribute("entry_id"),
                "seq": _attribute("seq"),
                "voucher_sha256": _attribute("voucher_sha256"),
                "memo": _attribute("memo"),
            },
            "primaryKey": ["id"],
        },
        "reversal": {
            "dimensionType": "fact",
            "attributes": {
                "reverses": _attribute("reverses"),
                "reversed": _attribute("reversed"),
                "reversed_seq": _attribute("reversed_seq"),
                "reversed_by": _attribute("reversed_by"),
                "reversed_at": _attribute("reversed_at"),
                "reason": _attribute("reversal_reason"),
            },
            "primaryKey": ["reverses", "reversed_by"],
        },
    },
}


def _month_end(month: str) -> date:
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, calendar.monthrange(year, number)[1])
