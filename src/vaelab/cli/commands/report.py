"""``vaelab report`` (one run) and ``vaelab compare`` (several runs side by side): HTML reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vaelab.cli.console import Console
from vaelab.cli.errors import UsageError
from vaelab.cli.options import Debug, FeaturesOption, Force, NoVerify, Quiet, RunArg, Seed
from vaelab.runs.evaluation import feature_choice
from vaelab.runs.loaded import LoadedRun
from vaelab.runs.reports import compare_runs, history_of, recorded_test_metrics

REPORT_EPILOG = """**Examples**

```
vaelab report runs/mnist-vae
vaelab report runs/mnist-vae --projection tsne --force
```

Writes RUN/report/report.html (images embedded, so the file stands alone) and its PNGs beside it.
"""

COMPARE_EPILOG = """**Examples**

```
vaelab compare runs/mnist-pca runs/mnist-ae runs/mnist-vae
vaelab compare runs/a runs/b --out comparison/ --force
```
"""

Projection = Annotated[
    str, typer.Option("--projection", help="How latent codes of more than 2 dimensions are shown: pca or tsne.")
]


def report_command(
    run: RunArg,
    out: Annotated[
        Optional[Path], typer.Option("--out", "-o", help="Report folder. [default: RUN/report]", show_default=False)
    ] = None,
    projection: Projection = "pca",
    n_examples: Annotated[
        int, typer.Option("--n-examples", min=2, help="Test examples in the reconstruction figure.")
    ] = 16,
    seed: Seed = 0,
    force: Force = False,
    features: FeaturesOption = None,
    no_verify: NoVerify = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Write a self-contained HTML report of a run, with its figures as PNGs beside it.

    Training curves, reconstructions next to originals, prior samples (VAE),
    interpolation strips, per-dimension traversals (most informative first),
    class-to-class attribute vectors (when the data have labels), a 2-D scatter of the test
    codes coloured by label (the model's own 2-D latent, else a PCA or t-SNE
    projection), the decoded manifold for 2-D latents, the metrics table and
    the exact config.
    """
    from vaelab.runs.data import load_run_data, pick_split
    from vaelab.report import build_run_report

    if projection not in ("pca", "tsne"):
        raise UsageError(f"--projection must be pca or tsne, got {projection!r}")
    console = Console(quiet=quiet)
    with console.logging():
        loaded = LoadedRun.open(run, no_verify=no_verify)
        run_dir, config = loaded.run, loaded.config
        target = Path(out) if out is not None else run_dir.report_dir
        if target.exists() and not force:
            raise FileExistsError(
                f"{target} already exists; pass --force to rebuild the report or choose another --out"
            )
        if features is not None:
            feature_choice(config, features, tuple(loaded.estimator.input_shape_))  # a bad --features fails first
        dataset = load_run_data(config)
        x, y = pick_split(dataset, "test")
        console.note(f"writing the report of {run_dir.root} ...")
        path = build_run_report(
            loaded.estimator,
            x,
            y,
            out_dir=target,
            title=f"vaelab report: {run_dir.root.name}",
            description=dataset.description,
            history=history_of(loaded.estimator),
            metrics=recorded_test_metrics(run_dir, loaded.estimator, x, config.seed, features, config, y),
            config_text=run_dir.config_file.read_text(encoding="utf-8"),
            projection=projection,
            n_examples=n_examples,
            seed=seed,
            overwrite=force,
            class_names=dataset.class_names,
        )
        console.result(str(path))
        console.note(f"open {path.resolve().as_uri()} in a browser")


def compare_command(
    runs: Annotated[list[Path], typer.Argument(help="Run directories, trained on the same data.", show_default=False)],
    out: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            "-o",
            help=("Report folder. [default: the first run's parent folder/comparison]"),
            show_default=False,
        ),
    ] = None,
    seed: Seed = 0,
    force: Force = False,
    no_verify: NoVerify = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Put several runs side by side: metrics table, reconstructions of the same test examples, samples.

    For example PCA vs autoencoder vs VAE at the same latent size.
    """
    console = Console(quiet=quiet)
    with console.logging():
        path = compare_runs(runs, out, force=force, seed=seed, reporter=console, no_verify=no_verify)
        console.result(str(path))
        console.note(f"open {path.resolve().as_uri()} in a browser")
