"""scikit-learn-style estimators over the encoder-decoder family.

Importing this package loads no estimator: each class (and with it torch and
scikit-learn) is imported the first time its name is used (PEP 562), so that
the command line can read the parameter declarations (:mod:`.params`) alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab._lazy import lazy_exports

__all__ = ["ESTIMATORS", "PCA", "VAE", "VAEGAN", "Autoencoder", "EncoderDecoderEstimator", "NeuralEstimator", "load"]

_WHERE = {
    "ESTIMATORS": "base",
    "EncoderDecoderEstimator": "base",
    "load": "base",
    "NeuralEstimator": "neural",
    "PCA": "pca",
    "Autoencoder": "autoencoder",
    "VAE": "vae",
    "VAEGAN": "vaegan",
}

if TYPE_CHECKING:  # for type checkers and IDEs: the names are real
    from vaelab.estimators.autoencoder import Autoencoder
    from vaelab.estimators.base import ESTIMATORS, EncoderDecoderEstimator, load
    from vaelab.estimators.neural import NeuralEstimator
    from vaelab.estimators.pca import PCA
    from vaelab.estimators.vae import VAE
    from vaelab.estimators.vaegan import VAEGAN

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
