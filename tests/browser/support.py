"""What browser tests share: where Chromium is, where their artifacts go, a full-page
screenshot, and axe-core's accessibility check of the page as the browser has it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Final

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Page

#: Debian's Chromium (``.ci/ensure-chromium`` installs it); Playwright downloads none.
CHROMIUM: Final = Path("/usr/bin/chromium")
PROJECT: Final = Path(__file__).resolve().parents[2]
#: What axe finds that fails a test; "minor" and "moderate" ones are only recorded.
FAILING_IMPACTS: Final = frozenset({"serious", "critical"})


def artifacts() -> Path:
    """``$GONGKAI_ARTIFACTS``, else ``build/browser-artifacts/`` in the project; made."""
    configured = os.environ.get("GONGKAI_ARTIFACTS")
    directory = Path(configured) if configured else PROJECT / "build" / "browser-artifacts"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _file_name(name: str, suffix: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "page"
    return artifacts() / f"{safe}{suffix}"


def screenshot(page: Page, name: str) -> Path:
    """The whole page, as a PNG named ``name`` in the artifacts directory; its path."""
    path = _file_name(name, ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def _target(node: dict[str, Any]) -> str:
    # axe gives a selector per frame, outermost first; a list instead of a selector steps
    # into shadow roots.
    steps = node["target"]
    return " >> ".join(t if isinstance(t, str) else " >>> ".join(t) for t in steps)


def serious_violations(result: dict[str, Any]) -> list[str]:
    """One line per serious or critical violation in an axe result: rule, impact, help
    and the selectors of the elements at fault."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} [{v.get('helpUrl', '')}] "
        f"at {', '.join(_target(node) for node in v['nodes'])}"
        for v in result["violations"]
        if v.get("impact") in FAILING_IMPACTS
    ]


def assert_accessible(page: Page, name: str) -> dict[str, Any]:
    """Run axe-core on the page as it is now, save its whole result as ``name.axe.json``
    in the artifacts directory, and fail listing every serious or critical violation.
    The result, for tests that look further."""
    result: dict[str, Any] = Axe().run(page).response
    _file_name(name, ".axe.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    found = serious_violations(result)
    assert not found, f"axe-core on {page.url} ({name}):\n" + "\n".join(found)
    return result
