"""The staff console (工作台): the pages where the clerk, the supervision committee, the
party branch and the street's auditors do their work in the browser.

- :mod:`.routes`: the pages and the forms' posts;
- :mod:`.forms`: form posts read as they stream in, their files put in the store.
"""

from api.console.routes import router

__all__ = ["router"]
