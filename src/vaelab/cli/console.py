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
from typing import Any, TextIO


@contextmanager
def vaelab_log_handler(handler: logging.Handler) -> Iterator[None]:
    """Attach ``handler`` to the ``vaelab`` logger for the block, lowering its level to the handler's if needed."""
    logger = logging.getLogger("vaelab")
    previous = logger.level
    if previous == logging.NOTSET or previous > handler.level:
        logger.setLevel(handler.level)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


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


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with aligned columns (numbers to 4 significant digits).

    >>> print(format_table(["model", "mse"], [["pca", 0.023771], ["vae", 0.0125]]))
    model  mse
    -----  -------
    pca    0.02377
    vae    0.0125
    """
    from vaelab.report.html import format_value

    cells = [[str(h) for h in header]] + [[format_value(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
