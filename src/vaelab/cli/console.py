"""What the command line prints: results on stdout, progress and notes on stderr.

Library code only logs; this is the one place that turns log records and
results into text on the terminal. ``--quiet`` silences progress and notes
(warnings and errors still show); results (tables, paths) are always printed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from vaelab.report.html import format_table
from vaelab.runs.run_dir import vaelab_log_handler

__all__ = ["Console", "format_table"]
from typing import Any, TextIO


@dataclass
class Console:
    """Where a command writes; streams default to the process's stdout and stderr at call time."""

    quiet: bool = False
    out: TextIO | None = None
    err: TextIO | None = None

    @property
    def stdout(self) -> TextIO:
        return self.out if self.out is not None else sys.stdout

    @property
    def stderr(self) -> TextIO:
        return self.err if self.err is not None else sys.stderr

    def result(self, text: str = "") -> None:
        """A result: always printed, to stdout."""
        print(text, file=self.stdout, flush=True)

    def note(self, text: str) -> None:
        """Progress or advice: to stderr, unless quiet."""
        if not self.quiet:
            print(text, file=self.stderr, flush=True)

    @contextmanager
    def logging(self) -> Iterator[None]:
        """Show vaelab's log records on stderr while the block runs (INFO and up; WARNING and up when quiet)."""
        handler = logging.StreamHandler(self.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler.setLevel(logging.WARNING if self.quiet else logging.INFO)
        handler.addFilter(lambda record: record.levelno >= logging.WARNING or not record.name.startswith("vaelab.cli"))
        with vaelab_log_handler(handler):
            yield
