"""What every model of the family shares: its output type, configs and registry.

A model is a ``torch.nn.Module`` built from one frozen config dataclass that
round-trips through JSON (``config.json`` beside the weights). Every model
answers ``encode(x)`` with a posterior object, ``decode(z)`` with the
likelihood's parameters, and ``forward(x)`` with a :class:`ModelOutput`.
The trainer only ever calls ``forward`` and reads ``.loss`` and ``.terms()``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from torch import Tensor, nn

from vaelab.nn import NetworkConfig
from vaelab.registry import Registry

MODELS: Registry[type["Model"]] = Registry("model")

C = TypeVar("C")


@dataclass
class ModelOutput:
    """What ``forward`` returns; every loss term is a mean over the batch, in nats per example.

    Attributes
    ----------
    loss : Tensor, scalar
        The objective to minimize.
    reconstruction : Tensor, scalar
        -log p(x|z), the reconstruction term.
    kl : Tensor or None
        KL(q(z|x) || p(z)) (VAE only).
    z : Tensor of shape (B, D) or None
        The codes the decoder was run on.
    params : Tensor of shape (B, *param_shape) or None
        The decoder's output.
    extra : dict of str to Tensor
        Further named scalar terms a model may report (logged with the others).
    """

    loss: Tensor
    reconstruction: Tensor
    kl: Tensor | None = None
    z: Tensor | None = None
    params: Tensor | None = None
    extra: dict[str, Tensor] = field(default_factory=dict)

    def terms(self) -> dict[str, Tensor]:
        """The named scalar terms to log, ``loss`` first."""
        out = {"loss": self.loss, "reconstruction": self.reconstruction}
        if self.kl is not None:
            out["kl"] = self.kl
        out.update(self.extra)
        return out


def config_to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as plain JSON-able data (tuples become lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, NetworkConfig):
            return value.to_dict()
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(config)


def config_from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Rebuild a config dataclass from :func:`config_to_dict`'s output."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)} for {cls.__name__}; expected {sorted(names)}")
    values = dict(data)
    if "network" in values:
        values["network"] = NetworkConfig.from_dict(values["network"])
    if "input_shape" in values:
        values["input_shape"] = tuple(values["input_shape"])
    return cls(**values)


class Model(nn.Module):
    """Base class of the family's modules; subclasses set ``config_class``."""

    config_class: type = object

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.config.input_shape)

    def reconstruct(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        """Decode the posterior mean and return E[x|z]: (B, *input_shape) -> same shape.

        ``c`` (B, K) is the condition of a conditional model (None otherwise).
        """
        if c is None:
            return self.decode_mean(self.encode(x).mean)
        return self.decode_mean(self.encode(x, c).mean, c)

    def decode_mean(self, z: Tensor) -> Tensor:
        """E[x|z] for codes of shape (B, D), shape (B, *input_shape)."""
        raise NotImplementedError
