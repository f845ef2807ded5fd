"""The finance read model of one community as a Fiscal Data Package: ``datapackage.json``
and ``data/entries.csv``, as a dict of files or a zip, the same bytes for the same record.

Every entry is a row, in chain order, reversed and reversing ones too (红字冲销): a
reversing entry is a row of its own with a negative amount and a link to the original,
so summing the amounts nets the reversal while both stay listed, as on the board. An
entry marked invalid (a period that is no month, recorded before the ledger checked it,
or the reversal of such an entry: :attr:`~projections.finance.FinanceEntryRow.invalid`)
is in no total, and the first cannot be a row, whose month, quarter and year the schema
requires; the descriptor lists them instead, under ``gongkai.invalid_entries``, with why,
so that the table's sums are the totals' sums.

Money. ``amount_fen`` is the exact amount, an integer number of fen as the ledger keeps
it; the model's measure reads it with ``factor`` 0.01 to make yuan (CNY), so the sums a
tool makes agree to the fen with the monthly, quarterly and yearly totals. ``amount_yuan``
repeats it as decimal text with two places, written from the fen by integer arithmetic,
for people who open the CSV in a spreadsheet; it is never the source of a sum here.

The descriptor follows the ``fiscal-data-package`` profile, the JSON Schema that
validators resolve for that name: a Tabular Data Package whose ``model`` maps columns to
``measures`` and ``dimensions``. Fields also carry the ``columnType`` of Fiscal Data
Package 1.0-rc.1, which reads the same meaning from the fields themselves. Nothing in
it depends on the clock: the package says which chain entry it stands at (``as_of``),
pinned to the finance projection's position when none is asked for, so that a worker
applying entries meanwhile cannot tear it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import stat
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from ledger.domain.validate import FIRST_PERIOD, LAST_PERIOD, period_problem
from ledger.errors import InvalidInputError
from ledger.files import move_into_place
from projections.db import ReadDB
from projections.finance.descriptor import DESCRIPTOR, ENTRIES, HEADER, build_descriptor
from projections.finance.projection import FinanceProjection
from projections.finance.queries import FinanceEntryRow, entries, period_label
from projections.runner import tracked_position

MEDIA_TYPE: Final = "application/zip"


# China Standard Time has had no daylight saving since 1991: a fixed offset is exact.
CHINA_TIME: Final = timezone(timedelta(hours=8), "CST")
# ZIP stores local times from 1980 on; a fixed stamp keeps the archive's bytes a function
# of its contents (the descriptor says when the record stood, by chain entry).
_ZIP_STAMP: Final = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class FinancePackage:
    """One export: the files by name, and the chain entry the record stands at."""

    community_id: str
    as_of: int
    entry_count: int
    files: dict[str, bytes]

    @property
    def filename(self) -> str:
        """A name for the zip that says whose record it is and at which entry."""
        return f"{self.community_id}-finance-{self.as_of}.zip"


def build_package(
    db: ReadDB,
    community_id: str,
    *,
    as_of: int | None = None,
    period_from: str | None = None,
    period_to: str | None = None,
    community_name: str | None = None,
) -> FinancePackage:
    """The finance record of ``community_id`` as it stood after chain entry ``as_of``
    (default: the last entry the finance projection has applied), limited to the months
    ``period_from`` to ``period_to`` (YYYY-MM, both included) when given.

    An ``as_of`` beyond what the projection has applied is refused rather than answered
    with a record that would later grow under the same label."""
    for name, bound in (("from", period_from), ("to", period_to)):
        if bound is not None and period_problem(bound) is not None:
            raise InvalidInputError(
                f"a period is YYYY-MM in ASCII digits, from {FIRST_PERIOD} to {LAST_PERIOD}; "
                f"{name} is {bound!r}",
                field=name,
            )
    if period_from and period_to and period_from > period_to:
        raise InvalidInputError(f"the period {period_from} comes after {period_to}", field="to")
    position = tracked_position(db, FinanceProjection.name, community_id)
    if as_of is None:
        as_of = position
    elif as_of < 0:
        raise InvalidInputError("as_of is a chain entry, 0 or more", field="as_of")
    elif as_of > position:
        raise InvalidInputError(
            f"the finance read model of {community_id!r} has applied the ledger up to "
            f"entry {position}, not {as_of}: ask for an earlier entry, or let the "
            "projection worker catch up ('gongkai projections run')",
            field="as_of",
        )
    recorded = sorted(
        entries(db, community_id, period_from, period_to, as_of=as_of), key=lambda r: r.seq
    )
    rows = [r for r in recorded if r.invalid is None]
    table = entries_csv(rows)
    descriptor = build_descriptor(
        community_id,
        community_name or community_id,
        as_of=as_of,
        period_from=period_from,
        period_to=period_to,
        rows=rows,
        table=table,
        invalid=[r for r in recorded if r.invalid is not None],
    )
    files = {DESCRIPTOR: _json_bytes(descriptor), ENTRIES: table}
    return FinancePackage(community_id, as_of, len(rows), files)


def package_files(
    db: ReadDB,
    community_id: str,
    *,
    as_of: int | None = None,
    period_from: str | None = None,
    period_to: str | None = None,
    community_name: str | None = None,
) -> dict[str, bytes]:
    """The package's files by name, ``datapackage.json`` first (see :func:`build_package`)."""
    package = build_package(
        db,
        community_id,
        as_of=as_of,
        period_from=period_from,
        period_to=period_to,
        community_name=community_name,
    )
    return package.files


# --- the CSV ----------------------------------------------------------------------------------


def entries_csv(rows: Sequence[FinanceEntryRow]) -> bytes:
    """RFC 4180 CSV in UTF-8 (no byte-order mark): a header row, then one row per entry
    in the order given, CRLF line ends, quotes only where a cell needs them."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(_cells(r) for r in rows)
    return out.getvalue().encode("utf-8")


def _cells(r: FinanceEntryRow) -> list[str]:
    values: dict[str, object] = {
        "seq": r.seq,
        "entry_id": r.entry_id,
        "recorded_at": _utc(r.recorded_at),
        "recorded_on": r.recorded_at.astimezone(CHINA_TIME).date(),
        "period": r.period,
        "quarter": period_label(r.period, "quarter"),
        "fiscal_year": int(period_label(r.period, "year")),
        "kind": r.kind,
        "account": r.account,
        "account_name": r.account_name,
        "amount_fen": r.amount_fen,
        "amount_yuan": yuan(r.amount_fen),
        "counterparty": r.counterparty,
        "memo": r.memo,
        "voucher_sha256": r.voucher_sha256,
        "reverses": r.reverses,
        "reversed": "true" if r.reversed else "false",
        "reversed_seq": r.reversed_seq,
        "reversed_by": r.reversed_by,
        "reversed_at": _utc(r.reversed_at) if r.reversed_at else None,
        "reversal_reason": r.reversal_reason,
    }
    return [_cell(values[name]) for name in HEADER]


def _cell(value: object) -> str:
    if value is None:
        return ""  # Table Schema's default missing value
    if isinstance(value, UUID | date):
        return str(value)
    if type(value) is int:
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"no CSV form for {value!r}")  # a float here would be a bug


def yuan(fen: int) -> str:
    """``-42000`` → ``-420.00``: exact, by integer division, never through a float."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


def _utc(when: datetime) -> str:
    """ISO 8601 in UTC with ``Z``, microseconds only when there are any."""
    when = when.astimezone(UTC)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{when.microsecond:06d}Z" if when.microsecond else f"{text}Z"


# --- the descriptor ---------------------------------------------------------------------------


def _json_bytes(value: Any) -> bytes:
    # Insertion order is the order written; no set or clock reaches here.
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# --- the zip ----------------------------------------------------------------------------------


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """The files as one zip, in the order given, with fixed times and modes: the same
    files make the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the mode below means what it says
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, data, compresslevel=9)
    return out.getvalue()


def write_zip(files: Mapping[str, bytes], path: Path, *, overwrite: bool = False) -> None:
    """Write the files as a zip at ``path``, whole or not at all: into a temporary file
    beside it, then moved into place. An existing ``path`` raises FileExistsError unless
    ``overwrite``; a place that cannot be written raises the OSError that says why."""
    data = zip_bytes(files)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists")
    # mkstemp makes the file readable by its owner only, which suits the finances
    # (所属内部人员): whoever shares the zip on widens it knowingly.
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        move_into_place(tmp, path, overwrite=overwrite)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
