"""The finance export as a Fiscal Data Package: its descriptor has the structure the
``fiscal-data-package`` profile asks for, every cell parses as its field's type, the CSV's
sums are the finance read model's totals, reversals are two rows that net to nothing,
``as_of`` gives the earlier record, and the same record gives the same bytes.

The package is also handed to the ``frictionless`` validator (types, keys, hash), with
the profile named as a plain tabular one: the fiscal profile's JSON Schema is fetched from
the web, which a test cannot reach; its rules are checked here instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import frictionless
import pytest

from ledger.errors import InvalidInputError
from ledger.store.base import RawRow
from projections.db import ReadDB, open_read_db
from projections.finance import FinanceProjection, Grouping, totals
from projections.finance.descriptor import DESCRIPTOR, ENTRIES, HEADER
from projections.finance.package import build_package, package_files, write_zip, yuan, zip_bytes
from projections.runner import ProjectionRunner
from tests.unit.test_finance_projection import (
    KIND_OF,
    VOUCHER,
    WHEN,
    Source,
    chart_row,
    other_row,
    project,
    reversed_row,
)

GRANT, OFFICE, RENT, RED, SALARY, DONATION = (uuid.uuid4() for _ in range(6))
MEMO = '办公用品, 含"加急"费\n第二行'  # a comma, quotes and a line break: all quoted


def entry(
    seq: int,
    oid: uuid.UUID,
    account: str,
    amount: int,
    period: str,
    *,
    reverses: uuid.UUID | None = None,
    memo: str = "",
    when: str = WHEN.isoformat(),
) -> RawRow:
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": when},
        "kind": KIND_OF[account],
        "amount_fen": amount,
        "account": account,
        "counterparty": "" if reverses else "街道办",
        "voucher_sha256": VOUCHER,
        "period": period,
        "memo": memo,
        "reverses": {"_type_": "uuid_hex", "_data_": reverses.hex} if reverses else None,
    }
    data = json.dumps(state, ensure_ascii=False).encode()
    return (seq, b"", b"", oid.bytes, 1, b"gongkai/finance/entry-recorded", data)


def ledger_rows() -> list[RawRow]:
    """Two quarters and a bit of a community's finances, with one reversal (entry 6 marks
    the original reversed, entry 7 is the red-ink entry, in the next month)."""
    return [
        chart_row(1),
        entry(2, GRANT, "grant", 1_860_000, "2026-06"),
        entry(3, OFFICE, "office", 42_000, "2026-06", memo=MEMO),
        other_row(4),
        # 20:00 UTC on 31 July is 1 August in China: the day residents would see.
        entry(5, RENT, "rent", 380_000, "2026-07", when="2026-07-31T20:00:00+00:00"),
        reversed_row(6, OFFICE, RED),
        entry(7, RED, "office", -42_000, "2026-07", reverses=OFFICE, memo="重复记账"),
        entry(8, SALARY, "salary", 1_260_005, "2026-09"),
        entry(9, DONATION, "donation", 5, "2026-10"),
    ]


@pytest.fixture
def db(isolated_store_url: str) -> Iterator[ReadDB]:
    read_db = open_read_db(isolated_store_url)
    ProjectionRunner(read_db, [FinanceProjection()], Source([])).setup()
    project(read_db, "tianhai", ledger_rows())
    yield read_db
    read_db.close()


# --- what a reader of the package checks (the API and CLI tests use it too) -------------------

NAME = re.compile(r"^[-a-z0-9._/]+$")
DIMENSION_TYPES = {"datetime", "entity", "classification", "activity", "fact", "location", "other"}


def table(files: Mapping[str, bytes], path: str = ENTRIES) -> list[dict[str, str]]:
    data = files[path]
    assert not data.startswith(b"\xef\xbb\xbf"), "UTF-8 without a byte-order mark"
    text = data.decode("utf-8")
    assert text.endswith("\r\n"), "RFC 4180: CRLF line ends"
    return list(csv.DictReader(io.StringIO(text, newline="")))


def check_package(files: Mapping[str, bytes]) -> dict[str, Any]:
    """Check the descriptor's structure and every cell against its field; return the
    descriptor."""
    d = json.loads(files[DESCRIPTOR])
    assert d["profile"] == "fiscal-data-package"
    assert NAME.fullmatch(d["name"]), d["name"]
    assert d["title"]
    assert d["fiscalSpecVersion"]
    assert re.fullmatch(r"[A-Z]{2}", d["countryCode"])
    assert d["granularity"] in {"aggregated", "transactional"}
    if "fiscalPeriod" in d:
        start = date.fromisoformat(d["fiscalPeriod"]["start"])
        assert start <= date.fromisoformat(d["fiscalPeriod"]["end"])
    fields_of = {}
    assert d["resources"], "at least one resource"
    for resource in d["resources"]:
        assert resource["profile"] == "tabular-data-resource"
        assert NAME.fullmatch(resource["name"])
        data = files[resource["path"]]
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        fields = resource["schema"]["fields"]
        names = [f["name"] for f in fields]
        header = next(csv.reader(io.StringIO(data.decode("utf-8"))))
        assert header == names, "the CSV's header is the schema's fields, in order"
        for row in table(files, resource["path"]):
            assert list(row) == names
            for f in fields:
                check_cell(f, row[f["name"]])
        fields_of[resource["name"]] = {f["name"]: f for f in fields}
        for key in resource["schema"].get("foreignKeys", []):
            assert set(key["fields"]) <= set(names)
    model = d["model"]
    assert model["measures"]
    assert model["dimensions"]
    first = d["resources"][0]["name"]
    for measure in model["measures"].values():
        field = fields_of[measure.get("resource", first)][measure["source"]]
        assert field["type"] in {"integer", "number"}, "a measure is numeric"
        assert re.fullmatch(r"[A-Z]{3}", measure["currency"])
        assert isinstance(measure.get("factor", 1), int | float)
    for name, dimension in model["dimensions"].items():
        assert dimension.get("dimensionType", "other") in DIMENSION_TYPES, name
        attributes = dimension["attributes"]
        for attribute in attributes.values():
            assert attribute["source"] in fields_of[attribute.get("resource", first)], name
            links = [attribute[k] for k in ("parent", "labelfor") if k in attribute]
            assert set(links) <= set(attributes), (name, links)
        keys = dimension["primaryKey"]
        assert set([keys] if isinstance(keys, str) else keys) <= set(attributes), name
    return dict(d)


def check_cell(field: dict[str, Any], cell: str) -> None:
    """A cell parses as its field's type and meets its constraints; empty is missing."""
    constraints = field.get("constraints", {})
    where = (field["name"], cell)
    if cell == "":
        assert not constraints.get("required"), where
        return
    kind = field["type"]
    if kind == "integer":
        assert str(int(cell)) == cell, where  # no '+', no leading zeros, no decimals
        value: Any = int(cell)
    elif kind == "number":
        value = Decimal(cell)
        assert value.is_finite(), where
        assert value.as_tuple().exponent == -2, where  # exactly two places: whole fen
    elif kind == "date":
        value = date.fromisoformat(cell)
        assert value.isoformat() == cell, where
    elif kind == "datetime":
        assert cell.endswith("Z"), where
        value = datetime.fromisoformat(cell)
    elif kind == "yearmonth":
        assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", cell), where
        value = cell
    elif kind == "boolean":
        assert cell in field["trueValues"] + field["falseValues"], where
        value = cell
    else:
        assert kind == "string", where
        value = cell
        if field.get("format") == "uuid":
            assert str(uuid.UUID(cell)) == cell, where
    if "minimum" in constraints:
        assert value >= constraints["minimum"], where
    if "pattern" in constraints:
        assert re.fullmatch(constraints["pattern"], cell), where
    if "enum" in constraints:
        assert cell in constraints["enum"], where


def sums(rows: Sequence[dict[str, str]], column: str) -> list[tuple[str, int, int, int, int]]:
    """(period, income, expense, net, balance) from the CSV alone, as a reader would."""
    by_period: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        by_period[row[column]][row["kind"]] += int(row["amount_fen"])
    result, balance = [], 0
    for period in sorted(by_period):
        income, expense = by_period[period]["income"], by_period[period]["expense"]
        balance += income - expense
        result.append((period, income, expense, income - expense, balance))
    return result


def read_model_sums(db: ReadDB, community: str, by: Grouping, as_of: int | None = None) -> Any:
    return [
        (t.period, t.income_fen, t.expense_fen, t.net_fen, t.balance_fen)
        for t in totals(db, community, by=by, as_of=as_of)
    ]


# --- the tests --------------------------------------------------------------------------------


def test_the_descriptor_has_the_fiscal_structure_and_every_cell_parses(db: ReadDB) -> None:
    package = build_package(db, "tianhai", community_name="天海社区")
    assert (package.as_of, package.entry_count) == (9, 6)
    assert package.filename == "tianhai-finance-9.zip"
    d = check_package(package.files)
    assert list(package.files) == [DESCRIPTOR, ENTRIES]
    assert d["name"] == "tianhai-finance"
    assert "天海社区" in d["title"]
    assert d["gongkai"] == {
        "community": "tianhai",
        "as_of": 9,
        "period_from": None,
        "period_to": None,
        "entries": 6,
    }
    assert d["fiscalPeriod"] == {"start": "2026-06-01", "end": "2026-10-31"}
    (resource,) = d["resources"]
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    assert tuple(fields) == HEADER
    assert fields["amount_fen"]["type"] == "integer"
    assert fields["seq"]["type"] == fields["fiscal_year"]["type"] == "integer"
    assert (fields["period"]["type"], fields["recorded_on"]["type"]) == ("yearmonth", "date")
    assert resource["schema"]["primaryKey"] == ["entry_id"]
    assert resource["schema"]["foreignKeys"] == [
        {"fields": ["reverses"], "reference": {"resource": "", "fields": ["entry_id"]}}
    ]
    (measure,) = d["model"]["measures"].values()
    assert measure == {
        "source": "amount_fen",
        "resource": "entries",
        "currency": "CNY",
        "factor": 0.01,
        "phase": "executed",
    }
    assert d["model"]["dimensions"]["account"]["attributes"]["kind"]["source"] == "kind"
    assert {"period", "date", "account", "counterparty", "entry", "reversal"} <= set(
        d["model"]["dimensions"]
    )


def test_the_check_above_fails_on_a_broken_package(db: ReadDB) -> None:
    """The checker is not vacuous: a cell of the wrong type, or a header out of step."""
    files = package_files(db, "tianhai")
    broken = {**files, ENTRIES: files[ENTRIES].replace(b",1860000,", b",1860000.0,")}
    with pytest.raises(AssertionError, match="amount_fen"):
        check_package(broken)
    d = json.loads(files[DESCRIPTOR])
    d["resources"][0]["schema"]["fields"].pop()
    with pytest.raises(AssertionError, match="header"):
        check_package({**files, DESCRIPTOR: json.dumps(d).encode()})


def test_frictionless_finds_the_tables_valid_and_notices_tampering(
    db: ReadDB, tmp_path: Path
) -> None:
    files = package_files(db, "tianhai")

    def validate(entries_csv: bytes, *, rehash: bool = False) -> set[str]:
        """The types of the errors frictionless finds; ``rehash`` makes the descriptor
        match the edited CSV, as a careful forger would."""
        (tmp_path / "data").mkdir(exist_ok=True)
        (tmp_path / ENTRIES).write_bytes(entries_csv)
        descriptor = json.loads(files[DESCRIPTOR])
        descriptor["profile"] = "tabular-data-package"  # the fiscal one is fetched: no web
        if rehash:
            resource = descriptor["resources"][0]
            resource["bytes"] = len(entries_csv)
            resource["hash"] = "sha256:" + hashlib.sha256(entries_csv).hexdigest()
        (tmp_path / DESCRIPTOR).write_text(json.dumps(descriptor), encoding="utf-8")
        report = frictionless.validate(str(tmp_path / DESCRIPTOR))
        if report.valid:
            assert report.tasks[0].stats["rows"] == 6
        return {error for (error,) in report.flatten(["type"])}

    assert validate(files[ENTRIES]) == set()
    edited = files[ENTRIES].replace(b",1860000,18600.00,", b",1860001,18600.01,")
    assert edited != files[ENTRIES]
    assert "hash-count" in validate(edited)
    assert validate(edited, rehash=True) == set(), "a consistent edit is for the chain to catch"
    fraction = files[ENTRIES].replace(b",1860000,", b",1860000.5,")
    assert validate(fraction, rehash=True) == {"type-error"}
    # Drop the original of the reversal: the reversing row's link now points nowhere.
    lines = files[ENTRIES].split(b"\r\n")
    orphaned = b"\r\n".join(line for line in lines if not line.startswith(b"3,"))
    assert validate(orphaned, rehash=True) == {"foreign-key"}


@pytest.mark.parametrize(("by", "column"), [("month", "period"), ("quarter", "quarter")])
def test_the_csv_sums_are_the_read_models_totals(db: ReadDB, by: Grouping, column: str) -> None:
    rows = table(package_files(db, "tianhai"))
    assert sums(rows, column) == read_model_sums(db, "tianhai", by)
    assert sums(rows, column), "there is something to compare"
    years = sums(rows, "fiscal_year")
    assert [(str(y), *rest) for y, *rest in years] == read_model_sums(db, "tianhai", "year")
    # The yuan column says the same amounts, to the fen.
    assert all(Decimal(r["amount_yuan"]) * 100 == int(r["amount_fen"]) for r in rows)


def test_a_reversal_is_two_rows_that_net_to_nothing(db: ReadDB) -> None:
    rows = table(package_files(db, "tianhai"))
    assert [int(r["seq"]) for r in rows] == [2, 3, 5, 7, 8, 9], "in chain order"
    by_id = {r["entry_id"]: r for r in rows}
    original, red = by_id[str(OFFICE)], by_id[str(RED)]
    assert (original["reversed"], original["reversed_seq"], original["reversed_by"]) == (
        "true",
        "6",
        str(RED),
    )
    assert original["reversal_reason"] == "重复记账"
    assert original["reversed_at"].endswith("Z")
    assert (original["amount_fen"], original["amount_yuan"], original["period"]) == (
        "42000",
        "420.00",
        "2026-06",
    )
    assert (red["reverses"], red["reversed"], red["amount_fen"], red["amount_yuan"]) == (
        str(OFFICE),
        "false",
        "-42000",
        "-420.00",
    )
    assert red["period"] == "2026-07", "red ink is booked in its own month"
    assert int(original["amount_fen"]) + int(red["amount_fen"]) == 0
    others = [r for r in rows if r["entry_id"] not in {str(OFFICE), str(RED)}]
    assert all(r["reversed"] == "false" and r["reverses"] == "" for r in others)


def test_cells_are_quoted_and_dated_as_a_reader_expects(db: ReadDB) -> None:
    rows = {r["entry_id"]: r for r in table(package_files(db, "tianhai"))}
    assert rows[str(OFFICE)]["memo"] == MEMO, "a comma, quotes and a line break survive"
    assert rows[str(OFFICE)]["account_name"] == "办公费"
    rent = rows[str(RENT)]
    assert (rent["recorded_at"], rent["recorded_on"]) == ("2026-07-31T20:00:00Z", "2026-08-01")
    assert (rent["quarter"], rent["fiscal_year"]) == ("2026Q3", "2026")
    assert rows[str(SALARY)]["amount_yuan"] == "12600.05"
    assert rows[str(DONATION)]["amount_yuan"] == "0.05"


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (-5, "-0.05"),
        (-42_000, "-420.00"),
        (99, "0.99"),
        (10**13 + 1, "100000000000.01"),  # beyond a double's exact cents
        (-(2**63 - 1), "-92233720368547758.07"),
    ],
)
def test_yuan_is_exact(fen: int, text: str) -> None:
    assert yuan(fen) == text
    assert Decimal(text) * 100 == fen


def test_the_same_record_gives_the_same_bytes(db: ReadDB) -> None:
    first = build_package(db, "tianhai")
    again = build_package(db, "tianhai")
    assert first.files == again.files
    assert zip_bytes(first.files) == zip_bytes(again.files)
    # However the read model was built: a rebuild applying one entry at a time.
    ProjectionRunner(db, [FinanceProjection()], Source(ledger_rows()), batch=1).rebuild("tianhai")
    assert build_package(db, "tianhai").files == first.files


def test_as_of_gives_the_earlier_record(db: ReadDB) -> None:
    before = build_package(db, "tianhai", as_of=5)
    assert (before.as_of, before.entry_count) == (5, 3)
    d = check_package(before.files)
    assert d["gongkai"]["as_of"] == 5
    rows = table(before.files)
    assert [int(r["seq"]) for r in rows] == [2, 3, 5]
    office = next(r for r in rows if r["entry_id"] == str(OFFICE))
    assert (office["reversed"], office["reversed_seq"], office["reversed_by"]) == ("false", "", "")
    assert sums(rows, "period") == read_model_sums(db, "tianhai", "month", as_of=5)
    # The same CSV as a ledger that stopped at entry 5.
    project(db, "stopped", ledger_rows()[:5])
    assert build_package(db, "stopped").files[ENTRIES] == before.files[ENTRIES]
    assert build_package(db, "tianhai", as_of=0).entry_count == 0


def test_as_of_beyond_the_read_model_is_refused(db: ReadDB) -> None:
    with pytest.raises(InvalidInputError, match="up to entry 9, not 10") as caught:
        build_package(db, "tianhai", as_of=10)
    assert caught.value.field == "as_of"
    with pytest.raises(InvalidInputError, match="0 or more"):
        build_package(db, "tianhai", as_of=-1)


def test_a_range_of_months(db: ReadDB) -> None:
    package = build_package(db, "tianhai", period_from="2026-07", period_to="2026-09")
    d = check_package(package.files)
    assert [r["period"] for r in table(package.files)] == ["2026-07", "2026-07", "2026-09"]
    assert d["fiscalPeriod"] == {"start": "2026-07-01", "end": "2026-09-30"}
    assert "foreignKeys" not in d["resources"][0]["schema"], "the original is cut off"
    assert (d["gongkai"]["period_from"], d["gongkai"]["period_to"]) == ("2026-07", "2026-09")
    with pytest.raises(InvalidInputError, match="YYYY-MM"):
        build_package(db, "tianhai", period_from="2026Q3")
    with pytest.raises(InvalidInputError, match="comes after"):
        build_package(db, "tianhai", period_from="2026-09", period_to="2026-07")


def test_a_community_without_entries(db: ReadDB) -> None:
    package = build_package(db, "xinhe")
    assert (package.as_of, package.entry_count) == (0, 0)
    d = check_package(package.files)
    assert "fiscalPeriod" not in d
    assert package.files[ENTRIES] == (",".join(HEADER) + "\r\n").encode()


def test_the_zip(db: ReadDB, tmp_path: Path) -> None:
    files = package_files(db, "tianhai")
    data = zip_bytes(files)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == [DESCRIPTOR, ENTRIES]
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {n: zf.read(n) for n in zf.namelist()} == files
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "out.zip"
    write_zip(files, path)
    assert path.read_bytes() == data
    with pytest.raises(FileExistsError):
        write_zip({"x": b""}, path)
    assert path.read_bytes() == data, "left as it was"
    write_zip({"x": b""}, path, overwrite=True)
    assert zipfile.ZipFile(path).namelist() == ["x"]
    with pytest.raises(OSError, match="No such file"):
        write_zip(files, tmp_path / "missing" / "out.zip")
    assert [p.name for p in path.parent.iterdir()] == ["out.zip"], "no temporary left"
