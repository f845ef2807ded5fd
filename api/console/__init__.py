"""The staff console (工作台): the pages where the clerk, the supervision committee, the
party branch and the street's auditors do their work in the browser.

- :mod:`.routes`: the pages and the forms' posts;
- :mod:`.seals`: the review seal's key page, the chair's register of keys, the script;
- :mod:`.work_ledger`: the work ledger (工作台账), every act by date, with filters;
- :mod:`.objections`: residents' objections, verified or dismissed, and answered by a correction;
- :mod:`.opinions`: residents' opinions, left from the portal and answered by the clerk;
- :mod:`.inquiries`: inquiries (质询) filed on the portal, answered and closed in the console;
- :mod:`.reports`: reports (举报) filed on the portal, handled by the street's auditors;
- :mod:`.calendar`: the disclosure calendar, with what each obligation owes and is late;
- :mod:`.ten_preventions`: the 十个防止 report, for a community and for the street;
- :mod:`.finance`: the clerk's entries with their vouchers, and red-ink reversals;
- :mod:`.finance_periods`: periods closed, signed off and their statements drafted;
- :mod:`.gates`: the review gates in force, and the chair's choice of them;
- :mod:`.bundles`: signed archive bundles of any period, downloaded;
- :mod:`.evaluations`: democratic evaluation, its codes printed once, its results;
- :mod:`.forms`: form posts read as they stream in, their files put in the store.
"""

from fastapi import APIRouter

from api.console import (
    bundles,
    calendar,
    evaluations,
    finance,
    finance_periods,
    gates,
    inquiries,
    objections,
    opinions,
    reports,
    routes,
    seals,
    ten_preventions,
    work_ledger,
)

router = APIRouter()
router.include_router(seals.router)  # first: /console/seal.js before /console/{...}
router.include_router(reports.router)  # and /console/open-report.js
router.include_router(bundles.router)
router.include_router(calendar.router)
router.include_router(ten_preventions.router)
router.include_router(finance.router)
router.include_router(finance_periods.router)
router.include_router(gates.router)
router.include_router(objections.router)
router.include_router(opinions.router)
router.include_router(opinions.portal_router)
router.include_router(inquiries.router)
router.include_router(inquiries.portal_router)
router.include_router(reports.portal_router)
router.include_router(evaluations.router)
router.include_router(evaluations.portal_router)
router.include_router(work_ledger.router)
router.include_router(routes.router)

__all__ = ["router"]
