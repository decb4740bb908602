"""The torch modules of the encoder-decoder family, for users who write their own loops."""

from vaelab.models.autoencoder import AutoencoderConfig, AutoencoderModel
from vaelab.models.base import MODELS, Model, ModelOutput, config_from_dict, config_to_dict
from vaelab.models.pca import PCAConfig, PCAModel
from vaelab.models.vae import VAEConfig, VAEModel
from vaelab.models.vaegan import VAEGANConfig, VAEGANModel
from vaelab.models.hierarchical import TwoLayerVAEConfig, TwoLayerVAEModel  # noqa: I001 (after the VAE it extends)

__all__ = [
    "MODELS",
    "AutoencoderConfig",
    "AutoencoderModel",
    "Model",
    "ModelOutput",
    "PCAConfig",
    "PCAModel",
    "TwoLayerVAEConfig",
    "TwoLayerVAEModel",
    "VAEConfig",
    "VAEGANConfig",
    "VAEGANModel",
    "VAEModel",
    "config_from_dict",
    "config_to_dict",
]
