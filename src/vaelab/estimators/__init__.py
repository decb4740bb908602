"""scikit-learn-style estimators over the encoder-decoder family."""

from vaelab.estimators.base import ESTIMATORS, EncoderDecoderEstimator, load
from vaelab.estimators.neural import Autoencoder, NeuralEstimator, VAE
from vaelab.estimators.pca import PCA
from vaelab.estimators.vaegan import VAEGAN

__all__ = ["ESTIMATORS", "PCA", "VAE", "VAEGAN", "Autoencoder", "EncoderDecoderEstimator", "NeuralEstimator", "load"]

# registers TabularVAE and the "mixed" likelihood (the module imports no pandas; vaelab.TabularVAE is lazy)
from vaelab.tabular import estimator as _tabular  # noqa: E402,F401
