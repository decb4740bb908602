"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from vaelab.cli.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

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
FeaturesOption = Annotated[
    Optional[Path],
    typer.Option(
        "--features",
        show_default=False,
        help=(
            "A feature classifier from `vaelab features train` (its folder): the VAE's Fréchet distance, precision "
            "and recall are computed in its features and named after it. [default: the run's; the shipped digit "
            "classifier for mnist and binarized-mnist; none for other data]"
        ),
    ),
]


def parse_ints(text: str | None, what: str) -> list[int] | None:
    """``"0,1,2"`` -> [0, 1, 2] (None for None); a :class:`UsageError` naming ``what`` otherwise."""
    if text is None:
        return None
    try:
        return [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        raise UsageError(f"{what} must be comma-separated integers such as 0,1,2, got {text!r}") from None


def labels_of(x: np.ndarray, y: Any) -> np.ndarray:
    """The labels of examples ``x`` for a conditional model; an error when the data have none."""
    import numpy as np

    if y is None:
        raise UsageError("this run's model is conditional and needs the examples' labels, but these data have none")
    return np.asarray(y)[: len(x)]
