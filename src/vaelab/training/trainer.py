"""A model-agnostic training loop (after minGPT's ``trainer.py``).

The trainer knows nothing about the model it trains: it calls
``module(batch)``, minimizes ``output.loss`` and logs ``output.terms()``.
Everything model-specific (a KL weight schedule, say) is a callback.

The loop is lean, since on small models a library's own overhead decides its
speed (see ``benchmarks/throughput.py``): batches are slices of one in-memory
tensor taken by a shuffled index (no per-example Python), loss terms are
summed on the device and only synchronized at epoch end or when a progress
display asks, gradients are reset with ``set_to_none``, Adam runs fused.

Runs are reproducible and resumable: the data order of epoch e is a function
of (seed, e), per-batch randomness (dynamic binarization) of (seed, e, batch),
and a checkpoint stores the weights, the optimizer, the global RNG state and
the position in the epoch, so that a resumed run continues exactly.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from vaelab._runtime import resolve_device, tune_allocator
from vaelab.errors import InputError, VaelabError
from vaelab.models.base import ModelOutput
from vaelab.training.callbacks import Callback
from vaelab.training.checkpoint import has_checkpoint, load_checkpoint, rng_state, save_checkpoint, set_rng_state

logger = logging.getLogger(__name__)

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


class TrainingDiverged(VaelabError, RuntimeError):
    """The loss became NaN or infinite."""


class BatchSource(Protocol):
    """What the trainer needs of its data (see :mod:`vaelab.data.streaming`)."""

    num_examples: int

    def __len__(self) -> int: ...

    def iter_epoch(self, epoch: int, *, start_batch: int = 0, rank: int = 0, world_size: int = 1) -> Iterable[Tensor]: ...


BatchTransform = Callable[[Tensor, torch.Generator], Tensor]


@dataclass(frozen=True)
class TrainerConfig:
    """Hyperparameters of the optimization; JSON round-trippable.

    Parameters
    ----------
    epochs : int
        Passes over the training data.
    learning_rate : float
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
    """

    epochs: int = 30
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    patience: int | None = None
    restore_best: bool = True
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    grad_clip: float | None = None
    checkpoint_every_steps: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.epochs, int) and self.epochs >= 1):
            raise InputError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not self.learning_rate > 0:
            raise InputError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.patience is not None and self.patience < 1:
            raise InputError(f"patience must be None or >= 1, got {self.patience!r}")


@dataclass
class TrainState:
    """Where a run is: saved in every checkpoint as JSON."""

    epoch: int = 0  # epochs completed
    step: int = 0  # optimizer steps taken
    batch: int = 0  # batches done in the current epoch
    best_valid: float = math.inf
    bad_epochs: int = 0
    stopped_early: bool = False
    partial_sums: dict[str, float] = field(default_factory=dict)  # train terms * n, current epoch
    partial_count: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


def _batch_generator(seed: int, epoch: int, batch: int, device: torch.device) -> torch.Generator:
    """A generator whose stream depends only on (seed, epoch, batch)."""
    return torch.Generator(device=device).manual_seed((seed * 1_000_003 + epoch) * 1_000_003 + batch)


def make_optimizer(params: Iterable[nn.Parameter], config: TrainerConfig, device: torch.device) -> torch.optim.Optimizer:
    """The configured optimizer, fused where this torch supports it on ``device``."""
    cls = OPTIMIZERS[config.optimizer]
    params = [p for p in params if p.requires_grad]
    kwargs: dict[str, Any] = {"lr": config.learning_rate, "weight_decay": config.weight_decay}
    try:
        return cls(params, fused=True, **kwargs)
    except (RuntimeError, TypeError, ValueError):
        return cls(params, foreach=True, **kwargs)


class Trainer:
    """Trains any module whose ``forward(x)`` returns a :class:`ModelOutput`.

    Parameters
    ----------
    config : TrainerConfig
    callbacks : sequence of Callback
    transform : callable, optional
        ``transform(batch, generator) -> batch`` applied to each training batch
        on the device (dynamic binarization, for example).

    Examples
    --------
    >>> import torch
    >>> from vaelab.data import InMemorySource
    >>> from vaelab.models import VAEConfig, VAEModel
    >>> model = VAEModel(VAEConfig(input_shape=(8,), latent_dim=2))
    >>> data = InMemorySource(torch.rand(64, 8), batch_size=16, seed=0)
    >>> history = Trainer(TrainerConfig(epochs=2, device="cpu")).fit(model, data)
    >>> [row["epoch"] for row in history]
    [1, 2]
    """

    def __init__(
        self,
        config: TrainerConfig | None = None,
        callbacks: Sequence[Callback] = (),
        transform: BatchTransform | None = None,
    ) -> None:
        self.config = config or TrainerConfig()
        self.callbacks = list(callbacks)
        self.transform = transform
        self.state = TrainState()
        self.module: nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.batches_per_epoch = 0
        self._sums: dict[str, Tensor] = {}
        self._count = 0
        self._stop_requested = False

    # ----------------------------------------------------------------- public

    def fit(
        self,
        module: nn.Module,
        train: BatchSource,
        valid: BatchSource | None = None,
        *,
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
    ) -> list[dict[str, Any]]:
        """Train ``module`` on ``train``; returns the per-epoch history.

        With ``resume=True`` the run continues from the latest checkpoint in
        ``checkpoint_dir``, exactly where it stopped.
        """
        cfg = self.config
        tune_allocator()
        device = resolve_device(cfg.device)
        self.module = module.to(device)
        self.optimizer = make_optimizer(module.parameters(), cfg, device)
        self.batches_per_epoch = len(train)
        self.device = device
        best_state: dict[str, Tensor] | None = None
        if resume:
            if checkpoint_dir is None or not has_checkpoint(checkpoint_dir):
                raise InputError(f"cannot resume: no checkpoint found in {checkpoint_dir}")
            best_state = self._restore(checkpoint_dir)
        else:
            self.state = TrainState()
            torch.manual_seed(cfg.seed)
        amp_dtype, scaler = self._amp(device)

        for cb in self.callbacks:
            cb.on_fit_start(self)
        with self._interrupt_guard():
            for epoch in range(self.state.epoch, cfg.epochs):
                if self.state.stopped_early:
                    break
                best_state = self._run_epoch(epoch, train, valid, amp_dtype, scaler, checkpoint_dir, best_state)
        if cfg.restore_best and best_state is not None:
            module.load_state_dict(best_state)
        for cb in self.callbacks:
            cb.on_fit_end(self)
        return self.state.history

    def running_terms(self) -> dict[str, float]:
        """Mean training terms of the current epoch so far (synchronizes the device)."""
        if not self._count:
            return {}
        return {k: float(v) / self._count for k, v in self._sums.items()}

    @torch.no_grad()
    def evaluate(self, module: nn.Module, source: BatchSource) -> dict[str, float]:
        """Mean of every loss term over ``source`` with the model in eval mode."""
        was_training = module.training
        module.eval()
        device = next(module.parameters(), torch.empty(0)).device
        generator = torch.Generator(device=device).manual_seed(self.config.seed)  # same noise every epoch
        sums: dict[str, Tensor] = {}
        count = 0
        for xb in source.iter_epoch(0):
            xb = xb.to(device, non_blocking=True)
            out: ModelOutput = module(xb, generator=generator)
            count += xb.shape[0]
            for name, value in out.terms().items():
                sums[name] = sums.get(name, 0.0) + value.detach().float() * xb.shape[0]
        module.train(was_training)
        return {k: float(v) / max(count, 1) for k, v in sums.items()}

    # ---------------------------------------------------------------- private

    def _run_epoch(self, epoch, train, valid, amp_dtype, scaler, checkpoint_dir, best_state):
        cfg, state, module, device = self.config, self.state, self.module, self.device
        module.train()
        self._sums = {k: torch.tensor(v, device=device) for k, v in state.partial_sums.items()}
        self._count = state.partial_count
        for cb in self.callbacks:
            cb.on_epoch_start(self, epoch)
        started, seen_at_start = time.perf_counter(), self._count
        for xb in train.iter_epoch(epoch, start_batch=state.batch):
            xb = xb.to(device, non_blocking=True)
            if self.transform is not None:
                xb = self.transform(xb, _batch_generator(cfg.seed, epoch, state.batch, device))
            for cb in self.callbacks:
                cb.on_step_start(self)
            out = self._step(xb, amp_dtype, scaler)
            n = xb.shape[0]
            for name, value in out.terms().items():
                term = value.detach().float() * n
                self._sums[name] = self._sums[name] + term if name in self._sums else term
            self._count += n
            state.step += 1
            state.batch += 1
            for cb in self.callbacks:
                cb.on_step_end(self, out)
            if checkpoint_dir is not None and cfg.checkpoint_every_steps and state.step % cfg.checkpoint_every_steps == 0:
                self._checkpoint(checkpoint_dir, best_state)
            if self._stop_requested:
                if checkpoint_dir is not None:
                    self._checkpoint(checkpoint_dir, best_state)
                raise KeyboardInterrupt(f"training interrupted at step {state.step}; resume from {checkpoint_dir}")
        seconds = time.perf_counter() - started

        train_terms = self.running_terms()
        if not all(math.isfinite(v) for v in train_terms.values()):
            raise TrainingDiverged(
                f"the training loss became {train_terms.get('loss')} in epoch {epoch + 1}; "
                "lower the learning rate, enable grad_clip, or check the data scale"
            )
        row: dict[str, Any] = {"epoch": epoch + 1, "step": state.step}
        row.update({f"train_{k}": v for k, v in train_terms.items()})
        if valid is not None:
            valid_terms = self.evaluate(module, valid)
            row.update({f"valid_{k}": v for k, v in valid_terms.items()})
            if valid_terms["loss"] < state.best_valid:
                state.best_valid, state.bad_epochs = valid_terms["loss"], 0
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            else:
                state.bad_epochs += 1
                if cfg.patience is not None and state.bad_epochs >= cfg.patience:
                    state.stopped_early = True
                    logger.info("early stop after epoch %d: no improvement for %d epochs", epoch + 1, cfg.patience)
        row["seconds"] = seconds
        row["samples_per_s"] = (self._count - seen_at_start) / seconds if seconds > 0 else 0.0
        row["lr"] = self.optimizer.param_groups[0]["lr"]
        state.history.append(row)
        state.epoch, state.batch = epoch + 1, 0
        self._sums, self._count = {}, 0
        state.partial_sums, state.partial_count = {}, 0
        if checkpoint_dir is not None:
            self._checkpoint(checkpoint_dir, best_state)
        for cb in self.callbacks:
            cb.on_epoch_end(self, row)
        return best_state

    def _step(self, xb: Tensor, amp_dtype: torch.dtype | None, scaler: Any) -> ModelOutput:
        module, opt, cfg = self.module, self.optimizer, self.config
        if amp_dtype is not None:
            with torch.autocast(device_type=xb.device.type, dtype=amp_dtype):
                out: ModelOutput = module(xb)
        else:
            out = module(xb)
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(out.loss).backward()
            scaler.unscale_(opt)
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(module.parameters(), cfg.grad_clip)
            scaler.step(opt)
            scaler.update()
        else:
            out.loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(module.parameters(), cfg.grad_clip)
            opt.step()
        return out

    def _amp(self, device: torch.device) -> tuple[torch.dtype | None, Any]:
        if not (self.config.amp and device.type == "cuda"):
            return None, None
        if torch.cuda.is_bf16_supported():
            return torch.bfloat16, None
        return torch.float16, torch.amp.GradScaler("cuda")

    def _checkpoint(self, directory: str | Path, best_state: dict[str, Tensor] | None) -> None:
        state = self.state
        state.partial_sums = {k: float(v) for k, v in self._sums.items()}
        state.partial_count = self._count
        save_checkpoint(
            directory,
            model=self.module.state_dict(),
            optimizer=self.optimizer.state_dict(),
            state={**asdict(state), "trainer_config": asdict(self.config)},
            rng=rng_state(),
            best=best_state,
        )

    def _restore(self, directory: str | Path) -> dict[str, Tensor] | None:
        ckpt = load_checkpoint(directory)
        self.module.load_state_dict(ckpt.model)
        self.optimizer.load_state_dict(ckpt.optimizer)
        saved = dict(ckpt.state)
        saved.pop("trainer_config", None)
        self.state = TrainState(**saved)
        set_rng_state(ckpt.rng)
        logger.info("resumed at epoch %d, step %d", self.state.epoch, self.state.step)
        if ckpt.best is None:
            return None
        return {k: v.to(self.device) for k, v in ckpt.best.items()}

    def _interrupt_guard(self):
        """While training, a first Ctrl-C finishes the step, checkpoints and stops."""
        trainer = self

        class Guard:
            def __enter__(self):
                trainer._stop_requested = False
                self.previous = None
                if threading.current_thread() is threading.main_thread():
                    def handler(signum, frame):
                        trainer._stop_requested = True
                        signal.signal(signal.SIGINT, self.previous)  # a second Ctrl-C stops at once
                    self.previous = signal.signal(signal.SIGINT, handler)

            def __exit__(self, *exc):
                if self.previous is not None:
                    signal.signal(signal.SIGINT, self.previous)
                return False

        return Guard()
