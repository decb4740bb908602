"""``vaelab evaluate``: a run's metrics on a split of its data, printed and saved to metrics.json."""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Optional

import typer

from vaelab.cli.commands.features import FeaturesOption, feature_choice
from vaelab.cli.console import Console, format_table
from vaelab.cli.errors import UsageError
from vaelab.cli.options import Debug, NoVerify, Quiet, RunArg, Seed, Split
from vaelab.cli.run_dir import RunDir, jsonable

EPILOG = """**Examples**

```
vaelab evaluate runs/mnist-vae
vaelab evaluate runs/mnist-vae --split train --seed 1
vaelab evaluate runs/mnist-vae --nll-samples 1000 --threads 2
```
"""


def compute_metrics(
    estimator: Any,
    x: Any,
    *,
    y: Any = None,
    factors: Any = None,
    seed: int = 0,
    nll_samples: int = 0,
    console: Console | None = None,
    features: Any = None,
) -> dict[str, Any]:
    """``vaelab.metrics.evaluate`` on ``x``, with the number of examples and the settings used.

    A conditional model is measured given the labels ``y`` of ``x``
    (:func:`vaelab.metrics.conditional.evaluate_conditional`). With the
    known ``factors`` of ``x`` (data sets such as ``shapes``) the Mutual
    Information Gap is added (:mod:`vaelab.metrics.mig`).
    """
    metrics = _model_metrics(
        estimator, x, y=y, seed=seed, nll_samples=nll_samples, console=console, features=features
    )
    if factors is not None and estimator.module_.latent_dim >= 2:
        from vaelab.metrics.mig import DEFAULT_BINS, mutual_information_gap

        codes = estimator.transform(x, y) if getattr(estimator, "conditional", False) else estimator.transform(x)
        result = mutual_information_gap(codes, factors)
        metrics["mig"] = result["mig"]
        metrics["mig_per_factor"] = result["mig_per_factor"]
        n_factors = len(result["mig_per_factor"])
        metrics.setdefault("notes", []).append(
            f"mig: Mutual Information Gap (Chen et al. 2018) of the codes against the data's {n_factors} known "
            f"factors, histogram estimator with {DEFAULT_BINS} bins per code dimension (Miller-Madow corrected); "
            "mig_per_factor in the data set's factor order"
        )
    return jsonable(metrics)


def _model_metrics(
    estimator: Any, x: Any, *, y: Any, seed: int, nll_samples: int, console: Console | None, features: Any = None
) -> dict[str, Any]:
    """The model's own metrics (see ``compute_metrics``).

    ``nll_samples`` > 0 asks for an importance-sampled negative log-likelihood
    with that many samples per example (models that support it); its progress
    is shown on ``console``. ``features`` is the classifier of the
    sample-quality figures (see :func:`vaelab.cli.commands.features.feature_choice`).
    A model trained on binarized data (``binarize="dynamic"``) is scored on
    ``x`` binarized once with the fixed seed ``BINARIZE_SEED`` (123), recorded
    as ``binarize_seed``.
    """
    from vaelab.metrics import evaluate
    from vaelab.metrics.discrete import BINARIZE_SEED

    if getattr(estimator, "conditional", False):
        from vaelab.metrics.conditional import evaluate_conditional

        if y is None:
            raise UsageError("this run's model is conditional, but the split has no labels to condition it on")
        extra_c: dict[str, Any] = {"nll_samples": nll_samples} if nll_samples > 0 else {}
        if getattr(estimator, "binarize", False):
            extra_c["binarize_seed"] = BINARIZE_SEED
        values = evaluate_conditional(estimator, x, y, seed=seed, **extra_c)
        return {"n_examples": int(len(x)), "seed": seed, **extra_c, **values}
    accepted = inspect.signature(evaluate).parameters
    kwargs: dict[str, Any] = {"seed": seed}
    extra: dict[str, Any] = {"features": features} if features is not None else {}
    if getattr(estimator, "binarize", False) and "binarize_seed" in accepted:
        kwargs["binarize_seed"] = BINARIZE_SEED
    if nll_samples > 0:
        if "nll_samples" not in accepted:
            raise UsageError("--nll-samples is not supported by this version of vaelab.metrics.evaluate; leave it out")
        kwargs["nll_samples"] = nll_samples
        if console is not None and not console.quiet and "progress" in accepted:
            values = evaluate(estimator, x, **kwargs, **extra, progress=_progress_printer(console))
            return {"n_examples": int(len(x)), **kwargs, **values}
    values = evaluate(estimator, x, **kwargs, **extra)
    return {"n_examples": int(len(x)), **kwargs, **values}


def _progress_printer(console: Console, lines: int = 10) -> Any:
    """``progress(stage, done, total)`` printing about ``lines`` lines per stage."""
    shown: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        step = max(1, total // lines)
        if done // step > shown.get(stage, -1) or done == total:
            shown[stage] = done // step
            console.note(f"{stage}: {done}/{total}")

    return progress


def metrics_table(metrics: dict[str, Any]) -> str:
    """The figures as a table, then one line per warning (the notes stay in metrics.json)."""
    from vaelab.report.run_report import is_text

    text = format_table(["metric", "value"], [[k, v] for k, v in metrics.items() if not is_text(v)])
    warnings = metrics.get("warnings", [])
    return "\n".join([text, *(f"warning: {w}" for w in warnings if isinstance(w, str))])


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
    from vaelab.cli.data import load_run_data, pick_split

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
        with torch_threads(config.threads if threads is None else threads):
            metrics = compute_metrics(
                estimator,
                x,
                y=y,
                factors=factors,
                seed=seed,
                nll_samples=nll_samples,
                console=console,
                features=classifier,
            )
        run_dir.update_metrics(split, metrics)
        console.result(metrics_table(metrics))
        console.note(f"saved to {run_dir.metrics_file}")
