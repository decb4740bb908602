"""``vaelab embed``: the latent codes of a split (or a file) to .npy or CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vaelab.cli.console import Console
from vaelab.cli.options import Debug, NoVerify, Quiet, RunArg, labels_of
from vaelab.runs.loaded import LoadedRun

EPILOG = """**Examples**

```
vaelab embed runs/mnist-vae --out codes.csv
vaelab embed runs/mnist-vae --split train --out train-codes.npy
vaelab embed runs/mnist-vae --input new_images/ --out new-codes.npy
```

The CSV has columns z0, z1, ... and, where the data have labels, label (and class, the label's name, for
the built-in labelled data sets: Fashion-MNIST's T-shirt/top, Trouser, ...; the digits' 0-9).
"""


def embed_command(
    run: RunArg,
    split: Annotated[str, typer.Option("--split", help="test, train or valid.")] = "test",
    input_path: Annotated[
        Optional[Path],
        typer.Option(
            "--input", help=("Embed the examples of this .npy/.npz/.csv file or image folder instead of a split.")
        ),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option(
            "--out", "-o", help=("A .npy or .csv file. [default: RUN/embeddings/SPLIT.npy]"), show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing output.")] = False,
    no_verify: NoVerify = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Write the latent codes (posterior means for a VAE, given the labels for a conditional one) of a split."""
    import numpy as np

    from vaelab.cli.outputs import check_format, write_array
    from vaelab import latent
    from vaelab.report.figures import class_name

    console = Console(quiet=quiet)
    with console.logging():
        loaded = LoadedRun.open(run, no_verify=no_verify)
        stem = Path(input_path).stem if input_path is not None else split
        path = loaded.run.output_path(out, f"{stem}.npy", force=force, folder="embeddings")
        suffix = check_format(path, allowed=(".npy", ".csv"))
        x, y, class_names = loaded.labelled_examples(split, input_path)
        if getattr(loaded.estimator, "conditional", False):  # codes of q(z | x, y), given the examples' labels
            z = np.asarray(loaded.estimator.transform(x, labels_of(x, y)), dtype=np.float32)
        else:
            z = latent.codes(loaded.estimator, x).astype(np.float32)
        if suffix == ".csv":
            columns = [f"z{j}" for j in range(z.shape[1])]
            table = z if y is None else np.column_stack([z, np.asarray(y, dtype=np.float64)])
            if y is not None and class_names is not None:
                names = np.array([class_name(label, class_names) for label in y], dtype=object)
                table = np.column_stack([table.astype(object), names])
            write_array(
                path, table, columns=columns + ([] if y is None else ["label"] + (["class"] if class_names else []))
            )
        else:
            write_array(path, z)
        console.note(f"{len(z)} codes of dimension {z.shape[1]}")
        console.result(str(path))
