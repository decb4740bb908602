"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

RunArg = Annotated[Path, typer.Argument(help="A run directory written by `vaelab train`.", show_default=False)]
Force = Annotated[bool, typer.Option("--force", help="Overwrite existing output.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print results only: no progress or notes.")]
NoVerify = Annotated[
    bool,
    typer.Option(
        "--no-verify",
        help="Skip the checksums of a built-in data set's files (for a copy whose contents differ).",
    ),
]
Debug = Annotated[bool, typer.Option("--debug", help="On error, show the full traceback.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the random draws.", min=0)]
Split = Annotated[str, typer.Option("--split", help="Which split of the run's data: test, train or valid.")]
OutFile = Annotated[
    Optional[Path],
    typer.Option(
        "--out",
        "-o",
        help="Output file: .png (image grid), .npy or .csv. Default: in RUN/figures/.",
        show_default=False,
    ),
]
