"""The portal's finance page: each month's income and expense and the balance at its end,
as charts with their tables, and the latest month by account. Finance is for the
community's members and the street's auditors (所属内部人员), as on the JSON routes:
:func:`~api.routes.reads.may_read_finances` decides, and the route's errors are pages
(:class:`~api.portal.routes.PortalRoute`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.portal import charts, i18n
from api.portal.routes import DateQuery, LangQuery, Page, PortalRoute, community_named, entry_at
from api.routes.reads import may_read_finances
from api.service.deps import LedgerDep
from api.service.read_models import ReadDBDep, ReaderDep
from projections import finance
from projections.runner import tracked_position

router = APIRouter(route_class=PortalRoute, include_in_schema=False, tags=["portal"])


@router.get("/c/{community_id}/finance")
def finance_page(
    request: Request,
    community_id: str,
    ledger: LedgerDep,
    db: ReadDBDep,
    reader: ReaderDep,
    lang: LangQuery = None,
    date: DateQuery = None,
) -> HTMLResponse:
    """The community's monthly finances, now or at the end of ``date``: the last
    :data:`~api.portal.charts.MAX_MONTHS` months with entries."""
    page = Page.of(request, lang)
    community = community_named(ledger, community_id)
    # Who may read is asked before anything is read: an outsider learns nothing, not even
    # whether the date was a good one.
    may_read_finances(reader, community_id)
    as_of = entry_at(db, community_id, date)
    projected = tracked_position(db, finance.FinanceProjection.name, community_id)
    shown, hidden = charts.recent(finance.totals(db, community_id, "month", as_of))
    # Entries whose period is no month are in no chart (a chart would need a date for
    # them, and year 0 has none); the page lists them, marked, above the charts.
    invalid = finance.invalid_entries(db, community_id, as_of)
    locale = i18n.LANGUAGES[page.lang][1]
    return page.render(
        "finance.html",
        community=community,
        date=date,
        as_of=projected if as_of is None else as_of,
        months=shown,
        hidden=hidden,
        invalid=invalid,
        latest=shown[-1] if shown else None,
        flow=charts.bar_chart(shown, ("income", "expense"), locale),
        balance=charts.bar_chart(shown, ("balance",), locale),
        summary=charts.summary(shown),
        money=lambda fen: charts.money(fen, locale),
        month_text=lambda period: charts.month_text(period, locale),
    )
