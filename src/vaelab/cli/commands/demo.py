"""``vaelab demo``: PCA, an autoencoder and a VAE on the bundled digits, compared in one report.

Writes ``<out>/pca``, ``<out>/autoencoder`` and ``<out>/vae`` (ordinary run
directories, each with its own report) and ``<out>/comparison/report.html``.
The demo may replace its own earlier output (a folder holding its marker
file) without ``--force``; any other existing folder is left alone.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from vaelab.cli.console import Console, format_table
from vaelab.cli.options import Debug, Quiet
from vaelab.demo import DEMO_EPOCHS, DEMO_LATENT_DIM, demo_options
from vaelab.serialization import atomic_write_text

DEFAULT_OUT = Path("runs/demo")
MARKER = "vaelab-demo.txt"
#: The digits' values are k/16, k = 0..16: 17 grey levels.
DIGIT_LEVELS = 17

EPILOG = """**Examples**

```
vaelab demo
vaelab demo --out /tmp/demo --epochs 20
```
"""


def prepare_out(out: Path, *, force: bool) -> None:
    """Empty ``out`` if it holds an earlier demo (``--force`` is not needed for that); refuse anything else."""
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise FileExistsError(f"{out} exists and does not hold an earlier demo; choose another --out")
        if not force and out != DEFAULT_OUT:
            raise FileExistsError(f"{out} holds an earlier demo; pass --force to replace it")
        shutil.rmtree(out)
    elif out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is a file; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / MARKER, "Written by `vaelab demo`; the demo replaces this folder when run again.\n")


def discrete_bits(run: Any, estimator: Any, x: Any, seed: int) -> float | str:
    """Bits per dimension of the test digits under the model's density (saved to its metrics), or "n/a"."""
    from vaelab.metrics.discrete import model_bits_per_dim
    from vaelab.validation import as_tensor

    found = model_bits_per_dim(estimator, as_tensor(x).float(), levels=DIGIT_LEVELS, seed=seed)
    if found is None:
        return "n/a"
    bits, note = found
    test = run.metrics().get("test", {})
    run.update_metrics(
        "test", {**test, f"bits_per_dim_{DIGIT_LEVELS}_levels": bits, "notes": [*test.get("notes", []), note]}
    )
    return bits


def run_demo(out: Path, *, epochs: int, latent_dim: int, force: bool, console: Console) -> Path:
    """Train the three demo runs, report each, compare them; returns the comparison report."""
    from vaelab.report import build_run_report
    from vaelab.runs.callbacks import EpochProgress
    from vaelab.runs.data import pick_split
    from vaelab.runs.pipeline import fit, start
    from vaelab.runs.reports import compare_runs, history_of, recorded_test_metrics
    from vaelab.runs.spec import RunSpec

    prepare_out(out, force=force)
    started = time.perf_counter()
    rows, paths = [], []
    for name, options in demo_options(latent_dim=latent_dim, epochs=epochs).items():
        run, config, dataset = start(RunSpec.from_layers([options], sources=["demo"]), out / name, force=False)
        progress = None if console.quiet else EpochProgress(f"{name:>11}", console.stderr)
        fit(run, config, dataset, resume=False, reporter=Console(quiet=True), progress=progress)
        estimator = run.load_model(config)
        x, y = pick_split(dataset, "test")
        metrics = recorded_test_metrics(run, estimator, x, config.seed)
        bits = discrete_bits(run, estimator, x, config.seed)
        metrics = run.metrics().get("test", metrics)
        build_run_report(
            estimator,
            x,
            y,
            out_dir=run.report_dir,
            title=f"vaelab demo: {name}",
            description=dataset.description,
            history=history_of(estimator),
            metrics=metrics,
            config_text=run.config_file.read_text(encoding="utf-8"),
            class_names=dataset.class_names,
        )
        seconds = run.metrics().get("training", {}).get("seconds")
        rows.append([name, metrics.get("mse"), metrics.get("explained_variance"), bits, seconds])
        paths.append(run.root)
        console.note(f"{name:>11}: trained and reported in {out / name}")
    report = compare_runs(paths, out / "comparison", force=False, seed=0, reporter=Console(quiet=True))
    console.result(
        f"\nPCA vs autoencoder vs VAE on the bundled digits (latent_dim={latent_dim}, test split of {len(x)} images)\n"
    )
    header = ["model", "test mse", "explained var.", f"bits/dim ({DIGIT_LEVELS} levels)", "fit (s)"]
    console.result(format_table(header, rows))
    console.result(
        f"\nbits/dim: -log2 P(digit) per pixel of the {DIGIT_LEVELS}-level test digits (dequantized; lower is better), "
        "an upper bound for every model with a density: PCA's exact probabilistic-PCA density, the VAE's "
        "importance-sampled bound (continuous Bernoulli likelihood). The autoencoder has no density: n/a. "
        "Each run's other figures "
        "(the VAE's ELBO, latent diagnostics) are in its metrics.json and report."
    )
    console.result(f"\ncomparison report: {report}")
    console.result(
        f"run reports:       {out}/<model>/report/report.html   (total {time.perf_counter() - started:.0f} s)"
    )
    console.note(f"open {report.resolve().as_uri()} in a browser")
    console.note(
        "next: train on your own data with `vaelab train --help`, e.g. "
        "vaelab train mnist --data-dir ../shared/data --binarize dynamic --epochs 30 --out runs/mnist-vae"
    )
    return report


def demo_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help=("Output folder; an earlier demo there is replaced (without --force for the default folder)."),
        ),
    ] = DEFAULT_OUT,
    epochs: Annotated[
        int, typer.Option("--epochs", min=1, help="Epochs of the autoencoder and the VAE.")
    ] = DEMO_EPOCHS,
    latent_dim: Annotated[
        int, typer.Option("--latent-dim", min=1, help="Latent size of all three models.")
    ] = DEMO_LATENT_DIM,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an earlier demo in a folder other than the default.")
    ] = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Fit PCA, an autoencoder and a VAE on the bundled 8x8 digits and compare them.

    No download: the digits ship with scikit-learn. Takes a few minutes on
    two CPU cores. Prints the comparison table and where the reports are.
    """
    from vaelab._runtime import torch_threads

    console = Console(quiet=quiet)
    with console.logging(), torch_threads(1):  # small models: the reports' inference is fastest on one thread too
        console.note(f"vaelab demo: PCA, an autoencoder and a VAE on the digits -> {out}")
        run_demo(out, epochs=epochs, latent_dim=latent_dim, force=force, console=console)
