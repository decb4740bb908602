"""``vaelab report`` (one run) and ``vaelab compare`` (several runs side by side): HTML reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vaelab.cli.commands.evaluate import compute_metrics
from vaelab.cli.commands.features import FeaturesOption, feature_choice
from vaelab.cli.commands.generate import LoadedRun
from vaelab.cli.console import Console
from vaelab.cli.errors import UsageError
from vaelab.cli.options import Debug, Force, NoVerify, Quiet, RunArg, Seed
from vaelab.cli.run_dir import RunDir
from vaelab.errors import InputError

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


def recorded_test_metrics(
    run: RunDir, estimator: Any, x: Any, seed: int, features: Path | None = None, config: Any = None, y: Any = None
) -> dict[str, Any]:
    """The run's recorded test metrics, computing (and saving) them if there are none.

    ``features`` (a ``--features`` folder) recomputes them with that feature classifier; ``y`` are the
    labels of ``x`` (a conditional model is measured given them).
    """
    recorded = run.metrics().get("test")
    if recorded and features is None:
        return recorded
    config = config if config is not None else run.config()
    classifier = feature_choice(config, features, tuple(estimator.input_shape_))
    return run.update_metrics("test", compute_metrics(estimator, x, y=y, seed=seed, features=classifier))["test"]


def history_of(estimator: Any) -> list[dict[str, Any]]:
    return list(getattr(estimator, "history_", None) or [])


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
    from vaelab.cli.data import load_run_data, pick_split
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


def unique_names(runs: list[RunDir]) -> list[str]:
    """Folder names, prefixed by their parents' where two runs share one."""
    names = [r.root.name for r in runs]
    if len(set(names)) == len(names):
        return names
    return [str(Path(r.root.parent.name) / r.root.name) for r in runs]


def compare_runs(
    paths: list[Path], out: Path | None, *, force: bool, seed: int, console: Console, no_verify: bool = False
) -> Path:
    """Write the comparison report of the runs at ``paths``; returns the HTML file.

    ``no_verify`` skips the checksums of the runs' built-in data set.
    """
    from vaelab.cli.data import load_run_data, pick_split
    from vaelab.report import ComparedModel, build_comparison_report

    if not paths:
        raise UsageError("give at least one run directory to compare")
    loaded = [LoadedRun.open(p, no_verify=no_verify) for p in paths]
    target = Path(out) if out is not None else loaded[0].run.root.parent / "comparison"
    if target.exists() and not force:
        raise FileExistsError(f"{target} already exists; pass --force to rebuild it or choose another --out")
    first = loaded[0].config
    for other in loaded[1:]:
        if (other.config.data, other.config.data_dir) != (first.data, first.data_dir):
            raise InputError(
                f"{other.run.root} was trained on {other.config.data!r} but {loaded[0].run.root} on {first.data!r}; "
                "compare runs on the same data"
            )
    dataset = load_run_data(first)
    x, y = pick_split(dataset, "test")
    names = unique_names([lr.run for lr in loaded])
    models = []
    for name, lr in zip(names, loaded, strict=True):
        metrics = dict(recorded_test_metrics(lr.run, lr.estimator, x, first.seed, y=y))
        training = lr.run.metrics().get("training", {})
        if "seconds" in training:
            metrics["fit_seconds"] = training["seconds"]
        models.append(ComparedModel(name, lr.estimator, metrics))
    console.note(f"comparing {', '.join(names)} on {len(x)} test examples ...")
    return build_comparison_report(
        models,
        x,
        out_dir=target,
        title="vaelab comparison",
        description=dataset.description,
        seed=seed,
        overwrite=force,
        y=y,
    )


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
        path = compare_runs(runs, out, force=force, seed=seed, console=console, no_verify=no_verify)
        console.result(str(path))
        console.note(f"open {path.resolve().as_uri()} in a browser")
