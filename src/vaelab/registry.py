"""Name -> class registries filled by decorators.

Every pluggable part of vaelab (estimators, likelihoods, priors, networks) is
found by the name stored in its ``config.json``; nothing dispatches on names
with ``if``/``elif``. A new part registers itself and is then available to the
estimators, ``vaelab.load`` and the command line::

    >>> from vaelab.registry import Registry
    >>> SHAPES = Registry("shape")
    >>> @SHAPES.register("square")
    ... class Square: ...
    >>> SHAPES.get("square").__name__
    'Square'

A part that lives in a subpackage with heavier imports (the tabular
estimator, for one) is declared by name with :meth:`Registry.provide`: its
module is imported on first ``get``, so ``vaelab.load`` finds it without the
core importing the subpackage.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from vaelab.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from names to registered objects of one kind.

    Parameters
    ----------
    kind : str
        What the registry holds, used in error messages ("likelihood").
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._providers: dict[str, str] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Return a decorator that registers its argument under ``name``."""

        def decorator(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"a {self.kind} named {name!r} is already registered")
            self._entries[name] = obj
            return obj

        return decorator

    def provide(self, name: str, module: str) -> None:
        """Declare that importing ``module`` registers ``name``: :meth:`get` imports it when first asked."""
        self._providers[name] = module

    def get(self, name: str) -> T:
        """Return the object registered under ``name``.

        Raises
        ------
        InputError
            If no such name is registered; the message lists the valid names
            and the nearest match.
        """
        if not isinstance(name, str):
            raise InputError(f"{self.kind} must be given by name (a str), got {type(name).__name__}")
        if name not in self._entries and name in self._providers:
            importlib.import_module(self._providers[name])  # registers it
        try:
            return self._entries[name]
        except KeyError:
            raise InputError(unknown_name_message(self.kind, name, self.names())) from None

    def from_spec(self, spec: "str | dict[str, Any]") -> "tuple[T, dict[str, Any]]":
        """The entry and its options of a spec: a name, or a dict with a ``"name"`` key and options.

        Raises
        ------
        InputError
            If ``spec`` is neither, or names no registered entry.
        """
        if isinstance(spec, str):
            spec = {"name": spec}
        if not isinstance(spec, dict) or "name" not in spec:
            names = ", ".join(self.names())
            raise InputError(f"{self.kind} must be a name ({names}) or a dict with a 'name', got {spec!r}")
        return self.get(spec["name"]), {k: v for k, v in spec.items() if k != "name"}

    def names(self) -> list[str]:
        """Registered names and those a module provides on first use, sorted."""
        return sorted({*self._entries, *self._providers})

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._providers

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def unknown_name_message(kind: str, name: str, valid: list[str]) -> str:
    """Say that ``name`` is not a known ``kind``, with the nearest valid name."""
    message = f"unknown {kind} {name!r}; valid names are: {', '.join(valid)}"
    close = difflib.get_close_matches(name, valid, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return message
