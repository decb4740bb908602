"""Lazy exports (PEP 562): a package's names load their modules on first use.

``vaelab``, ``vaelab.estimators``, ``vaelab.tabular``, ``vaelab.report`` and
``vaelab.runs`` export their classes this way, so that importing a package
(for the command line's ``--help``, or for a light module inside it such as
the parameter declarations) loads nothing heavy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` whose name ``N`` lives in module ``where[N]``.

    ``where`` maps each exported name to its module, absolute (``"vaelab.tabular.estimator"``) or relative
    to the package (``"estimator"``); a loaded name is kept in the package's namespace.
    """
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = where[name] if where[name].startswith("vaelab") else f"{package}.{where[name]}"
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
