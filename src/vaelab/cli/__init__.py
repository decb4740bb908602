"""The ``vaelab`` command line (first version: ``vaelab demo``)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["demo"]:
        from vaelab.demo import main as demo

        demo()
        return 0
    print("usage: vaelab demo", file=sys.stderr)
    return 2
