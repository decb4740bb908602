"""How the command line turns exceptions into one line and an exit code.

======================================  =====  ==========================================
exception                               exit   printed
======================================  =====  ==========================================
OptionError, :class:`UsageError`      2      ``error: <message>``
config file) and the CLI library's own
usage errors (unknown option, bad type)
:class:`~vaelab.errors.VaelabError`,     1      ``error: <message>``
``OSError``, ``ValueError``
anything else (a bug)                    -      the traceback, as Python prints it
======================================  =====  ==========================================

``--debug`` (or ``VAELAB_DEBUG=1``) re-raises every exception with its traceback.
"""

from __future__ import annotations

import sys
from typing import TextIO

from vaelab.errors import OptionError, VaelabError

EXIT_ERROR = 1
EXIT_USAGE = 2


class UsageError(OptionError):
    """The command line was used wrongly: a bad option value or config file (exit code 2)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A run configuration (file or options) is malformed, has unknown keys or bad values."""


def one_line(message: str) -> str:
    """Collapse a message onto one line."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


def _cli_library_error(exc: BaseException) -> bool:
    """True for the CLI library's own usage errors (typer/click exceptions carry these two attributes)."""
    return hasattr(exc, "exit_code") and callable(getattr(exc, "format_message", None))


def exit_code_for(exc: BaseException) -> int | None:
    """The exit code for an expected error, or None for an unexpected one (a bug)."""
    if isinstance(exc, OptionError):  # a bad option, from the command line, a config file or a declaration
        return EXIT_USAGE
    if _cli_library_error(exc):
        return int(exc.exit_code)  # type: ignore[attr-defined]
    if isinstance(exc, (VaelabError, OSError, ValueError)):
        return EXIT_ERROR
    return None


def message_for(exc: BaseException) -> str:
    """The one-line message printed for ``exc``."""
    if _cli_library_error(exc):
        text = one_line(exc.format_message())  # type: ignore[attr-defined]
        ctx = getattr(exc, "ctx", None)
        path = getattr(ctx, "command_path", None)
        return f"{text} (see '{path} --help')" if text and path else text
    if isinstance(exc, FileNotFoundError) and exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror.lower()}"
    text = one_line(str(exc)) or type(exc).__name__
    return text


def report_error(exc: BaseException, *, debug: bool, stream: TextIO | None = None) -> int:
    """Print ``error: <message>`` for an expected error and return its exit code; re-raise otherwise."""
    code = exit_code_for(exc)
    if debug or code is None:
        raise exc
    text = message_for(exc)
    if text:  # a bare "no arguments" help request has no message: the help was printed
        print(f"error: {text}", file=stream if stream is not None else sys.stderr)
    return code
