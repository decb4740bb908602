"""A griffe extension: document a generated ``__init__`` as the method of its class.

``vaelab.params.declared`` gives each estimator an ``__init__`` built from its
parameter declaration. The function is defined in ``vaelab.params``, so its
``__module__`` says so, and griffe's inspector takes it for an object imported
from there: an alias to ``vaelab.params.<Class>.__init__``, a path that does
not exist, which fails the build. Before griffe inspects a class, this
extension gives such an ``__init__`` the class's own module, so it is read as
the class's method, with its runtime signature. It does nothing once the
decorator sets ``__module__`` itself.
"""

from __future__ import annotations

from typing import Any

import griffe


class GeneratedInit(griffe.Extension):
    """Re-home a class's generated ``__init__`` in the class's module before inspection."""

    def on_class_node(self, *, node: Any, agent: Any, **kwargs: Any) -> None:
        cls = getattr(node, "obj", None)  # an ObjectNode when inspecting; an ast node when visiting source
        init = vars(cls).get("__init__") if isinstance(cls, type) else None
        if init is None or not hasattr(init, "__qualname__"):
            return
        if init.__qualname__ == f"{cls.__name__}.__init__" and init.__module__ != cls.__module__:
            init.__module__ = cls.__module__
