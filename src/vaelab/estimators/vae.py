"""The VAE as a scikit-learn-style estimator.

One estimator class over one module class (one or two stochastic layers); a
VAE variant is a parameter (``beta``, ``prior``, ``objective``,
``kl_schedule``, ...), never a subclass. The options are checked and turned
into configs in :mod:`vaelab.estimators.vae_options`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from vaelab.estimators import vae_options
from vaelab.estimators.base import ESTIMATORS, _like_input
from vaelab.estimators.conditional import ConditionalMixin
from vaelab.estimators.neural import NeuralEstimator
from vaelab.estimators.params import VAE_PARAMS
from vaelab.models.vae import VAEConfig, VAEModel
from vaelab.params import declared
from vaelab.training import Callback
from vaelab.validation import check_int, check_is_fitted


@ESTIMATORS.register("VAE")
@declared(VAE_PARAMS)
class VAE(ConditionalMixin, NeuralEstimator):
    """A variational autoencoder, trained on the (beta-weighted) ELBO or the IWAE bound.

    A conditional VAE (``conditional=True``) takes the labels ``y`` in ``fit``,
    ``transform``, ``reconstruct``, ``inverse_transform``, ``score_samples`` and
    ``sample`` (see :mod:`vaelab.estimators.conditional`).

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    module_ : VAEModel
    history_ : list of dict
        Per-epoch training (and validation) loss terms.
    input_shape_ : tuple of int
    likelihood_ : str
        The likelihood fitted (``likelihood="auto"`` decided from the data).
    condition_encoding_ : ConditionEncoding
        (conditional only) How labels become condition vectors; ``.classes``
        lists the classes seen in training.

    Examples
    --------
    >>> import numpy as np
    >>> from vaelab import VAE
    >>> X = np.random.default_rng(0).random((64, 10)).astype("float32")
    >>> vae = VAE(latent_dim=2, epochs=2, device="cpu").fit(X)
    >>> vae.sample(3, seed=0).shape
    (3, 10)
    """

    model_class = VAEModel
    unit_likelihood = "bernoulli"

    def check_params(self) -> dict[str, Any]:
        checked = super().check_params()
        vae_options.check_vae_rules(self._options(checked))
        return checked

    def _options(self, checked: dict[str, Any]) -> dict[str, Any]:
        """The VAE options of the checked parameters (a subclass may fix some: the VAE-GAN's objective)."""
        return checked

    def _module_config(self, n_train: int = 0) -> VAEConfig:
        options = self._options(self._checked)
        return vae_options.model_class(options).config_class(
            input_shape=self.input_shape_,
            latent_dim=options["latent_dim"],
            network=self._network(),
            likelihood=self._likelihood_config(),
            prior=vae_options.prior_config(options),
            beta=float(options["beta"]),
            objective=vae_options.objective_config(options, n_train),
            condition_dim=self.condition_dim_,
        )

    def _build_module(self, n_train: int) -> VAEModel:
        return vae_options.model_class(self._options(self._checked))(self._module_config(n_train))

    def _training_callbacks(self) -> list[Callback]:
        return list(vae_options.schedule_callbacks(self._options(self._checked)))

    def score_samples(self, X: Any, y: Any = None, *, n_samples: int = 1, seed: int = 0) -> Any:
        """A lower bound on log p(x) per example in nats: the importance-weighted L_k with k = ``n_samples``.

        L_k(x) = log (1/k) sum_i p(x | z_i) p(z_i) / q(z_i | x), z_i ~ q(z | x)
        (Burda et al. 2016, eq. 8; :func:`vaelab.metrics.importance_sampled_log_likelihood`),
        with the true prior weight (beta = 1 whatever ``beta`` trained the model).
        ``n_samples=1`` is an unbiased one-draw estimate of the ELBO (its KL
        term by Monte Carlo); as ``n_samples`` grows, E[L_k] rises towards
        log p(x) and the estimate varies less from seed to seed.

        The noise is drawn per example, from the example's values and ``seed``
        (:class:`~vaelab.metrics.example_noise.ExampleNoise`), so a row gets the
        same score however often it is scored and whichever rows share the call.
        float64 ``X`` runs through a float64 copy of the network, so that only
        float64 rounding separates a row's score in different calls (float32
        matrix products of different batch sizes round differently, ~1e-7).

        Parameters
        ----------
        X : array-like of shape (n, *input_shape)
        y : array-like of shape (n,) or (n, K), optional
            The labels of a conditional model (required there; None otherwise).
        n_samples : int
            Posterior draws per example (k >= 1).
        seed : int
            Seeds the draws; another seed gives another (equally valid) estimate.

        Returns
        -------
        ndarray (or Tensor) of shape (n,)
        """
        from vaelab.metrics.bounds import importance_sampled_log_likelihood
        from vaelab.metrics.example_noise import ExampleNoise

        Xt = self._check_X(X, keep_float64=True)
        C = self._conditions(y, Xt.shape[0])
        k = check_int(n_samples, "n_samples", low=1)
        noise = ExampleNoise(seed)

        def bound(module: Any, x: Tensor, c: Tensor | None) -> Tensor:
            return importance_sampled_log_likelihood(module, x, k, c=c, generator=noise)

        return _like_input(self._map_conditioned(bound, Xt, C), X)

    def score(self, X: Any, y: Any = None, *, n_samples: int = 1, seed: int = 0) -> float:
        """Mean of :meth:`score_samples` (the bound L_k, k = ``n_samples``) over ``X``; higher is better.

        ``y`` conditions a conditional model and is ignored otherwise (as scikit-learn expects).
        """
        labels = y if self._on_labels else None
        scores = self.score_samples(X, labels, n_samples=n_samples, seed=seed)
        return float(np.mean(np.asarray(scores, dtype=np.float64)))

    def sample(self, n: int, *, y: Any = None, seed: int | None = None, mean: bool = True) -> Any:
        """Draw ``n`` examples from the prior through the decoder.

        Parameters
        ----------
        n : int
        y : label or array-like, optional
            Conditional models only (and required there): one class label for
            all n samples (``y=7``), or one label (or attribute row) per sample.
        seed : int, optional
            Makes the draw reproducible.
        mean : bool
            Return E[x|z] (default); False draws x ~ p(x|z) as well.

        Returns
        -------
        ndarray of shape (n, *input_shape)
        """
        check_is_fitted(self)
        check_int(n, "n", low=1)
        module, device = self.module_, self._device()
        c = self._conditions(y, n)
        generator = torch.Generator(device=device)
        if seed is None:
            generator.seed()  # fresh, non-deterministic
        else:
            generator.manual_seed(seed)
        with torch.no_grad():
            module.eval()
            z = module.sample_codes(n, generator=generator)
            params = module.decode(z, None if c is None else c.to(device))
            x = module.likelihood.mean(params) if mean else module.likelihood.sample(params, generator=generator)
        return x.float().cpu().numpy()
