"""The import graph of a vaelab source tree, counted: how well its layers hold.

    python benchmarks/import_graph.py                 # src/vaelab of this checkout
    python benchmarks/import_graph.py /tmp/old/src/vaelab

Prints the internal imports (statements naming a vaelab module) in all and
inside functions or under ``TYPE_CHECKING``, the upward imports between the
layers of ``tests/test_layers.py``, the import cycles between the top-level
packages, the imports between CLI command modules, and the largest file of
the tree in lines. The graph is read by ``tests/test_layers.py`` (loaded
from its path), so the figures are the ones the tests check; the tree may be
an older checkout (it is parsed, never imported).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_layers_test():
    """``tests/test_layers.py`` as a module: its parser, layer table and checks."""
    spec = importlib.util.spec_from_file_location("vaelab_test_layers", ROOT / "tests" / "test_layers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", type=Path, default=ROOT / "src" / "vaelab", help="the vaelab package folder")
    src = parser.parse_args().src.resolve()
    layers = load_layers_test()
    imports, modules = layers.read_imports(src)
    statements = {(i.path, i.line): i.where for i in imports}
    nested = {where: sum(1 for w in statements.values() if w == where) for where in ("function", "type_checking")}
    upward = layers.upward_imports(imports)
    unplaced = sorted(m for m in modules if layers.layer_of(m) is None)
    commands = layers.command_imports(imports)
    top_only = [i for i in imports if i.where == "top"]
    sizes = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in src.rglob("*.py")}
    largest = max(sizes, key=sizes.get)
    rows = [
        ("modules", len(modules)),
        ("internal imports (statements)", len(statements)),
        ("  inside functions", nested["function"]),
        ("  under TYPE_CHECKING", nested["type_checking"]),
        ("upward imports between layers", len(upward)),
        ("modules in no layer", len(unplaced)),
        ("import cycles between packages (all imports)", len(layers.package_cycles(imports))),
        ("import cycles between packages (module-top imports)", len(layers.package_cycles(top_only))),
        ("imports between CLI command modules", len(commands)),
        (f"largest file (lines): {largest.relative_to(src.parent)}", sizes[largest]),
    ]
    print(f"# import graph of {src}\n\n| figure | value |\n| --- | ---: |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    for title, lines in (
        ("upward imports", upward),
        ("cycles (all imports)", [" <-> ".join(c) for c in layers.package_cycles(imports)]),
        ("modules in no layer", unplaced),
        ("imports between CLI command modules", commands),
    ):
        if lines:
            print(f"\n{title}:\n" + "\n".join(f"  {line}" for line in lines))


if __name__ == "__main__":
    main()
