"""What every model of the family shares: its configs, registry and base class.

A model is a ``torch.nn.Module`` built from one frozen config dataclass that
round-trips through JSON (``config.json`` beside the weights). Every model
answers ``encode(x)`` with a posterior object, ``decode(z)`` with the
likelihood's parameters, and ``forward(x)`` with a :class:`ModelOutput`.
The trainer only ever calls ``forward`` and reads ``.loss`` and ``.terms()``.
``ModelOutput`` lives below the objectives, in :mod:`vaelab.model_output`;
it is re-exported here and from :mod:`vaelab.models`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from torch import Tensor, nn

from vaelab.model_output import ModelOutput
from vaelab.nn import NetworkConfig
from vaelab.registry import Registry

__all__ = ["MODELS", "Model", "ModelOutput", "config_from_dict", "config_to_dict"]

MODELS: Registry[type["Model"]] = Registry("model")

C = TypeVar("C")


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
