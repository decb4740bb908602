"""Conditioning an encoder and a decoder on a vector c (Sohn et al. 2015, the conditional VAE).

The condition c is a float tensor of shape (B, condition_dim): a one-hot class
label, or a numeric attribute vector. The encoder sees x together with c, the
decoder sees the concatenation (z, c):

- for vector networks (MLP, and any network kind without a ``condition_mode``)
  c is concatenated to the flattened input: (B, prod S) -> (B, prod S + K);
- for convolutional networks (``condition_mode = "channels"``) c is broadcast
  over the image as K extra channels: (B, C, H, W) -> (B, C + K, H, W);
- every decoder gets (B, D + K) codes, so it needs no change at all.

The wrappers below build the inner network of the registered kind on the
enlarged input, so every network kind can be conditioned without a copy.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from vaelab.errors import InputError
from vaelab.nn.config import NETWORKS, NetworkConfig, build_decoder, build_encoder


def check_condition(c: Tensor | None, condition_dim: int, batch: int) -> Tensor | None:
    """Check ``c`` against a model's ``condition_dim`` and the batch size; returns it (or None).

    Raises
    ------
    InputError
        If a conditional model (``condition_dim > 0``) gets no ``c``, an
        unconditional one gets a ``c``, or ``c`` is not a float tensor of shape
        (batch, condition_dim).
    """
    if condition_dim == 0:
        if c is not None:
            raise InputError(
                "c was given, but this model is unconditional (condition_dim=0); "
                "build it with condition_dim > 0 to condition on labels, or call it without c"
            )
        return None
    if c is None:
        raise InputError(
            f"this model is conditional (condition_dim={condition_dim}) and needs c, a float tensor of shape "
            f"(batch, {condition_dim}) (one-hot labels or attributes); got c=None"
        )
    if not isinstance(c, Tensor) or not c.is_floating_point() or c.shape != (batch, condition_dim):
        got = f"{c.dtype} tensor of shape {tuple(c.shape)}" if isinstance(c, Tensor) else type(c).__name__
        raise InputError(f"c must be a float tensor of shape ({batch}, {condition_dim}), got a {got}")
    return c


def _channels_shape(input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(H, W) or (C, H, W) -> (C, H, W)."""
    if len(input_shape) == 2:
        return (1, *input_shape)
    if len(input_shape) == 3:
        return tuple(input_shape)  # type: ignore[return-value]
    raise InputError(
        f"a conditional conv network needs images of shape (H, W) or (C, H, W), got {tuple(input_shape)}; "
        "use network='mlp' for vectors"
    )


class ConditionedEncoder(nn.Module):
    """(B, *input_shape), (B, K) -> (B, out_dim): the kind's encoder on x joined with c."""

    def __init__(self, config: NetworkConfig, input_shape: tuple[int, ...], out_dim: int, condition_dim: int) -> None:
        super().__init__()
        self.mode = getattr(NETWORKS.get(config.kind), "condition_mode", "flat")
        self.condition_dim = condition_dim
        if self.mode == "channels":
            c, h, w = _channels_shape(tuple(input_shape))
            self.image_shape = (c, h, w)
            inner_shape: tuple[int, ...] = (c + condition_dim, h, w)
        else:
            inner_shape = (math.prod(input_shape) + condition_dim,)
        self.net = build_encoder(config, inner_shape, out_dim)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        b = x.shape[0]
        if self.mode == "channels":
            x = x.reshape(b, *self.image_shape)  # (B, C, H, W)
            maps = c.to(x.dtype)[:, :, None, None].expand(b, self.condition_dim, *self.image_shape[1:])
            return self.net(torch.cat([x, maps], dim=1))  # (B, C + K, H, W) -> (B, out_dim)
        return self.net(torch.cat([x.flatten(1), c.to(x.dtype)], dim=1))  # (B, prod S + K) -> (B, out_dim)


class ConditionedDecoder(nn.Module):
    """(B, D), (B, K) -> (B, *output_shape): the kind's decoder on concat(z, c)."""

    def __init__(self, config: NetworkConfig, latent_dim: int, output_shape: tuple[int, ...], condition_dim: int) -> None:
        super().__init__()
        self.net = build_decoder(config, latent_dim + condition_dim, output_shape)

    def forward(self, z: Tensor, c: Tensor) -> Tensor:
        return self.net(torch.cat([z, c.to(z.dtype)], dim=1))  # (B, D + K) -> (B, *output_shape)
