"""Dependencies point one way: api -> projections -> ledger. The ledger never imports
FastAPI, and only the PostgreSQL store modules import psycopg."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["ledger", "projections", "api"]
FORBIDDEN = {
    "ledger": {"api", "projections", "fastapi", "starlette", "uvicorn"},
    "projections": {"api", "fastapi", "starlette", "uvicorn"},
    "api": set(),
}
PSYCOPG_ALLOWED = {
    Path("ledger/store/postgres.py"),
    Path("ledger/store/postgres_seal.py"),
    Path("projections/db/postgres.py"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files() -> list[Path]:
    return sorted(p.relative_to(ROOT) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", python_files(), ids=str)
def test_imports_point_inward(path: Path) -> None:
    package = path.parts[0]
    tops = {name.split(".")[0] for name in imported_modules(ROOT / path)}
    assert not tops & FORBIDDEN[package], f"{path} imports {sorted(tops & FORBIDDEN[package])}"
    if path not in PSYCOPG_ALLOWED:
        assert "psycopg" not in tops, f"{path} imports psycopg"
        assert "psycopg_pool" not in tops


def test_the_walker_sees_imports() -> None:
    """The check above would pass vacuously if the walker found nothing."""
    assert "psycopg" in imported_modules(ROOT / "ledger/store/postgres.py")
    assert "fastapi" in imported_modules(ROOT / "api/service/app.py")
