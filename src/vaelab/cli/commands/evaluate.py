"""``vaelab evaluate``: a run's metrics on a split of its data, printed and saved to metrics.json."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from vaelab.cli.console import Console
from vaelab.cli.options import Debug, FeaturesOption, NoVerify, Quiet, RunArg, Seed, Split
from vaelab.runs.evaluation import feature_choice, metrics_table, run_metrics
from vaelab.runs.run_dir import RunDir

EPILOG = """**Examples**

```
vaelab evaluate runs/mnist-vae
vaelab evaluate runs/mnist-vae --split train --seed 1
vaelab evaluate runs/mnist-vae --nll-samples 1000 --threads 2
```
"""


def _progress_printer(console: Console, lines: int = 10) -> Any:
    """``progress(stage, done, total)`` printing about ``lines`` lines per stage."""
    shown: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        step = max(1, total // lines)
        if done // step > shown.get(stage, -1) or done == total:
            shown[stage] = done // step
            console.note(f"{stage}: {done}/{total}")

    return progress


def evaluate_command(
    run: RunArg,
    split: Split = "test",
    nll_samples: Annotated[
        int, typer.Option("--nll-samples", min=0, help="Also estimate -log p(x) with K importance samples (0: skip).")
    ] = 0,
    seed: Seed = 0,
    threads: Annotated[
        Optional[int],
        typer.Option(
            "--threads",
            min=0,
            show_default=False,
            help="CPU threads for torch (0: one per core). [default: the run's threads in config.toml]",
        ),
    ] = None,
    features: FeaturesOption = None,
    no_verify: NoVerify = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Measure a trained run on a split of its data (default: test) and save the figures.

    Prints the metrics (reconstruction error, explained variance and the
    model's likelihood figure: the ELBO for a VAE, in nats per example) and
    stores them under the split's name in RUN/metrics.json, keeping the
    other entries. A model trained with --binarize dynamic is scored on the
    split binarized once with seed 123 (recorded as binarize_seed), so that
    its Bernoulli likelihood is a likelihood of the data it scores.
    """
    from vaelab._runtime import torch_threads
    from vaelab.runs.data import load_run_data, pick_split

    console = Console(quiet=quiet)
    with console.logging():
        run_dir = RunDir.open(run)
        config = run_dir.config(no_verify=no_verify)
        estimator = run_dir.load_model(config)
        classifier = feature_choice(config, features, tuple(estimator.input_shape_))
        dataset = load_run_data(config)
        x, y = pick_split(dataset, split)
        factors = getattr(dataset, f"factors_{split}", None)
        console.note(f"evaluating {type(estimator).__name__} on {len(x)} {split} examples ...")
        with torch_threads(config.value("threads") if threads is None else threads):
            progress = None if console.quiet or nll_samples == 0 else _progress_printer(console)
            metrics = run_metrics(
                estimator, x, y=y, factors=factors, seed=seed, nll_samples=nll_samples, features=classifier,
                progress=progress,
            )
        run_dir.update_metrics(split, metrics)
        console.result(metrics_table(metrics))
        console.note(f"saved to {run_dir.metrics_file}")
