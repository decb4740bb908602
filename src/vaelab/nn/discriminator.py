"""The discriminator of the VAE-GAN: a real/fake critic whose hidden layer is the similarity space.

``Discriminator(x)`` returns ``(logit, features)``: the logit (B,) of "x is a
data example" and the features (B, F) of its last hidden layer, Dis_l(x) in
Larsen et al. (2016), in which the VAE-GAN measures reconstruction error.

Images whose sides are divisible by 4 get a DCGAN-style stack (Radford et al.
2016): stride-2 convolutions (kernel 4, padding 1) with leaky ReLUs, then a
fully connected feature layer; anything else gets an MLP with leaky ReLUs.
The discriminator has no normalization layer, so its output for one example
does not depend on the rest of the batch.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

SLOPE = 0.2  # leaky ReLU slope of DCGAN discriminators


def _is_image(shape: tuple[int, ...], n_layers: int) -> bool:
    if len(shape) not in (2, 3):
        return False
    h, w = shape[-2:]
    return h % 2**n_layers == 0 and w % 2**n_layers == 0


class Discriminator(nn.Module):
    """(B, *input_shape) -> (logit (B,), features (B, feature_dim)).

    Parameters
    ----------
    input_shape : tuple of int
    channels : tuple of int
        Channels of the stride-2 convolutions (images) or widths of the hidden layers (vectors).
    feature_dim : int
        Width of the last hidden layer, the similarity space.
    """

    def __init__(self, input_shape: tuple[int, ...], channels: tuple[int, ...], feature_dim: int) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        layers: list[nn.Module] = []
        if _is_image(self.input_shape, len(channels)):
            c = 1 if len(self.input_shape) == 2 else self.input_shape[0]
            h, w = self.input_shape[-2:]
            self.image_shape: tuple[int, ...] | None = (c, h, w)
            for n_in, n_out in zip((c, *channels[:-1]), channels):
                layers += [nn.Conv2d(n_in, n_out, 4, 2, 1), nn.LeakyReLU(SLOPE)]
            flat = channels[-1] * (h // 2 ** len(channels)) * (w // 2 ** len(channels))
        else:
            self.image_shape = None
            flat = math.prod(self.input_shape)
            for n_in, n_out in zip((flat, *channels[:-1]), channels):
                layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(SLOPE)]
            flat = channels[-1]
        self.body = nn.Sequential(*layers)
        self.features = nn.Sequential(nn.Linear(flat, feature_dim), nn.LeakyReLU(SLOPE))
        self.head = nn.Linear(feature_dim, 1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        b = x.shape[0]
        h = self.body(x.reshape(b, *self.image_shape) if self.image_shape else x.reshape(b, -1))
        f = self.features(h.flatten(1))  # (B, feature_dim): Dis_l(x)
        return self.head(f).squeeze(1), f
