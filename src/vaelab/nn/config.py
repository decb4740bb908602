"""The network configuration and the registry of network kinds."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from torch import nn

from vaelab.errors import InputError
from vaelab.registry import Registry, unknown_name_message

NETWORKS: Registry[type] = Registry("network")
NORMS = ("none", "batch", "group")

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
}


def activation(name: str) -> nn.Module:
    """A fresh activation module by name."""
    if name not in ACTIVATIONS:
        raise InputError(unknown_name_message("activation", name, sorted(ACTIVATIONS)))
    return ACTIVATIONS[name]()


@dataclass(frozen=True)
class NetworkConfig:
    """The architecture of an encoder/decoder pair.

    Parameters
    ----------
    kind : str
        A registered network kind: ``"mlp"`` or ``"conv"``.
    hidden_dims : tuple of int
        Widths of the hidden layers (MLP) or channels of the stride-2
        convolutions (conv), listed from the input side; the decoder mirrors
        them. None takes the kind's default: (512,) for MLP, (32, 64) for conv.
    activation : str
        Name of the non-linearity between layers (one of ``ACTIVATIONS``).
    norm : str
        Normalization after each hidden convolution: ``"none"``, ``"batch"``
        (BatchNorm2d) or ``"group"`` (GroupNorm, 8 groups or fewer). Conv only.
    """

    kind: str = "mlp"
    hidden_dims: tuple[int, ...] | None = None
    activation: str = "relu"
    norm: str = "none"

    def __post_init__(self) -> None:
        builder = NETWORKS.get(self.kind)  # fails early with the list of valid kinds
        if self.activation not in ACTIVATIONS:
            raise InputError(unknown_name_message("activation", self.activation, sorted(ACTIVATIONS)))
        if self.norm not in NORMS:
            raise InputError(unknown_name_message("norm", self.norm, list(NORMS)))
        if self.norm != "none" and not getattr(builder, "supports_norm", False):
            raise InputError(f"norm={self.norm!r} applies to the conv network; the {self.kind} network has none")
        if self.hidden_dims is None:
            object.__setattr__(self, "hidden_dims", builder.default_hidden_dims)
        if isinstance(self.hidden_dims, int):
            object.__setattr__(self, "hidden_dims", (self.hidden_dims,))
        dims = tuple(self.hidden_dims)
        if not all(isinstance(d, int) and d >= 1 for d in dims):
            raise InputError(f"hidden_dims must be positive integers, got {self.hidden_dims!r}")
        object.__setattr__(self, "hidden_dims", dims)

    def to_dict(self) -> dict[str, Any]:
        out = {**asdict(self), "hidden_dims": list(self.hidden_dims)}
        if self.norm == "none":
            del out["norm"]  # configs saved before the option existed stay identical
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "NetworkConfig":
        unknown = set(data) - {"kind", "hidden_dims", "activation", "norm"}
        if unknown:
            raise InputError(f"unknown network options {sorted(unknown)}; valid: kind, hidden_dims, activation, norm")
        dims = data.get("hidden_dims")
        return cls(
            kind=data.get("kind", "mlp"),
            hidden_dims=None if dims is None else tuple(dims) if not isinstance(dims, int) else (dims,),
            activation=data.get("activation", "relu"),
            norm=data.get("norm", "none"),
        )

    @classmethod
    def build(cls, spec: "str | dict[str, Any] | NetworkConfig") -> "NetworkConfig":
        """From a kind name (``"mlp"``), a dict of fields or a config."""
        if isinstance(spec, NetworkConfig):
            return spec
        if isinstance(spec, str):
            return cls(kind=spec)
        if isinstance(spec, dict):
            return cls.from_dict(spec)
        raise InputError(f"network must be a name ('mlp', 'conv'), a dict or a NetworkConfig, got {spec!r}")


def build_encoder(config: NetworkConfig, input_shape: tuple[int, ...], out_dim: int) -> nn.Module:
    """Encoder network: (B, *input_shape) -> (B, out_dim)."""
    return NETWORKS.get(config.kind).encoder(config, tuple(input_shape), out_dim)


def build_decoder(config: NetworkConfig, latent_dim: int, output_shape: tuple[int, ...]) -> nn.Module:
    """Decoder network: (B, latent_dim) -> (B, *output_shape)."""
    return NETWORKS.get(config.kind).decoder(config, latent_dim, tuple(output_shape))
