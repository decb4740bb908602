"""PCA as a vaelab estimator: scikit-learn's ``PCA`` API on the family's module."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from vaelab.errors import InputError
from vaelab.estimators.base import ESTIMATORS, EncoderDecoderEstimator, _like_input
from vaelab.estimators.params import PCA_PARAMS
from vaelab.models.pca import PCAConfig, PCAModel
from vaelab.params import declared
from vaelab.validation import as_tensor, check_is_fitted, finite_column_sums


@ESTIMATORS.register("PCA")
@declared(PCA_PARAMS)
class PCA(EncoderDecoderEstimator):
    """Principal component analysis, fitted in closed form in float64.

    Matches ``sklearn.decomposition.PCA(n_components=latent_dim)``: the same
    components (with the same deterministic signs), explained variances,
    projections and probabilistic-PCA ``score``.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    components_ : ndarray of shape (latent_dim, n_features)
    explained_variance_ : ndarray of shape (latent_dim,)
    explained_variance_ratio_ : ndarray of shape (latent_dim,)
    mean_ : ndarray of shape (n_features,)
    noise_variance_ : float
    module_ : PCAModel

    Examples
    --------
    >>> import numpy as np
    >>> from vaelab import PCA
    >>> X = np.random.default_rng(0).normal(size=(100, 5))
    >>> pca = PCA(latent_dim=2).fit(X)
    >>> pca.transform(X).shape
    (100, 2)
    """

    model_class = PCAModel
    keep_float64 = True

    def check_params(self) -> dict[str, Any]:
        """Check the parameters against their declaration; returns them normalized (see :mod:`vaelab.params`)."""
        return type(self).params.validate(self.get_params(deep=False))

    def _fit_input(self, X: Any) -> Tensor:
        return as_tensor(X, keep_float64=True, check_finite=False)  # checked by _fit's float64 column sums

    def _fit(self, X: Tensor) -> None:
        sums = finite_column_sums(X)  # one pass over the data: the NaN/inf check and the mean
        n, d = X.shape[0], self.n_features_in_
        k = self.check_params()["latent_dim"]
        if not 1 <= k <= min(n, d):
            raise InputError(
                f"latent_dim must be between 1 and {min(n, d)}, the smaller of n_samples={n} and n_features={d}, "
                f"got {k}; choose fewer components"
            )
        module = PCAModel(PCAConfig(input_shape=self.input_shape_, latent_dim=k))
        self.module_ = module.fit(X, mean=torch.from_numpy(sums.cpu().numpy() / n))  # NumPy: see PCAModel.fit

    def score_samples(self, X: Any) -> Any:
        """Probabilistic-PCA log-likelihood of each example in nats, shape (n,)."""
        Xt = self._check_X(X)
        return _like_input(self.module_.log_likelihood(Xt.to(torch.float64)), X)

    def _buffer(self, name: str) -> np.ndarray:
        check_is_fitted(self)
        return getattr(self.module_, name).cpu().numpy()

    components_ = property(lambda self: self._buffer("components"), doc="Principal axes, (latent_dim, n_features).")
    explained_variance_ = property(lambda self: self._buffer("explained_variance"))
    explained_variance_ratio_ = property(lambda self: self._buffer("explained_variance_ratio"))
    mean_ = property(lambda self: self._buffer("mean"))
    noise_variance_ = property(lambda self: float(self._buffer("noise_variance")))
