"""A model-agnostic training loop (after minGPT's ``trainer.py``).

The trainer knows nothing about the model it trains: it calls
``module(batch)`` (``module(*batch)`` when a batch is a tuple of tensors, such
as examples and their conditions), minimizes ``output.loss`` and logs
``output.terms()``. Everything model-specific (a KL weight schedule, say) is a
callback. A model with several players (a VAE-GAN) declares its optimizer
groups and their losses (:mod:`vaelab.training.optimizers`); the trainer then
keeps one optimizer per group and moves each group by its own loss.

The loop is lean, since on small models a library's own overhead decides its
speed (``benchmarks/throughput.py`` measures it against a bare PyTorch loop):
batches are slices of one in-memory tensor taken by a shuffled index (no
per-example Python, no DataLoader; streamed data may come through worker
processes, see :class:`~vaelab.data.streaming.LoaderSource`), loss terms are
summed on the device and only synchronized at epoch end or when a progress
display asks, gradients are reset with ``set_to_none``, Adam runs fused,
CUDA runs in mixed precision, and ``torch.compile`` is an option.

Runs are reproducible and resumable: the data order of epoch e is a function
of (seed, e), per-batch randomness (dynamic binarization) of (seed, e, batch),
and a checkpoint stores the weights, the optimizer, the RNG states and the
position in the epoch, so that a resumed run continues exactly. In a
``torch.distributed`` process group the same loop trains data-parallel
(:mod:`vaelab.training.distributed`).
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from vaelab._runtime import denormals_flushed, resolve_device, tune_allocator
from vaelab.errors import InputError, VaelabError
from vaelab.model_output import ModelOutput
from vaelab.training import distributed
from vaelab.training.batches import (
    Batch,
    BatchSource,
    BatchTransform,
    batch_rows,
    batch_to,
    call_module,
    transform_first,
)
from vaelab.training.callbacks import Callback, ProgressBar
from vaelab.training.checkpoint import has_checkpoint, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from vaelab.training.config import (
    TrainerConfig,
    TrainState,
    make_optimizer,
    scheduled_lr,
)
from vaelab.training.optimizers import OptimizerSet, has_optimizer_groups
from vaelab.training.sums import TermSums

logger = logging.getLogger(__name__)


class TrainingDiverged(VaelabError, RuntimeError):
    """The loss became NaN or infinite."""


def _batch_seed(seed: int, epoch: int, batch: int, rank: int = 0) -> int:
    """Seed of the per-batch generator: a function of (seed, epoch, batch), and of the rank for ranks > 0."""
    base = (seed * 1_000_003 + epoch) * 1_000_003 + batch
    return base if rank == 0 else base * 1_000_003 + rank


class Trainer:
    """Trains any module whose ``forward(x)`` (or ``forward(*batch)``) returns a :class:`ModelOutput`.

    Parameters
    ----------
    config : TrainerConfig
    callbacks : sequence of Callback
        In a distributed run, callbacks whose ``main_process_only`` attribute
        is true (by default: progress bars) run on rank 0 only; all others,
        schedules for instance, run on every rank.
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
        self.module: nn.Module | None = None  # the model itself (never the DDP wrapper)
        self.optimizer: torch.optim.Optimizer | None = None
        self.batches_per_epoch = 0
        self.device = torch.device("cpu")
        self.rank, self.world_size = 0, 1
        self._forward: nn.Module | None = None  # what the loop calls: the module, its DDP wrapper, compiled
        self._sums = TermSums(self.device)
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
        ``checkpoint_dir``, exactly where it stopped. In a distributed run
        every rank calls ``fit`` with the same arguments.
        """
        cfg = self.config
        tune_allocator()
        device = resolve_device(cfg.device)
        if distributed.init_from_env(device):
            device = distributed.local_device(device)
        self.rank, self.world_size = distributed.rank_and_world()
        if self.world_size > 1 and not hasattr(train, "batch_size"):
            raise InputError("distributed training needs a source with a batch_size (InMemorySource, MemmapSource)")
        self.device = device
        self.module = module.to(device)
        if has_optimizer_groups(module):
            if self.world_size > 1:
                raise InputError(f"{type(module).__name__} has several optimizers and trains in one process only")
            groups = module.optimizer_groups()
            self.optimizer = OptimizerSet(groups, lambda ps: make_optimizer(ps, cfg, device), cfg.learning_rate, module)
        else:
            self.optimizer = make_optimizer(module.parameters(), cfg, device)
        self.batches_per_epoch = len(train)
        self._sums = TermSums(device)
        self._callbacks = [cb for cb in self.callbacks if self.rank == 0 or not _main_process_only(cb)]
        best_state: dict[str, Tensor] | None = None
        if resume:
            if checkpoint_dir is None or not has_checkpoint(checkpoint_dir):
                raise InputError(f"cannot resume: no checkpoint found in {checkpoint_dir}")
            best_state = self._restore(checkpoint_dir)
        else:
            self.state = TrainState()
            torch.manual_seed(cfg.seed + self.rank)  # each rank its own noise
        self._forward = distributed.wrap(module, device) if self.world_size > 1 else module
        if cfg.compile:
            self._forward = torch.compile(self._forward)
        amp_dtype, scaler = self._amp(device)
        self._generator = torch.Generator(device=device) if self.transform is not None else None

        for cb in self._callbacks:
            cb.on_fit_start(self)
        with self._interrupt_guard(), denormals_flushed(cfg.flush_denormal and device.type == "cpu"):
            for epoch in range(self.state.epoch, cfg.epochs):
                if self.state.stopped_early:
                    break
                best_state = self._run_epoch(epoch, train, valid, amp_dtype, scaler, checkpoint_dir, best_state)
        if cfg.restore_best and best_state is not None:
            module.load_state_dict(best_state)
        for cb in self._callbacks:
            cb.on_fit_end(self)
        self._forward = None
        distributed.barrier()  # rank 0's last checkpoint is on disk when any rank returns
        return self.state.history

    def running_terms(self) -> dict[str, float]:
        """Mean training terms of the current epoch so far, on this rank (synchronizes the device)."""
        return self._sums.means()

    @torch.no_grad()
    def evaluate(self, module: nn.Module, source: BatchSource) -> dict[str, float]:
        """Mean of every loss term over ``source`` with the model in eval mode (over all ranks in a distributed run)."""
        was_training = module.training
        module.eval()
        device = next(module.parameters(), torch.empty(0)).device
        generator = torch.Generator(device=device).manual_seed(self.config.seed + self.rank)  # same noise every epoch
        sums = TermSums(device)
        for xb in source.iter_epoch(0, rank=self.rank, world_size=self.world_size):
            xb = batch_to(xb, device)
            if batch_rows(xb):
                sums.add(call_module(module, xb, generator=generator).terms(), batch_rows(xb))
        module.train(was_training)
        if self.world_size > 1:
            sums = sums.all_reduced()
        return sums.means()

    # ---------------------------------------------------------------- private

    def _batches(self, train: BatchSource, epoch: int) -> Iterator[tuple[Batch, int, float]]:
        """(batch on the device, examples in it, loss weight) for the rest of the epoch."""
        device, world = self.device, self.world_size
        batches = train.iter_epoch(epoch, start_batch=self.state.batch, rank=self.rank, world_size=world)
        if world == 1:
            for xb in batches:
                yield batch_to(xb, device), batch_rows(xb), 1.0
            return
        size, n = train.batch_size, train.num_examples
        for g, xb in enumerate(batches, start=self.state.batch):
            rows, global_rows = batch_rows(xb), min(size, n - g * size)
            if rows == 0:  # an empty part of a short last batch: step on a dummy row with weight 0
                parts = xb if isinstance(xb, tuple) else (xb,)
                dummy = tuple(t.new_zeros((1, *t.shape[1:])) for t in parts)
                yield batch_to(dummy if isinstance(xb, tuple) else dummy[0], device), 0, 0.0
            else:
                yield batch_to(xb, device), rows, distributed.batch_share(rows, global_rows, world)

    def _run_epoch(self, epoch, train, valid, amp_dtype, scaler, checkpoint_dir, best_state):
        cfg, state, module = self.config, self.state, self.module
        module.train()
        sums = self._sums = TermSums(self.device)
        resumed = state.partial_count if self.rank == 0 else 0  # examples before a mid-epoch resume, all ranks
        if state.partial_sums:  # rank 0 carries the sums so far; every rank the names
            sums.load(state.partial_sums if self.rank == 0 else dict.fromkeys(state.partial_sums, 0.0), resumed)
        callbacks, transform, generator = self._callbacks, self.transform, self._generator
        step_start = [cb for cb in callbacks if _overrides(cb, "on_step_start")]
        step_end = [cb for cb in callbacks if _overrides(cb, "on_step_end")]
        every = cfg.checkpoint_every_steps if checkpoint_dir is not None else None
        for cb in callbacks:
            cb.on_epoch_start(self, epoch)
        started = time.perf_counter()
        scheduled = cfg.lr_schedule != "constant"
        total_steps = cfg.epochs * self.batches_per_epoch
        for xb, n, weight in self._batches(train, epoch):
            if scheduled:
                lr = scheduled_lr(cfg.lr_schedule, cfg.learning_rate, state.step, total_steps)
                for group in self.optimizer.param_groups:
                    group["lr"] = lr * group.get("lr_scale", 1.0)
            if transform is not None:
                generator.manual_seed(_batch_seed(cfg.seed, epoch, state.batch, self.rank))
                xb = transform_first(transform, xb, generator)
            for cb in step_start:
                cb.on_step_start(self)
            out = self._step(xb, weight, amp_dtype, scaler)
            sums.add(out.terms(), n)
            state.step += 1
            state.batch += 1
            for cb in step_end:
                cb.on_step_end(self, out)
            if every and state.step % every == 0:
                self._checkpoint(checkpoint_dir, best_state)
            if self._stop_requested:
                if checkpoint_dir is not None:
                    self._checkpoint(checkpoint_dir, best_state)
                raise KeyboardInterrupt(f"training interrupted at step {state.step}; resume from {checkpoint_dir}")
        seconds = time.perf_counter() - started
        if self.world_size > 1:
            sums, resumed = sums.all_reduced(), int(distributed.sum_over_ranks(resumed))
        seen = sums.count - resumed

        train_terms = sums.means()
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
                    if self.rank == 0:
                        logger.info("early stop after epoch %d: no improvement for %d epochs", epoch + 1, cfg.patience)
        row["seconds"] = seconds
        row["samples_per_s"] = seen / seconds if seconds > 0 else 0.0
        row["lr"] = self.optimizer.param_groups[0]["lr"]
        state.history.append(row)
        state.epoch, state.batch = epoch + 1, 0
        state.partial_sums, state.partial_count = {}, 0
        self._sums = TermSums(self.device)
        if checkpoint_dir is not None:
            self._checkpoint(checkpoint_dir, best_state)
        for cb in self._callbacks:
            cb.on_epoch_end(self, row)
        return best_state

    def _step(self, xb: Batch, weight: float, amp_dtype: torch.dtype | None, scaler: Any) -> ModelOutput:
        module, opt, cfg = self._forward, self.optimizer, self.config
        if amp_dtype is not None:
            with torch.autocast(device_type=self.device.type, dtype=amp_dtype):
                out: ModelOutput = call_module(module, xb)
        else:
            out = call_module(module, xb)
        if isinstance(opt, OptimizerSet):  # several players, each moved by its own loss (no loss scaling)
            opt.zero_grad(set_to_none=True)
            opt.backward(self.module.group_losses(out), weight, cfg.grad_clip)
            opt.step()
            return out
        loss = out.loss if weight == 1.0 else out.loss * weight  # a rank's share of the global batch
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(self.module.parameters(), cfg.grad_clip)
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(self.module.parameters(), cfg.grad_clip)
            opt.step()
        return out

    def _amp(self, device: torch.device) -> tuple[torch.dtype | None, Any]:
        if not (self.config.amp and device.type == "cuda"):
            return None, None
        if isinstance(self.optimizer, OptimizerSet):  # per-group gradients: bfloat16 autocast only, no loss scaler
            return (torch.bfloat16, None) if torch.cuda.is_bf16_supported() else (None, None)
        if torch.cuda.is_bf16_supported():
            return torch.bfloat16, None
        return torch.float16, torch.amp.GradScaler("cuda")

    def _checkpoint(self, directory: str | Path, best_state: dict[str, Tensor] | None) -> None:
        """Write a checkpoint (rank 0); in a distributed run every rank must call this at the same step."""
        state, sums = self.state, self._sums
        if self.world_size > 1:
            sums = sums.all_reduced()
        rng = distributed.gather_rng_states(rng_state())
        if self.rank != 0:
            return
        state.partial_sums, state.partial_count = sums.sums(), sums.count
        save_checkpoint(
            directory,
            model=self.module.state_dict(),
            optimizer=self.optimizer.state_dict(),
            state={**asdict(state), "trainer_config": asdict(self.config), "world_size": self.world_size},
            rng=rng,
            best=best_state,
        )

    def _restore(self, directory: str | Path) -> dict[str, Tensor] | None:
        ckpt = load_checkpoint(directory)
        self.module.load_state_dict(ckpt.model)
        self.optimizer.load_state_dict(ckpt.optimizer)
        saved = dict(ckpt.state)
        saved.pop("trainer_config", None)
        saved.pop("world_size", None)
        self.state = TrainState(**saved)
        own = distributed.own_rng_states(ckpt.rng, self.rank)
        if own is not None:
            set_rng_state(own)
        else:  # a checkpoint of fewer processes: a fresh stream for this rank
            torch.manual_seed((self.config.seed + self.rank) * 1_000_003 + self.state.step)
        if self.rank == 0:
            logger.info("resumed at epoch %d, step %d", self.state.epoch, self.state.step)
        if ckpt.best is None:
            return None
        return {k: v.to(self.device) for k, v in ckpt.best.items()}

    @contextmanager
    def _interrupt_guard(self) -> Iterator[None]:
        """While training, a first Ctrl-C finishes the step, checkpoints and stops.

        Not in a distributed run: there torchrun stops every process at once
        and the run resumes from its last checkpoint.
        """
        self._stop_requested = False
        if self.world_size > 1 or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGINT)

        def handler(signum, frame):
            self._stop_requested = True
            signal.signal(signal.SIGINT, previous)  # a second Ctrl-C stops at once

        signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (the base class's hooks do nothing)."""
    return hook in vars(callback) or getattr(type(callback), hook, None) not in (None, getattr(Callback, hook))


def _main_process_only(callback: Callback) -> bool:
    return bool(getattr(callback, "main_process_only", isinstance(callback, ProgressBar)))
