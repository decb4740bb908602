"""Convolutional encoders and decoders for images (B, C, H, W) or (B, H, W).

Each hidden entry is one stride-2 convolution (kernel 4, padding 1) that
halves the height and width, the DCGAN-style stack used by most VAE papers on
small images; the decoder mirrors it with transposed convolutions.
"""

from __future__ import annotations

from torch import Tensor, nn

from vaelab.errors import InputError
from vaelab.nn.config import NETWORKS, NetworkConfig, activation

KERNEL, STRIDE, PADDING = 4, 2, 1  # halves H and W exactly when they are even


def _image_shape(shape: tuple[int, ...], what: str, n_layers: int) -> tuple[int, int, int]:
    """(H, W) or (C, H, W) -> (C, H, W), checking that the stride-2 layers fit."""
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3:
        raise InputError(
            f"the conv network needs images of shape (H, W) or (C, H, W) per example, but the {what} shape is "
            f"{tuple(shape)}; use network='mlp' for vectors"
        )
    c, h, w = shape
    factor = 2**n_layers
    if h % factor or w % factor:
        raise InputError(
            f"the conv network with {n_layers} stride-2 layers needs height and width divisible by {factor}, "
            f"got {h}x{w}; use fewer hidden_dims or pad the images"
        )
    return c, h, w


class ConvEncoder(nn.Module):
    """(B, [C,] H, W) -> (B, out_dim)."""

    def __init__(self, input_shape: tuple[int, ...], channels: tuple[int, ...], out_dim: int, act: str) -> None:
        super().__init__()
        c, h, w = _image_shape(input_shape, "input", len(channels))
        self.image_shape = (c, h, w)
        layers: list[nn.Module] = []
        for n_in, n_out in zip((c, *channels[:-1]), channels):
            layers += [nn.Conv2d(n_in, n_out, KERNEL, STRIDE, PADDING), activation(act)]
        self.conv = nn.Sequential(*layers)
        scale = 2 ** len(channels)
        self.head = nn.Linear(channels[-1] * (h // scale) * (w // scale), out_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], *self.image_shape)  # (B, C, H, W)
        return self.head(self.conv(x).flatten(1))  # (B, C_L, H/2^L, W/2^L) -> (B, out_dim)


class ConvDecoder(nn.Module):
    """(B, latent_dim) -> (B, *output_shape), mirroring :class:`ConvEncoder`."""

    def __init__(self, latent_dim: int, channels: tuple[int, ...], output_shape: tuple[int, ...], act: str) -> None:
        super().__init__()
        c, h, w = _image_shape(output_shape, "output", len(channels))
        self.output_shape = tuple(output_shape)
        scale = 2 ** len(channels)
        self.start_shape = (channels[-1], h // scale, w // scale)
        self.head = nn.Sequential(nn.Linear(latent_dim, channels[-1] * (h // scale) * (w // scale)), activation(act))
        rev = tuple(reversed(channels))
        layers: list[nn.Module] = []
        for n_in, n_out in zip(rev[:-1], rev[1:]):
            layers += [nn.ConvTranspose2d(n_in, n_out, KERNEL, STRIDE, PADDING), activation(act)]
        layers.append(nn.ConvTranspose2d(rev[-1], c, KERNEL, STRIDE, PADDING))  # raw parameters, no activation
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        x = self.head(z).view(z.shape[0], *self.start_shape)
        return self.deconv(x).reshape(z.shape[0], *self.output_shape)


@NETWORKS.register("conv")
class Conv:
    """Builds convolutional encoders and decoders."""

    default_hidden_dims = (32, 64)
    condition_mode = "channels"  # a condition c enters the encoder as extra constant channels

    @staticmethod
    def encoder(config: NetworkConfig, input_shape: tuple[int, ...], out_dim: int) -> nn.Module:
        return ConvEncoder(input_shape, config.hidden_dims, out_dim, config.activation)

    @staticmethod
    def decoder(config: NetworkConfig, latent_dim: int, output_shape: tuple[int, ...]) -> nn.Module:
        return ConvDecoder(latent_dim, config.hidden_dims, output_shape, config.activation)
