"""Plots for the reports, as PNG bytes, drawn with matplotlib's Agg canvas.

matplotlib is imported lazily and used through ``Figure`` + ``FigureCanvasAgg``
directly: no pyplot, no global backend switch, nothing shown on screen. Each
figure has a fixed size in inches and DPI, so its pixel size is known
(``size * DPI``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

DPI = 100
#: History columns that are bookkeeping, not loss terms.
NOT_TERMS = ("epoch", "step", "seconds", "samples_per_s", "lr")


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def loss_terms(history: Sequence[dict[str, Any]]) -> list[str]:
    """The loss terms logged in ``history`` (``loss``, ``reconstruction``, ``kl``, ...), in order."""
    terms: list[str] = []
    for row in history:
        for key in row:
            for prefix in ("train_", "valid_"):
                if key.startswith(prefix) and key[len(prefix) :] not in terms:
                    terms.append(key[len(prefix) :])
    return terms


def training_curves(history: Sequence[dict[str, Any]]) -> bytes:
    """One panel per loss term: training and validation value per epoch (nats per example)."""
    terms = loss_terms(history)
    fig = _figure(4.0 * max(len(terms), 1), 3.2)
    epochs = [row["epoch"] for row in history]
    for i, term in enumerate(terms):
        ax = fig.add_subplot(1, len(terms), i + 1)
        for split, style in (("train", "-"), ("valid", "--")):
            values = [_number(row.get(f"{split}_{term}")) for row in history]
            if any(np.isfinite(values)):
                ax.plot(epochs, values, style, marker="." if len(epochs) < 30 else None, label=split)
        ax.set_title(term)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    return _png(fig)


def class_name(label: object, class_names: Sequence[str] | None) -> str:
    """``class_names[label]`` for an integer label within range, else ``str(label)``."""
    try:
        index = int(label)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return str(label)
    if class_names is not None and index == label and 0 <= index < len(class_names):
        return str(class_names[index])
    return str(label)


def latent_scatter(
    points: np.ndarray,
    labels: np.ndarray | None,
    *,
    xlabel: str,
    ylabel: str,
    class_names: Sequence[str] | None = None,
) -> bytes:
    """Codes projected to 2-D, coloured by label (one colour per class, with a legend).

    ``class_names[c]`` names label ``c`` in the legend (default: the label itself).
    """
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=6, alpha=0.6)
    else:
        classes = np.unique(labels)
        if len(classes) <= 20:
            cmap = _colormap("tab10" if len(classes) <= 10 else "tab20")
            for k, c in enumerate(classes):
                sel = labels == c
                name = class_name(c, class_names)
                ax.scatter(points[sel, 0], points[sel, 1], s=6, alpha=0.7, color=cmap(k), label=name)
            ax.legend(markerscale=3, fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
        else:  # a continuous target
            sc = ax.scatter(points[:, 0], points[:, 1], s=6, alpha=0.7, c=labels, cmap="viridis")
            fig.colorbar(sc, ax=ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def feature_profiles(rows: Sequence[tuple[str, np.ndarray]], n_examples: int = 4) -> bytes:
    """For vector data: the features of a few examples, one panel each, one line per source.

    ``rows`` pairs a name ("original", "VAE") with an array (n, n_features).
    """
    n = min(n_examples, min(len(r[1]) for r in rows))
    fig = _figure(4.0 * n, 3.0)
    for i in range(n):
        ax = fig.add_subplot(1, n, i + 1)
        for name, values in rows:
            flat = np.asarray(values, dtype=np.float64).reshape(len(values), -1)[i]
            ax.plot(np.arange(flat.size), flat, marker=".", label=name)
        ax.set_title(f"example {i}")
        ax.set_xlabel("feature")
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize="small")
    fig.tight_layout()
    return _png(fig)


def feature_distributions(data: np.ndarray, samples: np.ndarray) -> bytes:
    """For vector data: mean +- standard deviation of each feature in the data and in prior samples."""
    data = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    idx = np.arange(data.shape[1])
    fig = _figure(max(5.0, 0.35 * idx.size + 2.0), 3.5)
    ax = fig.add_subplot(1, 1, 1)
    ax.errorbar(idx - 0.1, data.mean(0), yerr=data.std(0), fmt="o", capsize=3, label="test data")
    ax.errorbar(idx + 0.1, samples.mean(0), yerr=samples.std(0), fmt="s", capsize=3, label="prior samples")
    ax.set_xlabel("feature")
    ax.set_ylabel("mean +- std")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return _png(fig)


def _colormap(name: str) -> Any:
    import matplotlib

    return matplotlib.colormaps[name]


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
