"""The deterministic autoencoder as a scikit-learn-style estimator: the non-linear baseline of the family."""

from __future__ import annotations

from vaelab.estimators.base import ESTIMATORS
from vaelab.estimators.neural import NeuralEstimator
from vaelab.estimators.params import AUTOENCODER_PARAMS
from vaelab.models.autoencoder import AutoencoderConfig, AutoencoderModel
from vaelab.params import declared


@ESTIMATORS.register("Autoencoder")
@declared(AUTOENCODER_PARAMS)
class Autoencoder(NeuralEstimator):
    """A deterministic autoencoder, the non-linear baseline.

    Trained to maximize log p(x | decoder(encoder(x))); with a Gaussian
    likelihood of unit scale that is the squared error.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    module_ : AutoencoderModel
    history_ : list of dict
        Per-epoch training (and validation) loss terms.
    input_shape_ : tuple of int
    likelihood_ : str
        The likelihood fitted (``likelihood="auto"`` decided from the data).

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

    def _module_config(self) -> AutoencoderConfig:
        return AutoencoderConfig(
            input_shape=self.input_shape_,
            latent_dim=self._checked["latent_dim"],
            network=self._network(),
            likelihood=self._likelihood_config(),
        )
