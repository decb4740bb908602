"""scikit-learn-style estimators over the encoder-decoder family."""

from vaelab.estimators.autoencoder import Autoencoder
from vaelab.estimators.base import ESTIMATORS, EncoderDecoderEstimator, load
from vaelab.estimators.neural import NeuralEstimator
from vaelab.estimators.pca import PCA
from vaelab.estimators.vae import VAE
from vaelab.estimators.vaegan import VAEGAN

__all__ = ["ESTIMATORS", "PCA", "VAE", "VAEGAN", "Autoencoder", "EncoderDecoderEstimator", "NeuralEstimator", "load"]

# TabularVAE lives with the tables; vaelab.load imports it when a saved model names it
ESTIMATORS.provide("TabularVAE", "vaelab.tabular.estimator")
