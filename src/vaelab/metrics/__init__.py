"""Evaluation of fitted models: likelihood figures, reconstruction error, diagnostics."""

from vaelab.metrics.evaluate import evaluate

__all__ = ["evaluate"]
