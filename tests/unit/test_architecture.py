"""The architecture, checked from the source: dependencies point one way (api ->
projections -> ledger), the ledger and the read models know nothing of HTTP, only the
PostgreSQL modules import psycopg, no two modules import each other in a circle, and
no module is longer than the fence.

The walker reads every import with ``ast``: at the top of a module, inside functions,
under ``if TYPE_CHECKING:`` and relative ones, because each of them is a dependency a
reader has to follow. Each rule is also tried against a planted fault in a copy of the
tree, so that a rule that could never fail is caught too.
"""

from __future__ import annotations

import ast
import functools
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections", "api")
#: Lower layers first: a module may import its own layer and those before it.
LAYERS = {"ledger": 0, "projections": 1, "api": 2}
#: Never imported by the project's code: it does not depend on its tests or benchmarks.
NEVER = frozenset({"tests", "bench"})
HTTP = frozenset({"fastapi", "starlette", "uvicorn", "jinja2", "jinja2_fragments"})
FORBIDDEN_THIRD_PARTY = {"ledger": HTTP, "projections": HTTP, "api": frozenset()}
POSTGRES = frozenset({"psycopg", "psycopg_pool", "eventsourcing.postgres"})
#: The packages or modules that may import them.
POSTGRES_MODULES = ("ledger.store.postgres", "projections.db.postgres")
#: What each package may import besides itself, as the README's layout section says.
#: "ledger" and "projections" stand for their top-level modules (ledger.errors, ...).
#: Every package of ledger/ and projections/ is listed; an api/ package that is not may
#: import any package of the layers.
PACKAGE_IMPORTS: Mapping[str, frozenset[str]] = {
    "ledger": frozenset(),
    "ledger.domain": frozenset({"ledger"}),
    "ledger.attachments": frozenset({"ledger"}),
    "ledger.chain": frozenset({"ledger", "ledger.store"}),
    "ledger.store": frozenset({"ledger", "ledger.chain"}),
    "ledger.seal": frozenset({"ledger", "ledger.chain", "ledger.store"}),
    "ledger.bundle": frozenset({"ledger", "ledger.chain", "ledger.seal", "ledger.store"}),
    "ledger.application": frozenset(
        {"ledger", "ledger.chain", "ledger.domain", "ledger.seal", "ledger.store"}
    ),
    "projections.db": frozenset({"ledger"}),
    "projections": frozenset(
        {"ledger", "ledger.domain", "ledger.store", "projections.db", "projections.finance"}
    ),
    "projections.finance": frozenset({"ledger", "ledger.domain", "projections", "projections.db"}),
    "api.accounts": frozenset({"ledger", "ledger.domain", "projections.db"}),
    "api.witness": frozenset({"ledger", "ledger.seal", "ledger.store"}),
}
#: The fence; modules are meant to stay well under 400 lines.
MAX_LINES = 600


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # what is imported, absolute
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(root: Path, path: Path, modules: frozenset[str] | None = None) -> list[Import]:
    """Every import in ``path``, wherever it stands, as absolute module names. ``from a
    import b`` counts as ``a.b`` when ``a.b`` is a module of the project, else as ``a``."""
    if modules is None:
        modules = frozenset(module_name(root, p) for p in project_files(root))
    here = module_name(root, path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[Import] = []
    for level, target, names, line in _import_statements(path.read_text(encoding="utf-8")):
        if level:
            base = package.split(".")
            base = base[: len(base) - (level - 1)]
            target = ".".join([*base, target] if target else base)
        if names is None:  # import a.b
            found.append(Import(target, line))
        for name in names or ():
            sub = f"{target}.{name}"
            found.append(Import(sub if sub in modules else target, line))
    return found


@functools.cache
def _import_statements(source: str) -> tuple[tuple[int, str, tuple[str, ...] | None, int], ...]:
    """(level, module, names or None for ``import``, line) of every import statement;
    cached by source, since the planted-fault tests walk the same tree many times."""
    found: list[tuple[int, str, tuple[str, ...] | None, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((0, alias.name, None, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            found.append((node.level, node.module or "", names, node.lineno))
    return tuple(found)


def project_files(root: Path) -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (root / pkg).rglob("*.py"))


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    modules = {module_name(root, p): p for p in project_files(root)}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {
            i.module for i in imports_of(root, path) if i.module in modules and i.module != name
        }
    return graph


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as a
    path that starts and ends at its least module, for the message."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(_cycle_through(graph, set(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _cycle_through(graph: Mapping[str, set[str]], component: set[str]) -> list[str]:
    """A shortest path from the component's least module back to itself."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError("a strongly connected component without a cycle")


def package_of(root: Path, module: str) -> str:
    """The package a module belongs to for :data:`PACKAGE_IMPORTS`: its second level
    (``ledger.seal`` for ``ledger.seal.note.parse``), or the layer for a top-level module."""
    parts = module.split(".")
    if len(parts) >= 2 and root.joinpath(*parts[:2]).is_dir():
        return ".".join(parts[:2])
    return parts[0]


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def violations(root: Path) -> Iterator[str]:
    """Every broken rule in the tree at ``root``, one message each."""
    modules = frozenset(module_name(root, p) for p in project_files(root))
    for path in project_files(root):
        rel = path.relative_to(root)
        here = module_name(root, path)
        layer = rel.parts[0]
        for imp in imports_of(root, path, modules):
            top = imp.module.split(".")[0]
            what = f"{rel}:{imp.line}: {layer} imports {imp.module}"
            if top in LAYERS and LAYERS[top] > LAYERS[layer]:
                yield f"{what}; dependencies point api -> projections -> ledger"
            if top in NEVER:
                yield f"{what}; the code never imports its tests or benchmarks"
            if top in FORBIDDEN_THIRD_PARTY[layer]:
                yield f"{what}; only api/ speaks HTTP or renders pages"
            if (top in POSTGRES or imp.module in POSTGRES) and not _within(here, POSTGRES_MODULES):
                yield f"{what} outside the PostgreSQL modules"
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            yield f"{rel}: {lines} lines, more than the fence of {MAX_LINES}"
    graph = import_graph(root)
    for module, imported in sorted(graph.items()):
        package = package_of(root, module)
        allowed = PACKAGE_IMPORTS.get(package)
        if allowed is None:
            if not package.startswith("api"):
                yield f"{module}: package {package} is missing from the layout table"
            continue
        for target in sorted(imported):
            other = package_of(root, target)
            if other != package and other not in allowed:
                yield f"{module} imports {target}: {package} may not import {other}"
    for circle in circles(graph):
        yield "import circle: " + " -> ".join(circle)


def test_the_tree_keeps_the_architecture() -> None:
    broken = list(violations(ROOT))
    assert not broken, "\n".join(broken)


def test_the_walker_sees_the_tree() -> None:
    """The rules above would pass vacuously if the walker found nothing."""
    graph = import_graph(ROOT)
    assert len(graph) > 100
    assert "ledger.chain.hashing" in graph["ledger.store.recorder"]
    assert "projections.db.postgres" in graph["projections.db.factory"]
    assert "ledger.bundle.format" in graph["ledger.bundle.verify"]
    postgres = {i.module for i in imports_of(ROOT, ROOT / "ledger/store/postgres/store.py")}
    assert "psycopg" in postgres
    fastapi = {i.module for i in imports_of(ROOT, ROOT / "api/service/app.py")}
    assert "fastapi" in fastapi


# --- each rule, shown to fail -------------------------------------------------------------

PLANTED = {
    "a wrong-way import": (
        "ledger/chain/hashing.py",
        "import api.service.app\n",
        "ledger/chain/hashing.py:{line}: ledger imports api.service.app",
    ),
    "a read model that imports the service": (
        "projections/board.py",
        "from api.service import settings\n",
        "projections/board.py:{line}: projections imports api.service.settings",
    ),
    "FastAPI in the ledger": (
        "ledger/seal/merkle/tree.py",
        "def later() -> None:\n    import fastapi\n",
        "ledger/seal/merkle/tree.py:{line}: ledger imports fastapi",
    ),
    "Jinja2 in the ledger": (
        "ledger/bundle/write.py",
        "from jinja2 import Template\n",
        "ledger/bundle/write.py:{line}: ledger imports jinja2",
    ),
    "Starlette in the read models": (
        "projections/finance/projection.py",
        "import starlette.responses\n",
        "projections/finance/projection.py:{line}: projections imports starlette.responses",
    ),
    "psycopg outside the PostgreSQL modules": (
        "ledger/store/sqlite/store.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import psycopg\n",
        "ledger/store/sqlite/store.py:{line}: ledger imports psycopg outside",
    ),
    "the tests imported by the code": (
        "api/cli/main.py",
        "from tests import conftest\n",
        "api/cli/main.py:{line}: api imports tests",
    ),
    "an import circle": (
        "ledger/chain/hashing.py",
        "from ledger.store import recorder\n",
        "import circle: ledger.chain.hashing -> ledger.store.recorder -> ledger.chain.hashing",
    ),
    "a relative import circle": (
        "ledger/seal/note/parse.py",
        "from . import sign\n",
        "import circle: ledger.seal.note.parse -> ledger.seal.note.sign -> ledger.seal.note.parse",
    ),
    "the seal importing the domain": (
        "ledger/seal/merkle/tree.py",
        "from ledger.domain import vocabulary\n",
        "ledger.seal.merkle.tree imports ledger.domain.vocabulary: ledger.seal may not import"
        " ledger.domain",
    ),
    "the witness importing the service": (
        "api/witness/client.py",
        "from api.service import settings\n",
        "api.witness.client imports api.service.settings: api.witness may not import api.service",
    ),
    "a package missing from the layout": (
        "ledger/newpart/__init__.py",
        "from ledger import errors\n",
        "ledger.newpart: package ledger.newpart is missing from the layout table",
    ),
    "a module past the fence": (
        "ledger/errors.py",
        "#\n" * (MAX_LINES + 1),
        "ledger/errors.py: ",
    ),
}


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.mark.parametrize("fault", sorted(PLANTED))
def test_a_planted_fault_is_caught(tree_copy: Path, fault: str) -> None:
    rel, planted, expected = PLANTED[fault]
    path = tree_copy / rel
    new = not path.exists()
    if new:
        path.parent.mkdir()
    original = "" if new else path.read_text(encoding="utf-8")
    line = len(original.splitlines()) + 1
    path.write_text(original + planted, encoding="utf-8")
    try:
        broken = list(violations(tree_copy))
    finally:
        if new:
            shutil.rmtree(path.parent)
        else:
            path.write_text(original, encoding="utf-8")
    assert any(expected.format(line=line + planted.count("\n") - 1) in b for b in broken), broken
