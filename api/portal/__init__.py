"""The public portal (居务公开栏 on the web): server-rendered pages over the read models,
with the same scopes and masking as the JSON API."""

from api.portal.routes import router

__all__ = ["router"]
