"""Callbacks: the trainer's extension points (schedules, logging, progress).

The trainer fires ``on_fit_start``, ``on_epoch_start``, ``on_step_start``,
``on_step_end``, ``on_epoch_end`` and ``on_fit_end``; a callback overrides the
ones it needs. A KL schedule, for example, sets ``trainer.module.beta`` in
``on_step_start``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Protocol

import torch
from torch import nn

from vaelab.model_output import ModelOutput
from vaelab.training.config import TrainerConfig, TrainState

logger = logging.getLogger(__name__)


class TrainerView(Protocol):
    """What a callback may read of the trainer that calls it (:class:`vaelab.training.Trainer` answers it).

    Declared here so that callbacks depend on the trainer's interface, not on
    its module (which imports this one).
    """

    config: TrainerConfig
    state: TrainState
    module: nn.Module | None
    optimizer: Any
    device: torch.device
    batches_per_epoch: int

    def running_terms(self) -> dict[str, float]:
        """Mean training terms of the current epoch so far."""
        ...


class Callback:
    """Base class; every hook does nothing."""

    def on_fit_start(self, trainer: TrainerView) -> None: ...

    def on_epoch_start(self, trainer: TrainerView, epoch: int) -> None: ...

    def on_step_start(self, trainer: TrainerView) -> None: ...

    def on_step_end(self, trainer: TrainerView, output: ModelOutput) -> None: ...

    def on_epoch_end(self, trainer: TrainerView, row: dict[str, Any]) -> None: ...

    def on_fit_end(self, trainer: TrainerView) -> None: ...


def format_terms(terms: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in terms.items())


class ProgressBar(Callback):
    """A live bar per epoch with the running loss terms and throughput.

    On a terminal it draws a tqdm bar, refreshed every ``refresh_every`` steps
    (the only place the trainer's running sums are synchronized); elsewhere, or
    without tqdm, it writes one plain line per epoch. In a distributed run
    only rank 0 shows it.
    """

    main_process_only = True

    def __init__(self, refresh_every: int = 20, stream: Any = None) -> None:
        self.refresh_every = refresh_every
        self.stream = stream if stream is not None else sys.stderr
        self._bar: Any = None

    def _use_bar(self) -> bool:
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return False
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def _width(self) -> dict[str, Any]:
        """Follow the terminal's width; a fixed 100 columns where it reports none (some ptys say 0)."""
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
        return {"dynamic_ncols": True} if columns > 0 else {"ncols": 100}

    def on_epoch_start(self, trainer: TrainerView, epoch: int) -> None:
        if self._use_bar():
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=trainer.batches_per_epoch,
                initial=trainer.state.batch,
                desc=f"epoch {epoch + 1}/{trainer.config.epochs}",
                unit="batch",
                file=self.stream,
                leave=False,
                **self._width(),
            )

    def on_step_end(self, trainer: TrainerView, output: ModelOutput) -> None:
        if self._bar is not None:
            self._bar.update(1)
            if trainer.state.batch % self.refresh_every == 0:
                self._bar.set_postfix_str(format_terms(trainer.running_terms()), refresh=False)

    def on_epoch_end(self, trainer: TrainerView, row: dict[str, Any]) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        shown = {k: v for k, v in row.items() if k.startswith(("train_", "valid_")) and isinstance(v, float)}
        rate = row.get("samples_per_s", 0.0)
        print(
            f"epoch {row['epoch']}/{trainer.config.epochs} {format_terms(shown)} ({rate:,.0f} samples/s)",
            file=self.stream,
            flush=True,
        )

    def on_fit_end(self, trainer: TrainerView) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
