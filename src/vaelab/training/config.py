"""The trainer's configuration and state: hyperparameters, the position of a run, the optimizer and the step size.

``TrainerConfig`` is JSON round-trippable and checked on construction;
``TrainState`` is what a checkpoint stores of where a run is. Both are
re-exported by :mod:`vaelab.training`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from vaelab.errors import InputError

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
LR_SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainerConfig:
    """Hyperparameters of the optimization; JSON round-trippable.

    Parameters
    ----------
    epochs : int
        Passes over the training data.
    learning_rate : float
    lr_schedule : str
        ``"constant"``, or ``"cosine"``: the learning rate falls along a half
        cosine from ``learning_rate`` at the first step to 0 after the last
        step of ``epochs`` (Loshchilov & Hutter 2017, without restarts). It is
        a function of the step alone, so a resumed run follows the same curve.
    optimizer : str
        ``"adam"`` or ``"adamw"``.
    weight_decay : float
    patience : int or None
        Stop after this many epochs without improvement of the validation
        loss (needs validation data); None trains all epochs.
    restore_best : bool
        At the end, load the weights of the best validation epoch.
    seed : int
        Seeds the weights' noise, the data order and the batch randomness.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    amp : bool
        Mixed precision on CUDA (bfloat16 where supported, else float16 with
        loss scaling); ignored elsewhere.
    grad_clip : float or None
        Clip the gradient norm to this value.
    checkpoint_every_steps : int or None
        Also checkpoint every this many steps (checkpoints are always written
        at the end of each epoch when a checkpoint folder is given).
    fused : bool
        Run the optimizer as one fused kernel where torch supports it (else
        ``foreach``); False runs torch's plain per-parameter loop.
    compile : bool
        Run the forward pass through ``torch.compile``. It pays on GPUs and
        large models; on a small model on a few CPU cores it costs more
        compile time than it saves (see benchmarks/README.md).
    flush_denormal : bool
        On the CPU, flush denormal floats (below 1.2e-38) to zero while
        training: mixture priors and softmax heads produce them late in
        training, and they make every operation on them slow (a VampPrior
        step ran 1.3-1.45x faster flushed). See
        :func:`vaelab._runtime.denormals_flushed`.
    """

    epochs: int = 30
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"
    optimizer: str = "adam"
    weight_decay: float = 0.0
    patience: int | None = None
    restore_best: bool = True
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    grad_clip: float | None = None
    checkpoint_every_steps: int | None = None
    fused: bool = True
    compile: bool = False
    flush_denormal: bool = True

    def __post_init__(self) -> None:
        if not (isinstance(self.epochs, int) and self.epochs >= 1):
            raise InputError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not self.learning_rate > 0:
            raise InputError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise InputError(f"lr_schedule must be one of {list(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.patience is not None and self.patience < 1:
            raise InputError(f"patience must be None or >= 1, got {self.patience!r}")
        if self.checkpoint_every_steps is not None and self.checkpoint_every_steps < 1:
            raise InputError(f"checkpoint_every_steps must be None or >= 1, got {self.checkpoint_every_steps!r}")


@dataclass
class TrainState:
    """Where a run is: saved in every checkpoint as JSON."""

    epoch: int = 0  # epochs completed
    step: int = 0  # optimizer steps taken
    batch: int = 0  # batches done in the current epoch
    best_valid: float = math.inf
    bad_epochs: int = 0
    stopped_early: bool = False
    partial_sums: dict[str, float] = field(default_factory=dict)  # train terms * n, current epoch, all ranks
    partial_count: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def scheduled_lr(schedule: str, base: float, step: int, total_steps: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based) of ``total_steps`` under ``schedule``."""
    if schedule == "constant" or total_steps <= 1:
        return base
    return base * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))


def make_optimizer(params: Iterable[nn.Parameter], config: TrainerConfig, device: torch.device) -> torch.optim.Optimizer:
    """The configured optimizer, fused where this torch supports it on ``device`` (unless ``config.fused`` is off)."""
    cls = OPTIMIZERS[config.optimizer]
    params = [p for p in params if p.requires_grad]
    kwargs: dict[str, Any] = {"lr": config.learning_rate, "weight_decay": config.weight_decay}
    if not config.fused:
        return cls(params, foreach=False, **kwargs)
    try:
        return cls(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, foreach=True, **kwargs)
