"""The VAE-GAN as an estimator: the VAE's parameters plus the discriminator's and the loss weights.

``VAEGAN`` is the :class:`~vaelab.estimators.vae.VAE` estimator with another
model class (:class:`~vaelab.models.vaegan.VAEGANModel`); it adds only its own
parameters. ``transform``, ``sample``, ``score_samples`` (the pixel ELBO, for
comparison with VAEs; the VAE-GAN does not maximize it), saving and loading
are the VAE's.

Defaults, chosen on MNIST: the discriminator of two stride-2 convolutions
(32, 64) and a 256-d feature layer, gamma = 1, the balance of the players on,
Adam with betas (0.5, 0.999) for all three players at the estimator's
learning rate (1e-3), no validation split (the GAN's loss does not say when
to stop), a pixel term of weight 1 beside the feature reconstruction, and a
critic that sees binary draws on binary data (``critic_input="auto"``).
Larsen et al. use no pixel term; without it, in 2-minute CPU runs on MNIST
(benchmarks/sharpness.py, row vaegan-nopixel) the discriminator's features
are still too weak to carry the reconstruction, the KL term wins and the
code collapses (KL near 0.2 nats, recall 0); with it the same runs keep a
24-nat code and reach a recall near that of the VAEs.
"""

from __future__ import annotations

from typing import Any

from vaelab.estimators.base import ESTIMATORS
from vaelab.estimators.vae import VAE
from vaelab.estimators.params import VAEGAN_FIXED, VAEGAN_PARAMS
from vaelab.models.vaegan import VAEGANConfig, VAEGANModel
from vaelab.params import declared


@ESTIMATORS.register("VAEGAN")
@declared(VAEGAN_PARAMS)
class VAEGAN(VAE):
    """A VAE-GAN (Larsen et al. 2016): a VAE whose reconstruction error is measured by a discriminator.

    Its parameters are the VAE's (``validation_fraction`` defaults to 0 here) without the
    objective options its three losses do not use (``free_bits``, ``objective``, ``k``,
    ``gradient``, ``tc_beta``, ``stochastic_layers``, ``conditional``: one stochastic
    layer, the ELBO's terms weighted by ``beta``, unconditional), plus the discriminator's.
    An ``adversarial_weight`` of 10 gave no reliable gain in 10-minute CPU runs on MNIST
    (benchmarks/sharpness.py, row vaegan-mlp-adv10: FDD 84.6 against 103.7 on one machine,
    95.1 against 93.1 on another) and cost 8-25 nats of ELBO. ``critic_input="draw"``
    lowered the FDD of prior samples on MNIST from 103.7 to 84.2 (10 minutes, standard normal
    prior), from 13.9 to 11.5 (10 minutes, VampPrior) and from 115.5 to 101.2 (3 minutes;
    benchmarks/sharpness.py), which is why "auto" draws on binary data, where grey means
    beside binary digits are fake at a glance.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> import numpy as np
    >>> from vaelab.estimators.vaegan import VAEGAN
    >>> X = (np.random.default_rng(0).random((64, 10)) > 0.5).astype("float32")
    >>> VAEGAN(latent_dim=2, discriminator_dims=(16,), feature_dim=8, epochs=2, device="cpu").fit(X).sample(3, seed=0).shape
    (3, 10)
    """

    model_class = VAEGANModel
    retired_params = VAEGAN_FIXED  # saved by versions that listed them as (refused) parameters
    # the VAE's options that are not the VAE-GAN's parameters, at the values its losses imply
    free_bits, objective, k, gradient, tc_beta, stochastic_layers, conditional = (
        VAEGAN_FIXED[name] for name in ("free_bits", "objective", "k", "gradient", "tc_beta", "stochastic_layers",
                                        "conditional")
    )

    def _options(self, checked: dict[str, Any]) -> dict[str, Any]:
        return {**checked, **VAEGAN_FIXED}

    def _check_data(self, X: Any, name: str) -> None:
        super()._check_data(X, name)
        if name == "X" or name.startswith("the first batch of train"):  # what "auto" decides on
            from vaelab.metrics.discrete import is_binary

            self._binary_data = bool(is_binary(X))

    def _critic_input(self) -> str:
        choice = self._checked["critic_input"]
        if choice != "auto":
            return choice
        binary_data = getattr(self, "_binary_data", False) and self._likelihood_config()["name"] == "bernoulli"
        binary = self._checked["binarize"] == "dynamic" or binary_data
        return "draw" if binary else "mean"

    def _build_module(self, n_train: int) -> VAEGANModel:
        return VAEGANModel(self._module_config(n_train))

    def _module_config(self, n_train: int = 0) -> VAEGANConfig:
        base = super()._module_config(n_train)
        checked = self._checked
        return VAEGANConfig(
            **{f: getattr(base, f) for f in base.__dataclass_fields__},
            discriminator_dims=checked["discriminator_dims"],
            feature_dim=checked["feature_dim"],
            gamma=checked["gamma"],
            adversarial_weight=checked["adversarial_weight"],
            pixel_weight=checked["pixel_weight"],
            discriminator_lr_scale=checked["discriminator_lr_scale"],
            balance=checked["balance"],
            critic_input=self._critic_input(),
        )
