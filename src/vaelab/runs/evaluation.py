"""What a run's figures are measured with: the feature classifier of its sample quality, and the one call
that measures a fitted model on a split (:func:`run_metrics`), so that Python reproduces every figure of
``vaelab train`` and ``vaelab evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vaelab.errors import OptionError
from vaelab.runs.spec import RunSpec

#: Built-in data sets whose examples are MNIST digits: the shipped digit classifier applies to them.
#: (``digits`` is scikit-learn's 8x8 digits: another resolution and style, so no figures for it.)
DIGIT_DATA = ("mnist", "binarized-mnist")


def feature_choice(spec: RunSpec, features: Path | str | None = None, input_shape: tuple[int, ...] | None = None) -> Any:
    """The ``features`` argument of :func:`vaelab.metrics.evaluate` for a run.

    ``features`` (a command's ``--features``) wins over the run's recorded
    one; without either, digit data get ``"digits"`` and other data None.

    Raises
    ------
    OptionError
        For a bad classifier, or one for images of another shape than
        ``input_shape``, naming ``--features``.
    """
    recorded = spec.value("features")
    path = Path(features) if features is not None else (Path(recorded) if recorded else None)
    if path is None:
        return "digits" if spec.value("data") in DIGIT_DATA else None
    from vaelab.errors import VaelabError
    from vaelab.metrics.features import load_feature_classifier

    where = "" if features is not None else " (recorded in the run's config.toml)"
    try:
        classifier = load_feature_classifier(path)
    except (VaelabError, OSError) as exc:
        raise OptionError(f"--features {path}{where}: {exc}; pass a folder written by `vaelab features train`") from None
    if input_shape is not None and tuple(input_shape) not in ((28, 28), (784,), (1, 28, 28)):
        raise OptionError(
            f"--features {path}: the classifier {classifier.name!r} takes 28x28 images, but the run's examples have "
            f"shape {tuple(input_shape)}; leave --features out for these data"
        )
    return classifier


def run_metrics(
    estimator: Any,
    x: Any,
    *,
    y: Any = None,
    factors: Any = None,
    seed: int = 0,
    nll_samples: int = 0,
    features: Any = None,
    progress: Any = None,
) -> dict[str, Any]:
    """The figures of ``vaelab train`` and ``vaelab evaluate``: :func:`vaelab.metrics.evaluate` with the labels
    of a conditional model, the known factors of the data, and binarized data scored as the model was trained."""
    from vaelab.metrics import evaluate

    return evaluate(
        estimator, x, y, factors=factors, seed=seed, nll_samples=nll_samples, features=features, progress=progress,
        binarize_seed="auto",
    )


def metrics_table(metrics: dict[str, Any]) -> str:
    """The figures as a plain-text table, then one line per warning (the notes stay in metrics.json)."""
    from vaelab.report.html import format_table
    from vaelab.report.run_report import is_text

    text = format_table(["metric", "value"], [[k, v] for k, v in metrics.items() if not is_text(v)])
    warnings = metrics.get("warnings", [])
    return "\n".join([text, *(f"warning: {w}" for w in warnings if isinstance(w, str))])
