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

import inspect
from typing import Any

from vaelab.errors import InputError
from vaelab.estimators.base import ESTIMATORS
from vaelab.estimators.vae import VAE
from vaelab.models.vaegan import CRITIC_INPUTS, VAEGANConfig, VAEGANModel

OWN_DEFAULTS = {"discriminator_dims": (32, 64), "feature_dim": 256, "gamma": 1.0, "adversarial_weight": 1.0,
                "pixel_weight": 1.0, "discriminator_lr_scale": 1.0, "balance": True, "critic_input": "auto"}
CHANGED_VAE_DEFAULTS = {"validation_fraction": 0.0}


@ESTIMATORS.register("VAEGAN")
class VAEGAN(VAE):
    """A VAE-GAN (Larsen et al. 2016): a VAE whose reconstruction error is measured by a discriminator.

    Parameters
    ----------
    discriminator_dims : tuple of int, default (32, 64)
        Channels of the discriminator's stride-2 convolutions (or hidden widths for vectors).
    feature_dim : int, default 256
        Width of the discriminator's feature layer, where reconstructions are compared.
    gamma : float, default 1.0
        Weight of the feature reconstruction against the GAN loss in the decoder's loss.
    adversarial_weight : float, default 1.0
        Weight of the GAN term in the decoder's loss (1 in Larsen et al.; the pixel term it sits beside is a
        sum over pixels). A weight of 10 gave no reliable gain in 10-minute CPU runs on MNIST
        (benchmarks/sharpness.py, row vaegan-mlp-adv10: FDD 84.6 against 103.7 on one machine, 95.1 against
        93.1 on another) and cost 8-25 nats of ELBO.
    pixel_weight : float, default 1.0
        Weight of a pixel -log p(x|z) term added to the encoder's and decoder's losses (0: Larsen et al.).
    discriminator_lr_scale : float, default 1.0
        The discriminator's learning rate relative to ``learning_rate``.
    balance : bool, default True
        Pause the discriminator while it wins and the decoder's GAN term while it
        loses (Larsen et al.'s update rule; see :mod:`vaelab.models.vaegan`).
    critic_input : {"auto", "mean", "draw"}, default "auto"
        What the discriminator sees of a decoded batch: the means E[x|z] ("mean", Larsen et al.), or draws
        x ~ p(x|z) carrying the means' gradient ("draw", a straight-through estimate). "auto" is "draw" on
        binary data (``binarize="dynamic"``, or X of zeros and ones under a Bernoulli likelihood), where grey
        means beside binary digits are fake at a glance, and "mean" otherwise. On MNIST, draws lowered the
        FDD of prior samples from 103.7 to 84.2 (10 minutes, standard normal prior), from 13.9 to 11.5
        (10 minutes, VampPrior) and from 115.5 to 101.2 (3 minutes; benchmarks/sharpness.py).
    **VAE parameters
        Every parameter of :class:`~vaelab.VAE` (``validation_fraction``
        defaults to 0 here); ``conditional`` must stay False.

    Examples
    --------
    >>> import numpy as np
    >>> from vaelab.estimators.vaegan import VAEGAN
    >>> X = (np.random.default_rng(0).random((64, 10)) > 0.5).astype("float32")
    >>> VAEGAN(latent_dim=2, discriminator_dims=(16,), feature_dim=8, epochs=2, device="cpu").fit(X).sample(3, seed=0).shape
    (3, 10)
    """

    model_class = VAEGANModel

    def __init__(self, **params: Any) -> None:  # the signature is set below: the VAE's plus OWN_DEFAULTS
        own = {k: params.pop(k, v) for k, v in OWN_DEFAULTS.items()}
        VAE.__init__(self, **{**CHANGED_VAE_DEFAULTS, **params})
        for name, value in own.items():
            setattr(self, name, tuple(value) if isinstance(value, list) else value)  # JSON lists back to tuples

    def _validate_params(self, n: int) -> None:
        super()._validate_params(n)
        if self.conditional:
            raise InputError("VAEGAN is unconditional: conditional must be False")
        if self.critic_input not in ("auto", *CRITIC_INPUTS):
            raise InputError(f"critic_input must be 'auto', 'mean' or 'draw', got {self.critic_input!r}")
        if self.stochastic_layers != 1 or self.objective != "elbo":
            raise InputError(
                "VAEGAN trains one stochastic layer with its own three losses: stochastic_layers must be 1 and "
                f"objective 'elbo', got stochastic_layers={self.stochastic_layers!r}, objective={self.objective!r}"
            )
        if self.free_bits != 0.0 or self.tc_beta != 1.0:
            raise InputError(
                "VAEGAN's losses weight the KL term by beta (and kl_schedule) only: free_bits must be 0 and tc_beta 1, "
                f"got free_bits={self.free_bits!r}, tc_beta={self.tc_beta!r}"
            )

    def _check_data(self, X: Any, name: str) -> None:
        super()._check_data(X, name)
        if name == "X" or name.startswith("the first batch of train"):  # what "auto" decides on
            from vaelab.metrics.discrete import is_binary

            self._binary_data = bool(is_binary(X))

    def _critic_input(self) -> str:
        if self.critic_input != "auto":
            return str(self.critic_input)
        binary_data = getattr(self, "_binary_data", False) and self._likelihood_config()["name"] == "bernoulli"
        binary = bool(self.binarize) or binary_data
        return "draw" if binary else "mean"

    def _build_module(self, n_train: int) -> VAEGANModel:
        return VAEGANModel(self._module_config(n_train))

    def _module_config(self, n_train: int = 0) -> VAEGANConfig:
        base = super()._module_config(n_train)
        return VAEGANConfig(
            **{f: getattr(base, f) for f in base.__dataclass_fields__},
            discriminator_dims=tuple(self.discriminator_dims),
            feature_dim=int(self.feature_dim),
            gamma=float(self.gamma),
            adversarial_weight=float(self.adversarial_weight),
            pixel_weight=float(self.pixel_weight),
            discriminator_lr_scale=float(self.discriminator_lr_scale),
            balance=bool(self.balance),
            critic_input=self._critic_input(),
        )


def _signature() -> inspect.Signature:
    """``VAEGAN.__init__``'s signature as scikit-learn reads it: keyword-only, the VAE's parameters and its own."""
    vae = inspect.signature(VAE.__init__).parameters.values()
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [p.replace(default=CHANGED_VAE_DEFAULTS.get(p.name, p.default)) for p in vae if p.name != "self"]
    params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in OWN_DEFAULTS.items()]
    return inspect.Signature(params)


VAEGAN.__init__.__signature__ = _signature()  # type: ignore[attr-defined]
