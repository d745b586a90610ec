"""The package's layers (``sipfsm/__init__.py``): every import, including one inside a
function or under ``TYPE_CHECKING``, goes to the same layer or a lower one; the packages of
layer 6 (sim, check, render, net) never import each other; and no module imports itself back
through others (no cycle). Read from the source with `ast`, so that nothing is hidden by
an import that has not run yet."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sipfsm"

#: Layer of each top-level part of the package (``sipfsm`` itself is the glue: exempt).
LAYERS: dict[str, int] = {
    "values": 1,
    "decl": 2,
    "machines": 3,
    "engine": 4,
    "elements": 5,
    "sim": 6,
    "check": 6,
    "render": 6,
    "net": 6,
    "cli": 7,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(name: str) -> str | None:
    """The module of the package that ``name`` (a module, or a name in one) refers to."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in MODULES:
            return ".".join(parts)
        parts.pop()
    return None


def imports_of(module: str) -> set[str]:
    """Every module of the package that ``module`` imports, anywhere in its text."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{a.name}" for a in node.names] + [prefix]
        for name in names:
            target = resolve(name) if name.startswith("sipfsm") else None
            if target is not None and target != module:
                found.add(target)
    # a `from sipfsm.x import y` names both sipfsm.x and, when y is no module, nothing more;
    # a package's name is implied by its module's, so only the deepest counts
    return {t for t in found if not any(o != t and o.startswith(t + ".") for o in found)}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 else None


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for module in MODULES:
        g.add_node(module)
        for target in imports_of(module):
            if target != "sipfsm":
                g.add_edge(module, target)
    return g


def test_every_part_of_the_package_has_a_layer() -> None:
    for module in MODULES:
        if module != "sipfsm":
            assert module.split(".")[1] in LAYERS, f"{module}: add its package to LAYERS"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_layer_or_lower(module: str) -> None:
    here = layer_of(module)
    if here is None:
        return
    for target in sorted(imports_of(module)):
        there = layer_of(target)
        if there is None:
            continue
        assert there <= here, f"{module} (layer {here}) imports {target} (layer {there})"
        if there == here == 6:
            assert target.split(".")[1] == module.split(".")[1], (
                f"{module} imports {target}: sim, check and render stand side by side"
            )


def test_no_module_imports_itself_back() -> None:
    cycles = sorted(sorted(c) for c in nx.simple_cycles(graph()))
    assert cycles == []


def test_the_layer_test_sees_imports_inside_functions() -> None:
    # sipfsm.engine.native imports the runtime only inside compiled()
    assert "sipfsm.engine.runtime" in imports_of("sipfsm.engine.native")
