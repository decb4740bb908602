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

from vaelab.errors import InputError
from vaelab.estimators import vae_options
from vaelab.estimators.base import ESTIMATORS, _like_input
from vaelab.estimators.conditional import ConditionalMixin
from vaelab.estimators.neural import _COMMON_DOC, NeuralEstimator
from vaelab.models.vae import VAEConfig, VAEModel
from vaelab.nn import NetworkConfig
from vaelab.training import Callback
from vaelab.validation import check_int, check_is_fitted


@ESTIMATORS.register("VAE")
class VAE(ConditionalMixin, NeuralEstimator):
    __doc__ = f"""A variational autoencoder, trained on the (beta-weighted) ELBO or the IWAE bound.

    Parameters
    ----------{_COMMON_DOC}
    prior : str or dict
        The prior p(z): ``"standard_normal"``, ``{{"name": "mog", "components": K}}``
        (a learned mixture of Gaussians) or ``{{"name": "vamp", "components": K}}``
        (the VampPrior, Tomczak & Welling 2018).
    beta : float
        Weight of the KL term (1.0: the ELBO; Higgins et al. 2017 for beta > 1).
    kl_schedule : str, optional
        ``"warmup:STEPS"``, ``"cyclical:CYCLES:RATIO"`` (Fu et al. 2019) or
        ``"capacity:C_MAX:STEPS:GAMMA"`` (Burgess et al. 2018); None keeps beta constant.
    free_bits : float
        KL floor per latent dimension in nats (Kingma et al. 2016); 0 is off.
    objective : str
        ``"elbo"`` or ``"iwae"`` (Burda et al. 2016, with ``k`` samples).
    k : int
        Importance samples of the IWAE objective.
    gradient : str
        IWAE's gradient: ``"standard"`` or ``"dreg"`` (Tucker et al. 2019).
    tc_beta : float
        Weight of the total correlation (beta-TCVAE, Chen et al. 2018); 1.0 is the ELBO.
    stochastic_layers : int
        1, or 2 for Burda et al.'s two-layer model (z2 has latent_dim // 2 units).
    conditional : bool
        A conditional VAE (Sohn et al. 2015): ``fit(X, y)`` with class labels,
        one-hot rows or numeric attributes ``y``; the encoder and the decoder
        see the label, and ``transform``, ``reconstruct``, ``inverse_transform``,
        ``score_samples`` and ``sample`` take ``y`` (see
        :mod:`vaelab.estimators.conditional`).

    Attributes
    ----------
    module_ : VAEModel
    history_ : list of dict
        Per-epoch training (and validation) loss terms.
    input_shape_ : tuple of int
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

    def __init__(
        self,
        *,
        latent_dim: int = 16,
        network: str | dict[str, Any] | NetworkConfig = "mlp",
        likelihood: str | dict[str, Any] = "bernoulli",
        prior: str | dict[str, Any] = "standard_normal",
        beta: float = 1.0,
        kl_schedule: str | None = None,
        free_bits: float = 0.0,
        objective: str = "elbo",
        k: int = 5,
        gradient: str = "standard",
        tc_beta: float = 1.0,
        stochastic_layers: int = 1,
        conditional: bool = False,
        binarize: bool | str = False,
        epochs: int = 30,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        lr_schedule: str = "constant",
        validation_fraction: float = 0.1,
        patience: int | None = None,
        seed: int = 0,
        device: str = "auto",
        verbose: bool = False,
        trainer_options: dict[str, Any] | None = None,
    ) -> None:
        self.latent_dim = latent_dim
        self.network = network
        self.likelihood = likelihood
        self.prior = prior
        self.beta = beta
        self.kl_schedule = kl_schedule
        self.free_bits = free_bits
        self.objective = objective
        self.k = k
        self.gradient = gradient
        self.tc_beta = tc_beta
        self.stochastic_layers = stochastic_layers
        self.conditional = conditional
        self.binarize = binarize
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.seed = seed
        self.device = device
        self.verbose = verbose
        self.trainer_options = trainer_options

    def _validate_params(self, n: int) -> None:
        super()._validate_params(n)
        vae_options.check_vae_options(self)
        if not isinstance(self.conditional, bool):
            raise InputError(f"conditional must be True or False, got {self.conditional!r}")

    def _module_config(self, n_train: int = 0) -> VAEConfig:
        return vae_options.model_class(self).config_class(
            input_shape=self.input_shape_,
            latent_dim=self.latent_dim,
            network=self._network(),
            likelihood=self._likelihood_config(),
            prior=vae_options.prior_config(self),
            beta=float(self.beta),
            objective=vae_options.objective_config(self, n_train),
            condition_dim=self.condition_dim_,
        )

    def _build_module(self, n_train: int) -> VAEModel:
        return vae_options.model_class(self)(self._module_config(n_train))

    def _training_callbacks(self) -> list[Callback]:
        return list(vae_options.schedule_callbacks(self))

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
