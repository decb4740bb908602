"""Report sections of a conditional model: samples per class, and figures given the labels.

A conditional model's methods need the labels of the examples, so the run
report shows, instead of the unconditional sections: reconstructions given
the true labels, a grid of prior samples with one row per class, and the
scatter of the codes q(z | x, y) coloured by label. Interpolations,
traversals and the decoded manifold would need a label per picture and are
left out (with a note).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vaelab import latent
from vaelab.report import figures
from vaelab.report.html import Image, Section
from vaelab.report.images import ImageLayout, image_rows, png_bytes

MAX_CLASSES_SHOWN = 20


def class_labels(estimator: Any) -> list[Any]:
    """The classes of a class-conditional estimator ([] for attribute-conditional ones)."""
    encoding = getattr(estimator, "condition_encoding_", None)
    return list(encoding.classes) if encoding is not None and encoding.kind == "classes" else []


def samples_per_class(estimator: Any, per_class: int, *, seed: int, mean: bool = True) -> np.ndarray:
    """``sample(per_class, y=c)`` for every class c: ndarray of shape (n_classes, per_class, *input_shape)."""
    return np.stack(
        [np.asarray(estimator.sample(per_class, y=c, seed=seed + i, mean=mean)) for i, c in enumerate(class_labels(estimator))]
    )


def conditional_sections(
    estimator: Any, x: np.ndarray, y: np.ndarray | None, layout: ImageLayout | None, *, n_examples: int, seed: int,
    projection: str,
) -> list[Section]:
    """The sections that replace reconstructions, samples, interpolations, traversals and the scatter."""
    if y is None:
        return [Section("Conditional model", notes=["The test split has no labels: the conditional figures are skipped."])]
    sections = []
    shown, labels = x[:n_examples], np.asarray(y)[:n_examples]
    recon = np.asarray(estimator.reconstruct(shown, labels))
    section = Section("Reconstructions")
    if layout is not None:
        section.images.append(Image("reconstructions.png", png_bytes(image_rows([shown, recon], layout)),
                                    "Top: test examples. Bottom: reconstructions given their labels."))
    else:
        png = figures.feature_profiles([("original", shown), ("reconstruction", recon)])
        section.images.append(Image("reconstructions.png", png, "Features of test examples and their reconstructions."))
    sections.append(section)

    classes = class_labels(estimator)
    section = Section("Samples per class")
    if not classes or layout is None:
        section.notes.append("Skipped: the model is conditioned on numeric attributes, or the examples are not images.")
    else:
        shown_classes = classes[:MAX_CLASSES_SHOWN]
        grid = samples_per_class(estimator, 10, seed=seed)[: len(shown_classes)]
        caption = (f"Row i: E[x | z, y = c_i] for 10 draws z ~ p(z) (seed {seed}); classes, top to bottom: "
                   f"{', '.join(map(str, shown_classes))}.")
        section.images.append(Image("samples_per_class.png", png_bytes(image_rows(list(grid), layout)), caption))
    sections.append(section)

    z = np.asarray(estimator.transform(x, y), dtype=np.float64)
    points, about = latent.project_2d(z, projection, seed)
    png = figures.latent_scatter(points, np.asarray(y), xlabel="z1", ylabel="z2")
    sections.append(Section("Latent space", images=[Image("latent_scatter.png", png,
                                                          f"Test codes q(z | x, y), coloured by label: {about}.")],
                            notes=["Interpolations, traversals and the decoded manifold are not drawn for a "
                                   "conditional model (each picture would need a label)."]))
    return sections
