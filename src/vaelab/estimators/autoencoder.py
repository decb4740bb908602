"""The deterministic autoencoder as a scikit-learn-style estimator: the non-linear baseline of the family."""

from __future__ import annotations

from typing import Any

from vaelab.estimators.base import ESTIMATORS
from vaelab.estimators.neural import _COMMON_DOC, NeuralEstimator
from vaelab.models.autoencoder import AutoencoderConfig, AutoencoderModel
from vaelab.nn import NetworkConfig


@ESTIMATORS.register("Autoencoder")
class Autoencoder(NeuralEstimator):
    __doc__ = f"""A deterministic autoencoder, the non-linear baseline.

    Trained to maximize log p(x | decoder(encoder(x))); with the default
    Gaussian likelihood of unit scale that is the squared error.

    Parameters
    ----------{_COMMON_DOC}
    Attributes
    ----------
    module_ : AutoencoderModel
    history_ : list of dict
        Per-epoch training (and validation) loss terms.
    input_shape_ : tuple of int

    Examples
    --------
    >>> import numpy as np
    >>> from vaelab import Autoencoder
    >>> X = np.random.default_rng(0).random((64, 10)).astype("float32")
    >>> ae = Autoencoder(latent_dim=2, epochs=2, device="cpu").fit(X)
    >>> ae.transform(X).shape
    (64, 2)
    """

    model_class = AutoencoderModel

    def __init__(
        self,
        *,
        latent_dim: int = 16,
        network: str | dict[str, Any] | NetworkConfig = "mlp",
        likelihood: str | dict[str, Any] = "gaussian",
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

    def _module_config(self) -> AutoencoderConfig:
        return AutoencoderConfig(
            input_shape=self.input_shape_,
            latent_dim=self.latent_dim,
            network=self._network(),
            likelihood=self._likelihood_config(),
        )


