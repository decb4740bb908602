"""``python -m vaelab.cli``: the same as ``python -m vaelab`` (for launchers such as torchrun)."""

from vaelab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
