"""Several optimizers for one model: the protocol a model uses to declare them, and their checkpointable set.

Most models are trained by one optimizer on one loss. A model with several
players (the VAE-GAN's encoder, decoder and discriminator; Larsen et al. 2016)
declares them instead, and the trainer stays model-agnostic:

- ``model.optimizer_groups()`` returns ``{name: {"params": [...], **options}}``
  in step order; options are ``lr_scale`` (times the trainer's learning rate)
  and ``betas`` (Adam's); every group gets its own optimizer of the trainer's kind;
- ``model.group_losses(output)`` returns ``{name: loss}`` from the output of
  one forward pass. Each optimizer's parameters are moved by the gradient of
  their own loss alone (``torch.autograd.grad``, so one player's loss never
  leaks gradients into another's parameters); the optimizers then step, in
  the declared order. A group left out of ``group_losses`` pauses for that
  step (its model's update rule: a GAN's winning player, say).

:class:`OptimizerSet` looks like one optimizer to the checkpoint code: its
state dict is the optimizers' state dicts joined (parameter ids offset, each
parameter group tagged with its optimizer's name), so a checkpoint stores
every optimizer and a resumed run continues bit-identically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor, nn

from vaelab.errors import InputError


def has_optimizer_groups(module: Any) -> bool:
    """Whether ``module`` declares several optimizers (the protocol above)."""
    return callable(getattr(module, "optimizer_groups", None)) and callable(getattr(module, "group_losses", None))


class OptimizerSet:
    """Named optimizers, one per declared group, stepped in order.

    Parameters
    ----------
    groups : dict of str to dict
        ``{name: {"params": [...], "lr_scale": float, "betas": (b1, b2)}}``.
    make : callable
        ``make(params) -> torch.optim.Optimizer`` (the trainer's optimizer factory).
    base_lr : float
        The trainer's learning rate; group ``g`` runs at ``base_lr * lr_scale_g``.
    module : nn.Module, optional
        The model: every trainable parameter of it must be in a group.
    """

    def __init__(self, groups: dict[str, dict[str, Any]], make: Callable[[list[nn.Parameter]], torch.optim.Optimizer],
                 base_lr: float, module: nn.Module | None = None) -> None:
        if not groups:
            raise InputError("optimizer_groups() returned no groups; a model declares at least one")
        self.names = list(groups)
        self.params: dict[str, list[nn.Parameter]] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        seen: set[int] = set()
        for name, spec in groups.items():
            params = [p for p in spec["params"] if p.requires_grad]
            if any(id(p) in seen for p in params):
                raise InputError(f"optimizer group {name!r} shares parameters with an earlier group")
            seen.update(id(p) for p in params)
            opt = make(params)
            for group in opt.param_groups:
                group["lr_scale"] = float(spec.get("lr_scale", 1.0))
                group["lr"] = base_lr * group["lr_scale"]
                if "betas" in spec and "betas" in group:
                    group["betas"] = tuple(spec["betas"])
            self.params[name], self.optimizers[name] = params, opt
        if module is not None:
            left = [n for n, p in module.named_parameters() if p.requires_grad and id(p) not in seen]
            if left:
                raise InputError(
                    f"{type(module).__name__}.optimizer_groups() leaves trainable parameters out of every group, "
                    f"so they would never train: {', '.join(left[:5])}{' ...' if len(left) > 5 else ''}; put each "
                    "in the group whose loss it enters, or set requires_grad=False"
                )

    def items(self) -> Iterator[tuple[str, torch.optim.Optimizer]]:
        return iter(self.optimizers.items())

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """Every optimizer's parameter groups (the same dicts: setting ``lr`` there sets it)."""
        return [g for opt in self.optimizers.values() for g in opt.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=set_to_none)

    def backward(self, losses: dict[str, Tensor], weight: float = 1.0, grad_clip: float | None = None) -> None:
        """Set each group's gradients to those of its own loss (times ``weight``), optionally clipped."""
        unknown = [n for n in losses if n not in self.names]
        if unknown or not losses:
            raise InputError(f"group_losses() returned losses for {sorted(losses)}; the groups are {self.names}")
        active = [n for n in self.names if n in losses]  # a group left out pauses this step (no gradient, no step)
        for i, name in enumerate(active):
            params = self.params[name]
            loss = losses[name] if weight == 1.0 else losses[name] * weight
            grads = torch.autograd.grad(loss, params, retain_graph=i < len(active) - 1, allow_unused=True)
            for p, g in zip(params, grads):
                p.grad = g
            if grad_clip:
                nn.utils.clip_grad_norm_(params, grad_clip)

    def step(self) -> None:
        for name in self.names:
            self.optimizers[name].step()

    # ------------------------------------------------------------ checkpoint

    def state_dict(self) -> dict[str, Any]:
        """One optimizer-like state dict: parameter ids offset per optimizer, groups tagged ``optimizer``."""
        state: dict[int, Any] = {}
        param_groups: list[dict[str, Any]] = []
        offset = 0
        for name, opt in self.optimizers.items():
            sd = opt.state_dict()
            state.update({pid + offset: s for pid, s in sd["state"].items()})
            for group in sd["param_groups"]:
                param_groups.append({**group, "params": [p + offset for p in group["params"]], "optimizer": name})
            offset += sum(len(g["params"]) for g in sd["param_groups"])
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        names = {g.get("optimizer") for g in groups}
        if names != set(self.names):
            raise InputError(f"the checkpoint holds optimizers {sorted(map(str, names))}, this model has {self.names}")
        offset = 0
        for name, opt in self.optimizers.items():
            mine = [g for g in groups if g["optimizer"] == name]
            ids = [p for g in mine for p in g["params"]]
            own = {
                "state": {pid - offset: s for pid, s in state_dict["state"].items() if pid in set(ids)},
                "param_groups": [{k: v for k, v in g.items() if k != "optimizer"} | {"params": [p - offset for p in g["params"]]}
                                 for g in mine],
            }
            opt.load_state_dict(own)
            offset += len(ids)
