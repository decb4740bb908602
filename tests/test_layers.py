"""The package's layers hold: every import points to the importer's layer or a lower one.

The import graph is read from the source with :mod:`ast` (nothing is
imported): every ``import`` and ``from ... import`` anywhere in a file, at
module top, inside functions and under ``if TYPE_CHECKING:``; relative
imports are resolved, and each names the deepest vaelab module or package
it reaches (``from vaelab.metrics import mig`` names ``vaelab.metrics.mig``).
``benchmarks/import_graph.py`` loads this file to count the same graph.

Three checks read it:

- no upward import between the layers of :data:`LAYERS` (a module not in the
  table fails, asking to be placed in a layer);
- no import cycle between the top-level subpackages and modules
  (``vaelab.x``), counting every import (in functions and under
  ``TYPE_CHECKING`` too): that graph is clean, and counting the imports in
  functions keeps a cycle from coming back hidden inside a function;
- no module under ``vaelab.cli.commands`` imports another one (a command
  uses the shared CLI modules, never a sibling command).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vaelab"

# The layers of vaelab, bottom first: a module imports only from its own layer
# or a lower one. docs/architecture.md shows the same table; change both together.
# The package root (vaelab/__init__.py) may import anything: it re-exports lazily.
LAYERS: dict[str, tuple[str, ...]] = {
    "core": (
        "vaelab._version",
        "vaelab.errors",
        "vaelab.registry",
        "vaelab.validation",
        "vaelab.serialization",
        "vaelab._runtime",
        "vaelab.params",
        "vaelab.model_output",
        "vaelab._lazy",
    ),
    "parts": ("vaelab.distributions", "vaelab.nn", "vaelab.likelihoods", "vaelab.priors", "vaelab.objectives"),
    "data": ("vaelab.data",),
    "models": ("vaelab.models",),
    "training": ("vaelab.training",),
    "metrics": ("vaelab.metrics",),
    "estimators": ("vaelab.estimators",),
    "tools": ("vaelab.sampling", "vaelab.latent", "vaelab.report", "vaelab.tabular"),
    "apps": ("vaelab.explore", "vaelab.runs", "vaelab.rl"),
    "interface": ("vaelab.cli", "vaelab.demo", "vaelab.__main__"),
}
ROOT = "vaelab"
COMMANDS = "vaelab.cli.commands"


@dataclass(frozen=True)
class Import:
    """One internal import: ``importer`` (file ``path``, ``line``) names the vaelab module ``imported``.

    ``where`` is ``"top"`` (runs on import, class bodies included),
    ``"function"`` (inside a function) or ``"type_checking"`` (under
    ``if TYPE_CHECKING:``, never run).
    """

    path: Path
    line: int
    importer: str
    imported: str
    where: str


def module_name(path: Path, src: Path) -> str:
    """The dotted name of the file ``path`` of the package whose folder is ``src``."""
    parts = [src.name, *path.relative_to(src).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_imports(src: Path = SRC) -> tuple[list[Import], set[str]]:
    """Every internal import of the package in folder ``src``, and the names of its modules.

    One :class:`Import` per imported vaelab name: ``from vaelab.x import a, b``
    gives one per submodule among ``a, b`` and one for ``vaelab.x`` if
    anything else is imported from it.
    """
    files = sorted(src.rglob("*.py"))
    modules = {module_name(path, src) for path in files}
    found: list[Import] = []
    for path in files:
        importer = module_name(path, src)
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, where in _walk(tree, "top"):
            for name in _targets(node, package, modules):
                if name == src.name or name.startswith(src.name + "."):
                    found.append(Import(path, node.lineno, importer, name, where))
    return found, modules


def _walk(node: ast.AST, where: str):
    """(import node, where) for every import under ``node``, ``where`` as in :class:`Import`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, where
        inner = where
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inner = "function"
        elif isinstance(child, ast.If) and where == "top" and "TYPE_CHECKING" in ast.unparse(child.test):
            yield from (pair for body in child.body for pair in _walk_one(body, "type_checking"))
            yield from (pair for body in child.orelse for pair in _walk_one(body, where))
            continue
        yield from _walk(child, inner)


def _walk_one(node: ast.AST, where: str):
    """:func:`_walk` over ``node`` itself and its children."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node, where
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield from _walk(node, "function")
    else:
        yield from _walk(node, where)


def _targets(node: ast.Import | ast.ImportFrom, package: str, modules: set[str]) -> list[str]:
    """The deepest known module or package each name of the import statement ``node`` reaches."""
    if isinstance(node, ast.Import):
        return [_deepest(alias.name, modules) for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    names = {f"{base}.{alias.name}" for alias in node.names}
    submodules = sorted(names & modules)
    return submodules + ([_deepest(base, modules)] if len(submodules) < len(names) else [])


def _deepest(name: str, modules: set[str]) -> str:
    """``name``, or its longest prefix that is a module of the package (a missing module keeps its name)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return name


def layer_of(module: str) -> str | None:
    """The name of the layer of ``module`` (``ROOT`` for the package root), None where the table lacks it."""
    if module == ROOT:
        return ROOT
    for layer, members in LAYERS.items():
        if any(module == m or module.startswith(m + ".") for m in members):
            return layer
    return None


def upward_imports(imports: list[Import]) -> list[str]:
    """Each import that points to a higher layer, as ``file:line importer (layer) -> imported (layer)``."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    found = []
    for imp in imports:
        low, high = layer_of(imp.importer), layer_of(imp.imported)
        if low == ROOT or low is None or high is None:
            continue
        if high == ROOT or rank[high] > rank[low]:
            found.append(f"{imp.path}:{imp.line} {imp.importer} ({low}) -> {imp.imported} ({high})")
    return found


def top_package(module: str) -> str:
    """``vaelab.x`` for any module ``vaelab.x.y...`` (the root stays ``vaelab``)."""
    return ".".join(module.split(".")[:2])


def package_cycles(imports: list[Import]) -> list[list[str]]:
    """The import cycles between top-level subpackages and modules: each strongly connected component of two or more.

    Counts every import, wherever it sits. Tarjan's algorithm, iterative.
    """
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        a, b = top_package(imp.importer), top_package(imp.imported)
        if a != b:
            graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def command_imports(imports: list[Import]) -> list[str]:
    """Each import of one module under ``vaelab.cli.commands`` by another, as ``file:line importer -> imported``."""
    inside = [i for i in imports if i.importer.startswith(COMMANDS + ".") and i.imported.startswith(COMMANDS + ".")]
    return [f"{i.path}:{i.line} {i.importer} -> {i.imported}" for i in inside if i.importer != i.imported]


@pytest.fixture(scope="module")
def graph() -> tuple[list[Import], set[str]]:
    return read_imports(SRC)


def test_the_parser_reads_every_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "vaelab"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\nfrom .leaf import thing\n")
    (pkg / "sub" / "leaf.py").write_text(
        "from typing import TYPE_CHECKING\nimport os\nfrom ..errors import E\n"
        "if TYPE_CHECKING:\n    from vaelab.sub import other\n"
        "class A:\n    import vaelab.errors\n"
        "def f():\n    from vaelab.sub import leaf, missing\n"
    )
    imports, modules = read_imports(pkg)
    assert modules == {"vaelab", "vaelab.errors", "vaelab.sub", "vaelab.sub.leaf"}
    got = {(i.importer, i.line, i.imported, i.where) for i in imports}
    assert got == {
        ("vaelab.sub", 1, "vaelab.sub.leaf", "top"),
        ("vaelab.sub", 2, "vaelab.sub.leaf", "top"),
        ("vaelab.sub.leaf", 3, "vaelab.errors", "top"),
        ("vaelab.sub.leaf", 5, "vaelab.sub", "type_checking"),
        ("vaelab.sub.leaf", 7, "vaelab.errors", "top"),
        ("vaelab.sub.leaf", 9, "vaelab.sub.leaf", "function"),
        ("vaelab.sub.leaf", 9, "vaelab.sub", "function"),
    }


def test_the_checks_find_what_they_look_for() -> None:
    path = Path("x.py")
    imports = [
        Import(path, 1, "vaelab.metrics.evaluate", "vaelab.estimators", "function"),
        Import(path, 2, "vaelab.estimators.vae", "vaelab.metrics", "top"),
        Import(path, 3, "vaelab.training.callbacks", "vaelab.training.trainer", "top"),
        Import(path, 4, "vaelab.cli.commands.a", "vaelab.cli.commands.b", "function"),
    ]
    assert upward_imports(imports) == ["x.py:1 vaelab.metrics.evaluate (metrics) -> vaelab.estimators (estimators)"]
    assert package_cycles(imports[1:]) == []
    assert package_cycles(imports) == [["vaelab.estimators", "vaelab.metrics"]]
    assert command_imports(imports) == ["x.py:4 vaelab.cli.commands.a -> vaelab.cli.commands.b"]


def test_every_module_has_a_layer(graph: tuple[list[Import], set[str]]) -> None:
    _, modules = graph
    missing = sorted(m for m in modules if layer_of(m) is None)
    assert not missing, (
        f"modules in no layer: {missing}; add each (or its package) to a layer of LAYERS in tests/test_layers.py "
        "and to the same table in docs/architecture.md"
    )


def test_no_module_imports_from_a_higher_layer(graph: tuple[list[Import], set[str]]) -> None:
    found = upward_imports(graph[0])
    assert not found, f"{len(found)} upward imports (importer's layer -> imported's layer):\n" + "\n".join(found)


def test_no_import_cycle_between_top_level_packages(graph: tuple[list[Import], set[str]]) -> None:
    cycles = package_cycles(graph[0])
    assert not cycles, f"import cycles between packages (each a group that imports itself round): {cycles}"


def test_no_cli_command_imports_another(graph: tuple[list[Import], set[str]]) -> None:
    found = command_imports(graph[0])
    assert not found, f"{len(found)} imports between CLI command modules:\n" + "\n".join(found)
