"""Multilayer perceptrons: the default network for vectors and small images."""

from __future__ import annotations

import math

from torch import Tensor, nn

from vaelab.nn.config import NETWORKS, NetworkConfig, activation


def _mlp(sizes: list[int], act: str) -> nn.Sequential:
    """Linear layers of the given sizes with ``act`` between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation(act))
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """Flatten, then hidden layers: (B, *input_shape) -> (B, out_dim)."""

    def __init__(self, input_shape: tuple[int, ...], hidden_dims: tuple[int, ...], out_dim: int, act: str) -> None:
        super().__init__()
        self.net = _mlp([math.prod(input_shape), *hidden_dims, out_dim], act)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x.flatten(1))  # (B, *S) -> (B, prod S) -> (B, out_dim)


class MLPDecoder(nn.Module):
    """Hidden layers, then reshape: (B, latent_dim) -> (B, *output_shape)."""

    def __init__(self, latent_dim: int, hidden_dims: tuple[int, ...], output_shape: tuple[int, ...], act: str) -> None:
        super().__init__()
        self.output_shape = tuple(output_shape)
        self.net = _mlp([latent_dim, *reversed(hidden_dims), math.prod(output_shape)], act)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.output_shape)


@NETWORKS.register("mlp")
class MLP:
    """Builds MLP encoders and decoders; the decoder mirrors the encoder's widths."""

    default_hidden_dims = (512,)

    @staticmethod
    def encoder(config: NetworkConfig, input_shape: tuple[int, ...], out_dim: int) -> nn.Module:
        return MLPEncoder(input_shape, config.hidden_dims, out_dim, config.activation)

    @staticmethod
    def decoder(config: NetworkConfig, latent_dim: int, output_shape: tuple[int, ...]) -> nn.Module:
        return MLPDecoder(latent_dim, config.hidden_dims, output_shape, config.activation)
