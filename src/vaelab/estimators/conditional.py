"""The conditional variant of a neural estimator: a parameter, ``conditional=True``, not a copied class.

With ``conditional=True`` the estimator's module is built with
``condition_dim = K`` (see :mod:`vaelab.nn.conditioning`) and every method that
touches the networks takes the labels ``y`` beside the data::

    vae = VAE(conditional=True).fit(X, y)      # y: classes, one-hot or attributes
    vae.transform(X, y); vae.reconstruct(X, y); vae.score_samples(X, y)
    vae.sample(16, y=7, seed=0)                # sixteen 7s
    vae.inverse_transform(Z, y)

The labels are turned into condition vectors by a
:class:`~vaelab.estimators.conditions.ConditionEncoding` fitted on the
training labels (``condition_encoding_``, saved in ``config.json``). With
``conditional=False`` (the default) nothing changes: ``y`` is ignored by
``fit`` and ``score``, as scikit-learn expects, and is an error elsewhere.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from vaelab.errors import InputError
from vaelab.estimators.base import _like_input
from vaelab.estimators.conditions import ConditionEncoding
from vaelab.validation import check_is_fitted


def _source_condition(source: Any) -> Tensor | None:
    """The condition matrix a batch source carries (also through a LoaderSource), or None."""
    inner = getattr(source, "source", source)
    return getattr(inner, "condition", None)


class ConditionalMixin:
    """Label handling for a :class:`~vaelab.estimators.neural.NeuralEstimator` with a ``conditional`` parameter."""

    conditional: bool
    #: False for an estimator whose ``conditional`` means its own conditioning (TabularVAE's column values)
    conditions_on_labels: bool = True

    @property
    def _on_labels(self) -> bool:
        """True when the model is conditioned on labels ``y`` (``conditional=True`` of a label-conditional class)."""
        return bool(self.conditional) and self.conditions_on_labels

    # ------------------------------------------------------------------ fit

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit to ``X``; with ``conditional=True``, ``y`` (one label per example) is required.

        ``y_valid`` (with ``X_valid``) gives the labels of explicit validation data.
        """
        y_valid = fit_params.pop("y_valid", None)
        if not self._on_labels:
            return super().fit(X, **fit_params)
        n = len(X)
        encoding = ConditionEncoding.fit(y, n)
        fit_params["condition"] = encoding.encode(y, n)
        if fit_params.get("X_valid") is not None:
            fit_params["condition_valid"] = encoding.encode(y_valid, len(fit_params["X_valid"]), name="y_valid")
        self.condition_encoding_ = encoding
        return super().fit(X, **fit_params)

    def fit_source(self, train: Any, valid: Any = None, **kwargs: Any) -> Any:
        """``fit_source``; a conditional model needs sources built with ``condition=`` (one-hot rows or attributes).

        One-hot conditions make a class-conditional model over the classes 0..K-1;
        any other matrix an attribute-conditional one.
        """
        if not self._on_labels:
            return super().fit_source(train, valid, **kwargs)
        conditions = [_source_condition(s) for s in (train, valid) if s is not None]
        if any(c is None for c in conditions):
            raise InputError(
                "a conditional model trains on sources that carry conditions: build them with "
                "InMemorySource(x, condition=c) or MemmapSource(paths, condition=c), c of shape (n, K)"
            )
        encoding = ConditionEncoding.fit(conditions[0].numpy(), len(conditions[0]), name="train.condition")
        if len(conditions) == 2 and conditions[1].shape[1] != encoding.dim:
            raise InputError(f"valid.condition has {conditions[1].shape[1]} columns, train.condition {encoding.dim}")
        self.condition_encoding_ = encoding
        return super().fit_source(train, valid, **kwargs)

    @property
    def condition_dim_(self) -> int:
        """K, the width of the condition vector (0 for an unconditional estimator)."""
        return self.condition_encoding_.dim if self._on_labels else 0

    # ----------------------------------------------------------- conditions

    def _conditions(self, y: Any, n: int, name: str = "y") -> Tensor | None:
        """The condition matrix (n, K) for labels ``y``, or None for an unconditional estimator."""
        check_is_fitted(self)
        if not self._on_labels:
            if y is not None:
                raise InputError(
                    f"{name} was given, but this {type(self).__name__} is unconditional (conditional=False); "
                    f"leave {name} out, or fit with conditional=True"
                )
            return None
        return self.condition_encoding_.encode(y, n, name=name)

    def _map_conditioned(self, fn: Any, X: Tensor, C: Tensor | None) -> Tensor:
        """``self._map`` over the rows of X (and of C): fn(module, x_batch, c_batch or None) in batches."""
        if C is None:
            return self._map(lambda m, x: fn(m, x, None), X)
        shape = tuple(X.shape[1:])
        d = math.prod(shape)
        joined = torch.cat([X.reshape(X.shape[0], -1), C.to(X.dtype)], dim=1)  # (n, d + K): one array to batch
        return self._map(lambda m, xc: fn(m, xc[:, :d].reshape(-1, *shape), xc[:, d:]), joined)

    # ------------------------------------------------------------ inference

    def transform(self, X: Any, y: Any = None) -> Any:
        """Latent codes (posterior means) of shape (n, latent_dim); ``y`` for a conditional model."""
        Xt = self._check_X(X, keep_float64=True)
        C = self._conditions(y, Xt.shape[0])
        return _like_input(self._map_conditioned(lambda m, x, c: m.encode(x, c).mean, Xt, C), X)

    def reconstruct(self, X: Any, y: Any = None) -> Any:
        """Encode and decode ``X`` (given ``y`` for a conditional model): E[x | z = mean code], same shape."""
        Xt = self._check_X(X, keep_float64=True)
        C = self._conditions(y, Xt.shape[0])
        return _like_input(self._map_conditioned(lambda m, x, c: m.reconstruct(x, c), Xt, C), X)

    def inverse_transform(self, Z: Any, y: Any = None) -> Any:
        """Decode codes of shape (n, latent_dim) (given ``y`` for a conditional model) to data space."""
        Zt = self._check_Z(Z)
        C = self._conditions(y, Zt.shape[0])
        return _like_input(self._map_conditioned(lambda m, z, c: m.decode_mean(z, c), Zt, C), Z)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean of ``score_samples`` over ``X``; ``y`` conditions a conditional model and is ignored otherwise."""
        return float(self.score_samples(X, y if self._on_labels else None).mean())

    # ---------------------------------------------------------- save / load

    def _fitted_attributes(self) -> dict[str, Any]:
        out = super()._fitted_attributes()
        if self._on_labels:
            out["condition"] = self.condition_encoding_.to_dict()
        return out

    def _set_fitted_attributes(self, fitted: dict[str, Any]) -> None:
        super()._set_fitted_attributes(fitted)
        if self._on_labels:
            self.condition_encoding_ = ConditionEncoding.from_dict(fitted["condition"])
