"""Several fitted models side by side on the same held-out data.

One table of metrics (a column per figure, a dash where a model has no such
figure: PCA has no ELBO), the same test examples reconstructed by each model,
prior samples of the models that have a prior, and the training time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vaelab import latent
from vaelab.errors import InputError
from vaelab.report import figures
from vaelab.report.conditional import class_labels
from vaelab.report.html import Image, Section, write_page
from vaelab.report.images import ImageLayout, image_grid, image_rows, png_bytes
from vaelab.report.run_report import unit_float


@dataclass(frozen=True)
class ComparedModel:
    """One model in a comparison: a name for it, the fitted estimator and its metrics."""

    name: str
    estimator: Any
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: str = ""


#: Entries of a metrics dict that describe the evaluation rather than the model.
BOOKKEEPING = ("n_examples", "seed", "latent_dim", "nll_samples")


def metrics_table(models: Sequence[ComparedModel]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows: one row per model, one column per figure any of them has."""
    keys: list[str] = []
    for m in models:
        keys += [
            k
            for k, v in m.metrics.items()
            if k not in keys and k not in BOOKKEEPING and not isinstance(v, (dict, list, str))
        ]
    keys.sort(key=lambda k: k == "fit_seconds")  # stable: the training time goes last
    header = ["model", "class", "latent dim", *keys]
    rows = [
        [m.name, type(m.estimator).__name__, int(m.estimator.module_.latent_dim), *(m.metrics.get(k) for k in keys)]
        for m in models
    ]
    return header, rows


def _conditional(estimator: Any) -> bool:
    return bool(getattr(estimator, "conditional", False))


def _reconstruct(estimator: Any, shown: np.ndarray, y: np.ndarray | None) -> Any:
    if not _conditional(estimator):
        return estimator.reconstruct(shown)
    if y is None:
        raise InputError("a conditional model in the comparison needs the labels of the test examples (y)")
    return estimator.reconstruct(shown, np.asarray(y)[: len(shown)])


def _sample(estimator: Any, n: int, seed: int, y: np.ndarray | None) -> Any:
    """``n`` prior samples; a class-conditional model's cycle through its classes, an attribute model's take y's."""
    if not _conditional(estimator):
        return estimator.sample(n, seed=seed)
    classes = class_labels(estimator)
    if classes:
        return estimator.sample(n, y=[classes[i % len(classes)] for i in range(n)], seed=seed)
    if y is None or len(y) < n:
        raise InputError(f"a model conditioned on attributes needs at least {n} labelled test examples to sample from")
    return estimator.sample(n, y=np.asarray(y)[:n], seed=seed)


def build_comparison_report(
    models: Sequence[ComparedModel],
    x: np.ndarray,
    *,
    out_dir: str | Path,
    title: str = "Model comparison",
    description: str = "",
    n_examples: int = 12,
    seed: int = 0,
    overwrite: bool = False,
    y: np.ndarray | None = None,
) -> Path:
    """Write a report comparing ``models`` on held-out examples ``x``; returns the HTML file.

    Parameters
    ----------
    models : sequence of ComparedModel
        Fitted on data of the same example shape.
    x : ndarray of shape (n, *input_shape)
    out_dir : path
        The report folder (``report.html`` and its PNGs).
    n_examples : int
        Test examples in the reconstruction figure.
    seed : int
        Seeds the prior samples.
    overwrite : bool
        Replace an existing report folder.
    y : ndarray of shape (n,) or (n, K), optional
        Labels of ``x``: a conditional model reconstructs given them, and draws
        its samples given the classes in turn (or the first labels of ``y``
        for a model conditioned on attributes).
    """
    if not models:
        raise ValueError("nothing to compare: give at least one model")
    shapes = {tuple(m.estimator.input_shape_) for m in models}
    if len(shapes) > 1:
        raise ValueError(
            f"the models were fitted on examples of different shapes {sorted(shapes)}; compare runs on the same data"
        )
    x = unit_float(x)
    shown = x[:n_examples]
    layout = ImageLayout.detect(tuple(models[0].estimator.input_shape_))

    header, rows = metrics_table(models)
    table = Section("Metrics", tables=[(header, rows)])
    table.paragraphs.append(
        "Per example on the held-out data. mse: mean squared reconstruction error per value (lower is better); "
        "explained_variance: 1 - SSE / total sum of squares; likelihood figures are in nats (higher is better) "
        "and differ in meaning: the VAE's ELBO bounds log p(x), PCA's is the probabilistic-PCA log-likelihood, "
        "the autoencoder's is log p(x | z) of its reconstruction, not a likelihood of x."
    )
    table.notes += [f"{m.name}: {m.notes}" for m in models if m.notes]
    for m in models:
        table.notes += [f"{m.name}: {w}" for w in m.metrics.get("warnings", []) if isinstance(w, str)]

    recon = Section("Reconstructions")
    reconstructions = [np.asarray(_reconstruct(m.estimator, shown, y)) for m in models]
    if layout is not None:
        canvas = image_rows([shown, *reconstructions], layout)
        order = ", ".join(m.name for m in models)
        recon.images.append(
            Image("reconstructions.png", png_bytes(canvas), f"Top row: test examples; then, row by row: {order}.")
        )
    else:
        png = figures.feature_profiles(
            [("original", shown), *((m.name, r) for m, r in zip(models, reconstructions, strict=True))]
        )
        recon.images.append(
            Image("reconstructions.png", png, "Features of test examples and each model's reconstruction.")
        )

    samples = Section("Prior samples")
    generative = [m for m in models if latent.has_prior(m.estimator)]
    for i, m in enumerate(generative):
        drawn = np.asarray(_sample(m.estimator, 32, seed, y))
        png = png_bytes(image_grid(drawn, layout, cols=16)) if layout else figures.feature_distributions(x, drawn)
        samples.images.append(
            Image(f"samples_{i}.png", png, f"{m.name}: E[x | z] for 32 draws z ~ p(z) (seed {seed})"
                  + ("; given the classes in turn." if _conditional(m.estimator) else "."))
        )
    others = [m.name for m in models if not latent.has_prior(m.estimator)]
    if others:
        samples.notes.append(f"{', '.join(others)}: no prior to sample from (only VAEs define p(z)).")

    subtitle = f"{len(models)} models on {len(x)} held-out examples" + (f" of {description}" if description else "")
    return write_page(out_dir, title, subtitle, [table, recon, samples], overwrite=overwrite)
