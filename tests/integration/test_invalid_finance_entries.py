"""Finance entries the ledger can no longer take, already in the store, on both backends:
no finance page or route answers 500 on them, and each shows them marked invalid.

Two ways in, as they happened: ``0000-01`` and ``２０２６-03`` as the ledger recorded
them before it checked periods strictly (through the domain, past today's checks, so
the chain is sound), and ``٢٠٢٦-03`` written into the raw events table behind the
ledger's back. The ``0000-01`` entry is then reversed with red ink in 2026-08: the
reversal undoes what no total counted, so it must not count either.

What was chosen: such an entry belongs to no month, so every total leaves it out
(with its reversal), and every view that shows totals lists it, marked, with why: the
page above its charts, the totals route under ``invalid_entries``, the package in its
descriptor. The entries route lists every entry, with ``invalid`` set on these."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.cli.main import main
from api.portal import finance_page
from api.service.app import create_app
from api.service.settings import Settings
from ledger.application import CommunityLedger, Ledger
from ledger.domain.finance import FinanceEntry
from ledger.store import open_store
from ledger.store.base import Community
from projections.finance.descriptor import DESCRIPTOR
from tests.api.demo_service import catch_up, reader_tokens
from tests.conftest import fresh_pg_database
from tests.contract.test_ledger_contract import CLERK, VOUCHER, key
from tests.rawdb import raw_table
from tests.unit.test_finance_package import check_package, sums, table

COMMUNITY = "hexi"
MEMBER = ("clerk", COMMUNITY)
AUDITOR = ("disciplinary_auditor", None)
# What the raw rewrite turns the 2026-05 entry's period into (Arabic-Indic digits).
ARABIC = "\u0662\u0660\u0662\u0666-03"
FULLWIDTH = "\uff12\uff10\uff12\uff16-03"


@dataclass
class Served:
    client: TestClient
    url: str
    tokens: dict[tuple[str, str | None], str]
    seqs: dict[str, int]  # the period each entry was recorded with -> its seq
    reversal_seq: int

    def get(self, path: str, who: tuple[str, str | None] = MEMBER) -> str:
        response = self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[who]}"})
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response.text


def _record(book: CommunityLedger, kind: str, fen: int, account: str, period: str) -> int:
    return book.record_entry(
        CLERK,
        key(),
        kind=kind,
        amount_fen=fen,
        account=account,
        counterparty="街道办事处",
        voucher_sha256=VOUCHER,
        period=period,
    ).first_seq


def _as_once_recorded(book: CommunityLedger, period: str, fen: int) -> tuple[str, int]:
    """An expense saved as the ledger saved it before it checked periods strictly: the
    domain's event, through the chained store, without today's input checks."""
    entry = FinanceEntry.record(
        CLERK,
        kind="expense",
        amount_fen=fen,
        account="office",
        counterparty="文具店",
        voucher_sha256=VOUCHER,
        period=period,
        memo="",
        reverses=None,
    )
    recordings = book.save(entry)
    return str(entry.id), recordings[0].notification.id


def _rewrite_period(backend: str, url: str, seq: int, old: str, new: str) -> None:
    """Behind the ledger's back: the stored state of entry ``seq`` gets period ``new``."""
    raw = raw_table(backend, url, COMMUNITY)
    rows = raw.read()
    row = next(r for r in rows if r["seq"] == seq)
    state = json.loads(bytes(row["state"]))
    assert state["period"] == old
    state["period"] = new
    row["state"] = json.dumps(state, separators=(",", ":")).encode()
    raw.replace_all(rows)


def _store(backend: str, tmp: Path) -> contextlib.AbstractContextManager[str]:
    if backend == "sqlite":
        return contextlib.nullcontext(f"sqlite:///{tmp}/gongkai.sqlite3")
    return fresh_pg_database()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    backend: str = request.param
    with _store(backend, tmp_path_factory.mktemp(f"invalid-{backend}")) as url:
        assert main(["db", "init", "--db", url]) == 0
        seqs: dict[str, int] = {}
        with open_store(url) as store, Ledger(store) as ledger:
            book = ledger.add_community(Community(COMMUNITY, "河西社区"))
            seqs["2026-07 income"] = _record(book, "income", 500_000, "grant", "2026-07")
            seqs["2026-07"] = _record(book, "expense", 20_000, "office", "2026-07")
            seqs["2026-05"] = _record(book, "expense", 7_700, "office", "2026-05")
            zero_id, seqs["0000-01"] = _as_once_recorded(book, "0000-01", 12_300)
            _, seqs[FULLWIDTH] = _as_once_recorded(book, FULLWIDTH, 4_500)
            reversal = book.reverse_entry(
                CLERK, key(), zero_id, period="2026-08", voucher_sha256=VOUCHER, reason="月份错误"
            )
        _rewrite_period(backend, url, seqs["2026-05"], "2026-05", ARABIC)
        catch_up(url)
        tokens = reader_tokens(url, [MEMBER, AUDITOR])
        app = create_app(Settings(db_url=url, checkpoint_interval=0))
        if "/c/{community_id}/finance" not in {
            r.path for r in app.routes if isinstance(r, APIRoute)
        }:
            app.include_router(finance_page.router)
        with TestClient(app) as client:
            yield Served(client, url, tokens, seqs, reversal.last_seq)


def invalid_seqs(served: Served) -> set[int]:
    s = served.seqs
    return {s["0000-01"], s[FULLWIDTH], s["2026-05"], served.reversal_seq}


@pytest.mark.parametrize(
    "path",
    [
        "/c/hexi/finance",
        "/c/hexi/finance?lang=en",
        "/v1/communities/hexi/finance/entries",
        "/v1/communities/hexi/finance/entries?from=2026-01&to=2026-12",
        "/v1/communities/hexi/finance/totals",
        "/v1/communities/hexi/finance/totals?by=quarter",
        "/v1/communities/hexi/finance/totals?by=year",
        "/v1/communities/hexi/finance/package",
        "/v1/communities/hexi/finance/package?from=2026-01&to=2026-12",
        "/c/hexi/sheets?section=finance",
    ],
)
@pytest.mark.parametrize("who", [MEMBER, AUDITOR], ids=["member", "auditor"])
def test_no_finance_view_fails_on_them(
    served: Served, path: str, who: tuple[str, str | None]
) -> None:
    served.get(path, who)


def test_the_page_lists_them_marked_above_charts_that_leave_them_out(served: Served) -> None:
    page = served.get("/c/hexi/finance")
    listed = page[page.index('<table id="invalid-table">') : page.index("</table>")]
    for seq in invalid_seqs(served):
        assert f'data-invalid-seq="{seq}"' in listed
    for period in ("0000-01", FULLWIDTH, ARABIC):
        assert f"<code>{period}</code>" in listed
    assert "冲销无效记录" in listed
    assert "无效，已冲销" in listed
    assert "有 4 条记录未计入下面的图表和合计" in page
    # The charts and tables show the one good month, and its sums only.
    assert 'data-period="2026-07" data-series="expense" data-fen="20000"' in page
    assert 'data-period="2026-08"' not in page, "the reversal of an uncounted entry counted"
    assert "4 entries are not counted" in served.get("/c/hexi/finance?lang=en")


def test_the_entries_route_marks_them(served: Served) -> None:
    got = json.loads(served.get("/v1/communities/hexi/finance/entries"))["entries"]
    marked = {e["seq"]: e["invalid"] for e in got if e["invalid"]}
    assert set(marked) == invalid_seqs(served)
    assert "ASCII digits" in marked[served.seqs["0000-01"]]
    assert "whose period is no month" in marked[served.reversal_seq]
    in_2026 = json.loads(
        served.get("/v1/communities/hexi/finance/entries?from=2026-01&to=2026-12")
    )
    periods = {e["period"] for e in in_2026["entries"]}
    assert periods == {"2026-07", "2026-08"}, "an invalid period is in no range of months"


def test_the_totals_leave_them_out_and_say_so(served: Served) -> None:
    for by in ("month", "quarter", "year"):
        got = json.loads(served.get(f"/v1/communities/hexi/finance/totals?by={by}"))
        [only] = got["periods"]
        assert (only["income_fen"], only["expense_fen"], only["balance_fen"]) == (
            500_000,
            20_000,
            480_000,
        )
        assert {e["seq"] for e in got["invalid_entries"]} == invalid_seqs(served)


def test_the_package_lists_them_in_its_descriptor_and_its_table_stays_valid(
    served: Served,
) -> None:
    response = served.client.get(
        "/v1/communities/hexi/finance/package",
        headers={"Authorization": f"Bearer {served.tokens[MEMBER]}"},
    )
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    descriptor = check_package(files)
    assert {e["seq"] for e in descriptor["gongkai"]["invalid_entries"]} == invalid_seqs(served)
    rows = table(files)
    assert {int(r["seq"]) for r in rows} == {served.seqs["2026-07 income"], served.seqs["2026-07"]}
    # The table's own sums are the totals' sums.
    assert sums(rows, "period") == [("2026-07", 500_000, 20_000, 480_000, 480_000)]
    assert "foreignKeys" in descriptor["resources"][0]["schema"]
    assert json.loads(files[DESCRIPTOR])["gongkai"]["entries"] == 2


def test_the_cli_export_writes_the_package(served: Served, tmp_path: Path) -> None:
    out = tmp_path / "hexi.zip"
    assert (
        main(["finance", "export", "--db", served.url, "--community", COMMUNITY, "-o", str(out)])
        == 0
    )
    with zipfile.ZipFile(out) as zf:
        descriptor = json.loads(zf.read(DESCRIPTOR))
    assert len(descriptor["gongkai"]["invalid_entries"]) == 4
