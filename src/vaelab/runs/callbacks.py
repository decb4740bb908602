"""Trainer callbacks of the command line: the run's records, the log, TensorBoard.

The trainer writes its checkpoint before ``on_epoch_end`` fires, so whatever
these callbacks record after an epoch matches a checkpoint a resumed run
starts from.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaelab.errors import VaelabError
from vaelab.training import Callback
from vaelab.training.callbacks import format_terms

if TYPE_CHECKING:
    from vaelab.runs.run_dir import RunDir
    from vaelab.training import Trainer

logger = logging.getLogger(__name__)


class HistoryWriter(Callback):
    """Rewrite ``history.csv`` after every epoch (all epochs so far, also across resumes)."""

    main_process_only = True

    def __init__(self, run: RunDir) -> None:
        self.run = run

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        self.run.write_history(trainer.state.history)


class EpochLogger(Callback):
    """Log the start, every epoch and the end of training (to the run's ``train.log``)."""

    main_process_only = True

    def on_fit_start(self, trainer: Trainer) -> None:
        state = trainer.state
        where = f"resuming at epoch {state.epoch + 1}, step {state.step}" if state.step else "starting"
        logger.info(
            "training %s: %d epochs of %d batches on %s",
            where,
            trainer.config.epochs,
            trainer.batches_per_epoch,
            trainer.device,
        )

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        terms = {k: v for k, v in row.items() if k.startswith(("train_", "valid_")) and isinstance(v, float)}
        logger.info(
            "epoch %d/%d step %d %s (%.0f samples/s)",
            row["epoch"],
            trainer.config.epochs,
            row["step"],
            format_terms(terms),
            row.get("samples_per_s", 0.0),
        )

    def on_fit_end(self, trainer: Trainer) -> None:
        logger.info("training finished after %d epochs, %d steps", trainer.state.epoch, trainer.state.step)


def check_tensorboard() -> None:
    """Fail early, with the fix, when TensorBoard logging is asked for but not installed."""
    try:
        import tensorboard  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise VaelabError(
            "--tensorboard needs the tensorboard package: pip install 'vaelab[tensorboard]' (or drop --tensorboard)"
        ) from None


class TensorBoardLogger(Callback):
    """Write every numeric column of each epoch's row as a TensorBoard scalar (x axis: epoch)."""

    main_process_only = True

    def __init__(self, log_dir: str | Path) -> None:
        self.log_dir = Path(log_dir)
        self._writer: Any = None

    def on_fit_start(self, trainer: Trainer) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(log_dir=str(self.log_dir))

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        for key, value in row.items():
            if key != "epoch" and isinstance(value, (int, float)):
                tag = key.replace("train_", "train/", 1).replace("valid_", "valid/", 1)
                self._writer.add_scalar(tag, value, row["epoch"])
        self._writer.flush()

    def on_fit_end(self, trainer: Trainer) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class EpochProgress(Callback):
    """A compact progress display over epochs: a tqdm bar on a terminal, else a line every few epochs.

    Parameters
    ----------
    label : str
        Shown before the bar or at the start of each line.
    stream : file
        Where to write (a terminal gets the bar).
    lines : int
        Off a terminal, about this many lines per run (and always the last epoch).
    """

    def __init__(self, label: str, stream: Any, lines: int = 5) -> None:
        self.label = label
        self.stream = stream
        self.lines = lines
        self._bar: Any = None

    def on_fit_start(self, trainer: Trainer) -> None:
        if getattr(self.stream, "isatty", lambda: False)():
            try:
                from tqdm.auto import tqdm
            except ImportError:
                return
            self._bar = tqdm(
                total=trainer.config.epochs,
                initial=trainer.state.epoch,
                desc=self.label,
                unit="epoch",
                file=self.stream,
                dynamic_ncols=True,
            )

    def on_epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        shown = {k: row[k] for k in ("train_loss", "valid_loss") if isinstance(row.get(k), float)}
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(format_terms(shown))
            return
        total = trainer.config.epochs
        every = max(1, total // max(self.lines, 1))
        if row["epoch"] % every == 0 or row["epoch"] == total:
            print(f"{self.label}: epoch {row['epoch']}/{total} {format_terms(shown)}", file=self.stream, flush=True)

    def on_fit_end(self, trainer: Trainer) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
