"""The public portal (居务公开栏 on the web): server-rendered pages over the read models,
with the same scopes and masking as the JSON API."""

from fastapi import APIRouter

from api.portal import finance_page, meetings_page, routes, sheets_page, verify_page

router = APIRouter()
router.include_router(routes.router)
router.include_router(verify_page.router)
router.include_router(sheets_page.router)
router.include_router(finance_page.router)
router.include_router(meetings_page.router)

__all__ = ["router"]
