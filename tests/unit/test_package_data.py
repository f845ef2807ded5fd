"""Every file the code reads at run time beside its modules (templates, scripts,
catalogues, the bundle's README) is declared as package data, so that an installed
wheel has it: an editable install reads the source tree and would hide a missing one."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections", "api")
CODE_SUFFIXES = {".py", ".pyc"}
#: Files beside the code that nothing reads at run time.
NOT_READ = {"api/portal/babel.cfg"}  # how 'pybabel extract' finds the messages


def glob_match(path: str, pattern: str) -> bool:
    """As setuptools globs a package-data pattern: ``*`` never crosses a ``/``."""
    parts, wanted = path.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(map(fnmatch, parts, wanted))


def declared() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    return data


def test_every_data_file_is_declared() -> None:
    globs = declared()
    missing = []
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*"):
            if not path.is_file() or path.suffix in CODE_SUFFIXES or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT)
            if relative.as_posix() in NOT_READ:
                continue
            covered = False
            for package, patterns in globs.items():
                base = Path(*package.split(".")) if package != "*" else None
                for pattern in patterns:
                    if base is None:
                        covered |= fnmatch(path.name, pattern)
                    elif relative.is_relative_to(base):
                        covered |= glob_match(relative.relative_to(base).as_posix(), pattern)
            if not covered:
                missing.append(str(relative))
    assert missing == [], "add these to [tool.setuptools.package-data] in pyproject.toml"


def test_the_check_sees_an_undeclared_file() -> None:
    """The control: a console template with the console's glob taken away is missing."""
    globs = declared()
    portal = [p for p in globs["api.portal"] if not p.startswith("templates/console")]
    name = "templates/console/item.html"
    assert any(glob_match(name, p) for p in globs["api.portal"])
    assert not any(glob_match(name, p) for p in portal)
