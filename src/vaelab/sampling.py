"""Post-hoc sampling: a Gaussian mixture fitted to the aggregate posterior (Ghosh et al. 2020).

A VAE's prior p(z) and the codes its encoder actually uses, the aggregate
posterior q(z) = (1/N) sum_n q(z|x_n), differ: prior samples that land where
no data is encoded ("holes") decode to poor examples. Fitting a density to
the codes of the training data after training and sampling from it instead
(ex-post density estimation) avoids the holes, and makes any model with an
encoder and a decoder generative, the deterministic autoencoder included.

>>> import numpy as np
>>> from vaelab import Autoencoder
>>> X = np.random.default_rng(0).random((64, 10)).astype("float32")
>>> ae = Autoencoder(latent_dim=2, epochs=2, device="cpu").fit(X)
>>> sampler = PosteriorMixtureSampler(n_components=3).fit(ae, X)
>>> sampler.sample(5, seed=0).shape
(5, 10)

References
----------
Ghosh, Sajjadi, Vergari, Black & Schölkopf 2020, "From Variational to Deterministic Autoencoders", ICLR,
arXiv:1903.12436.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaelab.errors import InputError, ModelFileError
from vaelab.serialization import atomic_directory, load_tensors, read_json, save_tensors, write_json
from vaelab.validation import as_tensor, check_int, check_is_fitted

CODES = ("mean", "sample")
FORMAT = "vaelab.posterior_mixture"
#: the fitted GaussianMixture's arrays that are saved (all that sampling and scoring read)
ARRAYS = ("weights_", "means_", "covariances_", "precisions_cholesky_")


class PosteriorMixtureSampler:
    """Fit scikit-learn's GaussianMixture to the codes of a fitted model and decode draws from it.

    Parameters
    ----------
    n_components : int
        Mixture components (10 in Ghosh et al. 2020).
    covariance_type : str
        ``"full"``, ``"diag"``, ``"tied"`` or ``"spherical"`` (scikit-learn's names).
    codes : str
        ``"mean"``: the posterior means (the codes of ``transform``);
        ``"sample"``: one draw z ~ q(z|x) per example (a VAE's aggregate posterior itself).
    seed : int
        Seeds the mixture's initialization and the posterior draws.

    Attributes
    ----------
    mixture_ : sklearn.mixture.GaussianMixture
    estimator_ : the fitted vaelab estimator whose decoder turns codes into data
    """

    def __init__(
        self, n_components: int = 10, *, covariance_type: str = "full", codes: str = "mean", seed: int = 0
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.codes = codes
        self.seed = seed

    def _codes(self, estimator: Any, X: Any) -> np.ndarray:
        if self.codes == "mean":
            return np.asarray(estimator.transform(X), dtype=np.float64)
        Xt = estimator._check_X(X)
        generator = torch.Generator(device=estimator._device()).manual_seed(self.seed)
        return estimator._map(lambda module, x: module.encode(x).sample(generator=generator), Xt).double().numpy()

    def fit(self, estimator: Any, X: Any) -> PosteriorMixtureSampler:
        """Fit the mixture to the codes of ``X`` (n, *input_shape) under the fitted ``estimator``; returns self."""
        from sklearn.mixture import GaussianMixture

        check_is_fitted(estimator)
        check_int(self.n_components, "n_components", low=1)
        if self.codes not in CODES:
            raise InputError(f"codes must be one of {', '.join(CODES)}, got {self.codes!r}")
        Z = self._codes(estimator, X)
        if Z.shape[0] < self.n_components:
            raise InputError(f"n_components={self.n_components} needs at least as many examples, got {Z.shape[0]}")
        mixture = GaussianMixture(self.n_components, covariance_type=self.covariance_type, random_state=self.seed)
        self.mixture_ = mixture.fit(Z)
        self.estimator_ = estimator
        return self

    def sample_codes(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` codes drawn from the mixture, shape (n, latent_dim), reproducible under ``seed``."""
        check_is_fitted(self, "mixture_")
        check_int(n, "n", low=1)
        gm, rng = self.mixture_, np.random.default_rng(seed)
        component = rng.choice(gm.n_components, size=n, p=gm.weights_)
        d = gm.means_.shape[1]
        cov = gm.covariances_  # as scikit-learn stores it for each covariance_type, made (K, D, D)
        if gm.covariance_type == "tied":
            cov = np.broadcast_to(cov, (gm.n_components, d, d))
        elif gm.covariance_type == "diag":
            cov = cov[:, :, None] * np.eye(d)
        elif gm.covariance_type == "spherical":
            cov = cov[:, None, None] * np.eye(d)
        chol = np.linalg.cholesky(cov)  # (K, D, D)
        eps = rng.standard_normal((n, d))
        return gm.means_[component] + np.einsum("nij,nj->ni", chol[component], eps)

    def sample(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """Decode ``n`` mixture draws: E[x|z] of shape (n, *input_shape)."""
        Z = self.sample_codes(n, seed=seed).astype(np.float32)
        return np.asarray(self.estimator_.inverse_transform(Z))

    def score_codes(self, Z: Any) -> np.ndarray:
        """log density of the mixture at codes Z (n, latent_dim), shape (n,)."""
        check_is_fitted(self, "mixture_")
        return self.mixture_.score_samples(as_tensor(Z, name="Z", max_rank=2).double().numpy())

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``config.json`` (options) + ``mixture.safetensors`` (the mixture's arrays) to the folder ``path``.

        The model whose decoder the samples go through is saved on its own (``estimator.save``);
        :meth:`load` takes it back.
        """
        check_is_fitted(self, "mixture_")
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it, or choose another folder")
        config = {"format": FORMAT, "n_components": self.n_components, "covariance_type": self.covariance_type,
                  "codes": self.codes, "seed": self.seed}
        arrays = {name: torch.from_numpy(np.ascontiguousarray(getattr(self.mixture_, name))) for name in ARRAYS}
        with atomic_directory(path, overwrite=overwrite) as tmp:
            write_json(tmp / "config.json", config)
            save_tensors(tmp / "mixture.safetensors", arrays, metadata={"format": FORMAT})
        return path

    @classmethod
    def load(cls, path: str | Path, estimator: Any) -> PosteriorMixtureSampler:
        """A sampler saved by :meth:`save`, decoding through the fitted ``estimator``."""
        from sklearn.mixture import GaussianMixture

        path = Path(path)
        config = read_json(path / "config.json", "posterior mixture config")
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise ModelFileError(f"{path / 'config.json'} is not a saved PosteriorMixtureSampler (format {FORMAT!r})")
        check_is_fitted(estimator)
        sampler = cls(config["n_components"], covariance_type=config["covariance_type"], codes=config["codes"],
                      seed=config["seed"])
        arrays = load_tensors(path / "mixture.safetensors")
        mixture = GaussianMixture(sampler.n_components, covariance_type=sampler.covariance_type)
        for name in ARRAYS:
            setattr(mixture, name, arrays[name].numpy())
        sampler.mixture_, sampler.estimator_ = mixture, estimator
        return sampler
