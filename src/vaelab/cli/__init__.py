"""The ``vaelab`` command line.

=================  ==============================================================
module             holds
=================  ==============================================================
``app``            the Typer application and its subcommands' registration
``commands``       one module per group of subcommands (train, evaluate, ...)
``config``         :class:`RunConfig`, the run's options, and its TOML file
``run_dir``        :class:`RunDir`, the layout of a run directory
``data``           a run's data splits, and examples named by index or file
``callbacks``      trainer callbacks: history, log, TensorBoard, progress
``console``        what is printed where; the plain-text table
``outputs``        writing arrays as .png / .npy / .csv
``errors``         one-line errors and exit codes
=================  ==============================================================

:func:`main` is the console script (``vaelab``) and ``python -m vaelab``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from vaelab.cli.errors import EXIT_ERROR, report_error

__all__ = ["main"]


def version_text() -> str:
    """What ``vaelab --version`` prints."""
    from vaelab._version import __version__

    return f"vaelab {__version__}"


def _debug_requested(args: Sequence[str]) -> bool:
    options = args[: list(args).index("--")] if "--" in args else args
    return "--debug" in options or os.environ.get("VAELAB_DEBUG", "") not in ("", "0")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vaelab`` command line with ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    Expected errors print ``error: <message>`` on one line to stderr and
    return 1 (2 for wrong usage); ``--debug`` re-raises them with the traceback.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # answered without loading the command line library
        print(version_text())
        return 0
    debug = _debug_requested(args)
    try:
        from typer.main import get_command

        from vaelab.cli.app import build_app
    except ImportError as exc:
        if debug:
            raise
        print(f"error: the vaelab command line needs its extra: pip install 'vaelab[cli]' ({exc})", file=sys.stderr)
        return EXIT_ERROR
    command = get_command(build_app())
    try:
        result = command.main(args=args, prog_name="vaelab", standalone_mode=False)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - sorted into expected errors and bugs
        if isinstance(exc, KeyboardInterrupt):
            return 130
        return report_error(exc, debug=debug)
    return result if isinstance(result, int) else 0
