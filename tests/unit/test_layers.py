"""The package's layers: imports only point down, and no two modules import each other.

Every import in ``pgwire/`` is read from the source (type-checking imports
and imports inside functions included) and checked against the layer table
of ``docs/architecture.md``: a module may import modules of its own layer
and of the layers below it, never one above, and the graph of module
imports has no circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pgwire"

# Layer of each part of the package, bottom first.  Parts of one layer may
# import each other (a subpackage its own modules; conninfo and types sit
# side by side and need not); what is listed higher never comes lower.
LAYERS: dict[str, int] = {
    "pgwire._build": 0,
    "pgwire._bytes": 0,
    "pgwire._cython_shim": 0,
    "pgwire.exceptions": 0,
    "pgwire.testing": 0,
    "pgwire.protocol": 1,
    "pgwire.conninfo": 2,
    "pgwire.types": 2,
    "pgwire.flows": 3,
    "pgwire.drivers": 4,
    "pgwire.api": 5,
    "pgwire.sync": 6,
    "pgwire.dbapi": 7,
    "pgwire.replication": 7,  # public names, and a CLI on the blocking API
    "pgwire": 8,  # the package itself: the public names
    "pgwire.sqlalchemy": 9,  # SQLAlchemy's dialect, on pgwire.dbapi and pgwire.connect
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """The pgwire modules that ``path`` imports (submodules resolved)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("pgwire"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("pgwire"):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _is_module(candidate) else target)
    found.discard(name)
    return found


def _layer(module: str) -> tuple[str, int]:
    """The layer table entry that ``module`` belongs to (the longest prefix)."""
    best = max((part for part in LAYERS if module == part or module.startswith(part + ".")),
               key=len)
    return best, LAYERS[best]


GRAPH = {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_layer() -> None:
    unplaced = [module for module in GRAPH if _layer(module)[0] == "pgwire"
                and module != "pgwire"]
    assert not unplaced, f"add these to LAYERS (and docs/architecture.md): {unplaced}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module: str) -> None:
    part, rank = _layer(module)
    upward = []
    for imported in sorted(GRAPH[module]):
        other_part, other_rank = _layer(imported)
        if other_rank > rank or (other_rank == rank and other_part != part):
            upward.append(f"{imported} (layer {other_rank}, {other_part})")
    assert not upward, f"{module} (layer {rank}, {part}) imports upward or sideways: {upward}"


def test_no_import_circles() -> None:
    # Depth-first search for a back edge; report the circle it closes.
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for imported in sorted(GRAPH.get(module, ())):
            if state.get(imported) == 1:
                circles.append(path[path.index(imported):] + [imported])
            elif imported not in state:
                visit(imported)
        path.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_the_check_sees_imports() -> None:
    """The checker finds real edges (so the tests above can fail)."""
    assert "pgwire.protocol.wire" in GRAPH["pgwire.protocol.engine"]
    assert "pgwire.flows.requests" in GRAPH["pgwire.drivers.aio"]
    assert "pgwire.api._sync.connection" in GRAPH["pgwire.sync"]
    assert _layer("pgwire.api._async.runner") == ("pgwire.api", 5)
