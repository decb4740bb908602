"""``python -m vaelab``: the command line (see :mod:`vaelab.cli`)."""

from vaelab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
