"""The report of one fitted model: what it learned, in pictures, on held-out data.

Sections: overview, metrics, training curves, reconstructions next to the
originals, prior samples, interpolation strips, per-dimension traversals,
attribute vectors between classes (when there are labels), a 2-D scatter of
the latent codes coloured by label, the decoded manifold for
2-D latents, and the exact configuration. Data that are not images get plots
per feature instead of image grids, and a note where a picture has no meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vaelab import latent
from vaelab.report import figures
from vaelab.report.conditional import conditional_sections
from vaelab.report.html import Image, Section, write_page
from vaelab.report.images import ImageLayout, image_grid, image_rows, png_bytes
from vaelab.validation import as_tensor

N_SAMPLES = 64
N_PAIRS = 4
STEPS = 10
N_TRAVERSED = 10
MANIFOLD_SIDE = 15


def unit_float(x: np.ndarray) -> np.ndarray:
    """Examples as the estimators read them: float32, uint8 intensities scaled to [0, 1]."""
    return as_tensor(x).numpy()


def overview_section(estimator: Any, x: np.ndarray, description: str) -> Section:
    module = estimator.module_
    n_params = sum(p.numel() for p in module.parameters())
    rows = [
        ["model", type(estimator).__name__],
        ["latent dimensions", int(module.latent_dim)],
        ["example shape", " x ".join(map(str, estimator.input_shape_))],
        ["trained parameters", n_params],
        ["examples shown", len(x)],
    ]
    for label, part in (("prior", getattr(module, "prior", None)), ("objective", getattr(module, "objective", None))):
        if part is not None:  # the VAE's strategies, e.g. objective: iwae k=5 gradient=dreg
            config = part.config()
            rows.insert(2, [label, " ".join([config["name"], *(f"{k}={v}" for k, v in config.items() if k != "name")])])
    if getattr(module, "prior_latent_dim", module.latent_dim) != module.latent_dim:
        rows.insert(2, ["stochastic layers", f"2 (z1: {module.latent_dim}, z2: {module.prior_latent_dim} dimensions)"])
    return Section("Overview", [description] if description else [], tables=[(["", ""], rows)])


def is_text(value: Any) -> bool:
    """True for metric entries that are prose (``warnings``, ``notes``) or empty lists, not figures."""
    if isinstance(value, (list, tuple)):
        return not value or any(isinstance(v, str) for v in value)
    return isinstance(value, str)


def metrics_section(metrics: dict[str, Any] | None) -> Section:
    section = Section("Metrics")
    if not metrics:
        section.notes.append("No metrics recorded; run `vaelab evaluate` on the run.")
        return section
    rows = [[k, v] for k, v in metrics.items() if not isinstance(v, dict) and not is_text(v)]
    section.tables.append((["metric", "value"], rows))
    section.paragraphs.append(
        "Per example, on held-out data: mse is the mean squared reconstruction error per value; "
        "likelihood figures (elbo, log-likelihoods) are in nats, higher is better."
    )
    section.paragraphs += [f"Warning: {w}" for w in metrics.get("warnings", []) if isinstance(w, str)]
    section.notes += [n for n in metrics.get("notes", []) if isinstance(n, str)]
    return section


def curves_section(history: Sequence[dict[str, Any]] | None) -> Section:
    section = Section("Training curves")
    if not history:
        section.notes.append("No training history: the model is fitted in closed form (PCA) or was trained elsewhere.")
        return section
    section.images.append(
        Image("training_curves.png", figures.training_curves(history), "Loss terms per epoch, nats per example.")
    )
    return section


def reconstructions_section(estimator: Any, x: np.ndarray, layout: ImageLayout | None) -> Section:
    section = Section("Reconstructions")
    recon = np.asarray(estimator.reconstruct(x))
    if layout is not None:
        canvas = image_rows([x, recon], layout)
        section.images.append(
            Image("reconstructions.png", png_bytes(canvas), "Top: test examples. Bottom: reconstructions.")
        )
    else:
        png = figures.feature_profiles([("original", x), ("reconstruction", recon)])
        section.images.append(Image("reconstructions.png", png, "Features of test examples and their reconstructions."))
    return section


def samples_section(estimator: Any, x: np.ndarray, layout: ImageLayout | None, seed: int) -> Section:
    section = Section("Prior samples")
    if not latent.has_prior(estimator):
        section.notes.append(f"A {type(estimator).__name__} has no prior p(z) to sample from; only the VAE does.")
        return section
    samples = np.asarray(estimator.sample(N_SAMPLES, seed=seed))
    if layout is not None:
        png = png_bytes(image_grid(samples, layout, cols=8))
        caption = f"E[x | z] for {N_SAMPLES} draws z ~ p(z) (seed {seed})."
    else:
        png = figures.feature_distributions(x, samples)
        caption = f"Mean +- std of each feature in the test data and in {N_SAMPLES} prior samples (seed {seed})."
    section.images.append(Image("samples.png", png, caption))
    return section


def interpolations_section(estimator: Any, x: np.ndarray, layout: ImageLayout | None) -> Section:
    section = Section("Interpolations")
    if layout is None or len(x) < 2:
        section.notes.append("Skipped: the examples are not images (or there are too few of them).")
        return section
    rows = []
    for i in range(min(N_PAIRS, len(x) // 2)):
        a, b = x[2 * i], x[2 * i + 1]
        rows.append(np.concatenate([a[None], latent.interpolate(estimator, a, b, STEPS), b[None]]))
    caption = (
        f"Each row: a test example, {STEPS} decodings of evenly spaced points on the straight line between "
        "its code and the next example's, and that example."
    )
    section.images.append(Image("interpolations.png", png_bytes(image_rows(rows, layout)), caption))
    return section


def traversals_section(estimator: Any, x: np.ndarray, z: np.ndarray, layout: ImageLayout | None) -> Section:
    section = Section("Latent traversals")
    if layout is None:
        section.notes.append("Skipped: the examples are not images.")
        return section
    centre, scale = latent.spread(estimator, z)
    ranking = latent.rank_dims(estimator, x)
    dims = ranking.top(N_TRAVERSED)
    grid = latent.traverse(estimator, centre.copy(), dims, STEPS, centre=centre, scale=scale)
    standard = latent.has_standard_normal_codes(estimator)
    units = "prior standard deviations" if standard else "standard deviations of the codes"
    caption = (
        f"Row i varies one latent dimension from -{latent.TRAVERSAL_SPAN:g} to +{latent.TRAVERSAL_SPAN:g} {units}, "
        f"the others held at the centre. Rows, top to bottom: dimensions {', '.join(map(str, dims))} "
        + (
            "(highest mean KL from the prior over the test examples first)."
            if ranking.measure == "kl"
            else "(those along which the test codes vary most first)."
        )
    )
    section.images.append(Image("traversals.png", png_bytes(image_rows(list(grid), layout)), caption))
    return section


def attributes_section(
    estimator: Any, x: np.ndarray, z: np.ndarray, y: np.ndarray | None, layout: ImageLayout | None
) -> Section | None:
    """Class-to-class attribute vectors applied to test examples (only when the data have labels)."""
    if y is None:
        return None
    section = Section("Attribute vectors")
    classes = np.unique(y)
    if len(classes) < 2:
        section.notes.append(f"Skipped: the test examples have a single label ({classes.tolist()}).")
        return section
    pairs = [(classes[i], classes[i + 1]) for i in range(min(N_PAIRS, len(classes) - 1))]
    strengths = np.linspace(0.0, 1.5, 7)
    rows, table = [], []
    for source, target in pairs:
        vector = latent.attribute_from_labels(estimator, x, y, source, target, z=z)
        info = vector.summary()
        table.append([f"{source} -> {target}", info["source_count"], info["target_count"], round(info["norm"], 3),
                      round(info["source_spread"], 3), round(info["target_spread"], 3)])
        first = int(np.flatnonzero(y == source)[0])
        rows.append(np.concatenate([x[first][None], latent.shift(estimator, vector, strengths, code=z[first])]))
    section.paragraphs.append(
        "An attribute vector is the mean code of the target class minus that of the source class "
        "(White 2016); adding it with a strength moves a code toward the target class."
    )
    headers = ["source -> target", "source examples", "target examples", "|vector|", "source spread", "target spread"]
    section.tables.append((headers, table))
    if layout is None:
        section.notes.append("The shifted examples are not pictured: the examples are not images.")
        return section
    caption = (
        "Each row: the first test example of the source class, then its code plus "
        f"{', '.join(f'{s:g}' for s in strengths)} times the vector, decoded. Spread: the root of the summed "
        "per-dimension variances of each class's codes."
    )
    section.images.append(Image("attributes.png", png_bytes(image_rows(rows, layout)), caption))
    return section


def scatter_section(
    z: np.ndarray, y: np.ndarray | None, projection: str, seed: int, class_names: Sequence[str] | None = None
) -> Section:
    points, about = latent.project_2d(z, projection, seed)
    axes = ("z1", "z2") if z.shape[1] == 2 else ("component 1", "component 2")
    png = figures.latent_scatter(points, y, xlabel=axes[0], ylabel=axes[1], class_names=class_names)
    colour = "coloured by label" if y is not None else "(the data have no labels)"
    return Section("Latent space", images=[Image("latent_scatter.png", png, f"Test codes, {colour}: {about}.")])


def manifold_section(estimator: Any, z: np.ndarray, layout: ImageLayout | None) -> Section | None:
    if z.shape[1] != 2:
        return None
    section = Section("Decoded manifold")
    if layout is None:
        section.notes.append("Skipped: the examples are not images.")
        return section
    grid, about = latent.manifold(estimator, z, MANIFOLD_SIDE)
    caption = (
        f"Decodings of a {MANIFOLD_SIDE} x {MANIFOLD_SIDE} grid over the 2-D latent space ({about}); "
        "z1 left to right, z2 bottom to top."
    )
    section.images.append(Image("manifold.png", png_bytes(image_rows(list(grid), layout)), caption))
    return section


def build_run_report(
    estimator: Any,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    out_dir: str | Path,
    title: str,
    description: str = "",
    history: Sequence[dict[str, Any]] | None = None,
    metrics: dict[str, Any] | None = None,
    config_text: str = "",
    projection: str = "pca",
    n_examples: int = 16,
    max_points: int = 2000,
    seed: int = 0,
    overwrite: bool = False,
    class_names: Sequence[str] | None = None,
) -> Path:
    """Write the report of a fitted estimator on held-out examples ``x``; returns the HTML file.

    Parameters
    ----------
    estimator : fitted PCA, Autoencoder or VAE
    x : ndarray of shape (n, *input_shape)
        Held-out examples (uint8 images are scaled to [0, 1]).
    y : ndarray of shape (n,), optional
        Labels, to colour the latent scatter.
    out_dir : path
        The report folder: ``report.html`` plus one PNG per figure.
    title, description : str
        Page title and a line about the data.
    history : list of dict, optional
        Per-epoch training rows (``estimator.history_``).
    metrics : dict, optional
        Figures for the metrics table (from ``vaelab.metrics.evaluate``).
    config_text : str
        The run's configuration, shown verbatim.
    projection : {"pca", "tsne"}
        How codes of more than two dimensions are projected for the scatter.
    n_examples : int
        Examples in the reconstruction figure.
    max_points : int
        At most this many codes (a seeded subset) in the scatter.
    seed : int
        Seeds the prior samples, the subset and t-SNE.
    overwrite : bool
        Replace an existing report folder.
    class_names : sequence of str, optional
        Names of the labels 0..K-1, for the scatter's legend (a data set's ``class_names``).

    Returns
    -------
    Path of ``report.html``.
    """
    x = unit_float(x)
    layout = ImageLayout.detect(tuple(estimator.input_shape_))
    if len(x) > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(len(x), max_points, replace=False))
        x, y = x[keep], None if y is None else np.asarray(y)[keep]
    if getattr(estimator, "conditional", False):  # its figures need the labels: see report/conditional.py
        sections = [
            overview_section(estimator, x, description),
            metrics_section(metrics),
            curves_section(history),
            *conditional_sections(estimator, x, y, layout, n_examples=n_examples, seed=seed, projection=projection),
        ]
        if config_text:
            sections.append(Section("Configuration", preformatted=config_text))
        subtitle = f"conditional {type(estimator).__name__} with a {estimator.module_.latent_dim}-D latent space"
        return write_page(out_dir, title, subtitle, sections, overwrite=overwrite)
    z = latent.codes(estimator, x)
    shown = x[:n_examples]
    sections = [
        overview_section(estimator, x, description),
        metrics_section(metrics),
        curves_section(history),
        reconstructions_section(estimator, shown, layout),
        samples_section(estimator, x, layout, seed),
        interpolations_section(estimator, shown, layout),
        traversals_section(estimator, x, z, layout),
        attributes_section(estimator, x, z, None if y is None else np.asarray(y), layout),
        scatter_section(z, None if y is None else np.asarray(y), projection, seed, class_names),
        manifold_section(estimator, z, layout),
    ]
    if config_text:
        sections.append(Section("Configuration", preformatted=config_text))
    subtitle = f"{type(estimator).__name__} with a {estimator.module_.latent_dim}-D latent space"
    return write_page(out_dir, title, subtitle, [s for s in sections if s is not None], overwrite=overwrite)
