"""Encoder and decoder networks, built from a :class:`NetworkConfig`.

An encoder maps a batch of inputs (B, *input_shape) to features (B, out_dim);
a decoder maps codes (B, latent_dim) to the likelihood's parameters
(B, *output_shape). The model decides what the features mean (a code, or the
mean and log-variance of a posterior); the network only has the shapes.
"""

from vaelab.nn.config import ACTIVATIONS, NETWORKS, NetworkConfig, build_decoder, build_encoder
from vaelab.nn.conv import ConvDecoder, ConvEncoder
from vaelab.nn.mlp import MLPDecoder, MLPEncoder

__all__ = [
    "ACTIVATIONS",
    "NETWORKS",
    "ConvDecoder",
    "ConvEncoder",
    "MLPDecoder",
    "MLPEncoder",
    "NetworkConfig",
    "build_decoder",
    "build_encoder",
]
