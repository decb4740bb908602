"""A finished run opened for use: its spec, its fitted model, and its data's examples by split or file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaelab.errors import InputError
from vaelab.runs.run_dir import RunDir
from vaelab.runs.spec import RunSpec

if TYPE_CHECKING:
    import numpy as np

    from vaelab.report.images import ImageLayout


@dataclass(frozen=True)
class LoadedRun:
    """A run directory with its config, fitted model and how its examples are drawn."""

    run: RunDir
    config: RunSpec
    estimator: Any
    layout: ImageLayout | None

    @classmethod
    def open(cls, path: Path, *, no_verify: bool = False) -> LoadedRun:
        """Open the run at ``path``; ``no_verify`` skips the checksums of its built-in data set."""
        from vaelab.report.images import ImageLayout

        run = RunDir.open(path)
        config = run.config(no_verify=no_verify)
        estimator = run.load_model(config)
        return cls(run, config, estimator, ImageLayout.detect(tuple(estimator.input_shape_)))

    def examples(self, split: str, input_path: Path | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Examples (float, as the model reads them) and labels of a split of the run's data, or of a file."""
        x, y, _ = self.labelled_examples(split, input_path)
        return x, y

    def labelled_examples(
        self, split: str, input_path: Path | None = None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        """As :meth:`examples`, with the names of the labels 0..K-1 where the data set defines them."""
        from vaelab.runs.data import load_run_data, pick_split
        from vaelab.data import load_dataset
        from vaelab.report.run_report import unit_float

        if input_path is not None:
            dataset = load_dataset(input_path)
            x, y = dataset.x_train, dataset.y_train
        else:
            dataset = load_run_data(self.config)
            x, y = pick_split(dataset, split)
        if tuple(x.shape[1:]) != tuple(self.estimator.input_shape_):
            raise InputError(
                f"{input_path or split} holds examples of shape {tuple(x.shape[1:])}, but {self.run.root} was trained "
                f"on examples of shape {tuple(self.estimator.input_shape_)}"
            )
        return unit_float(x), y, dataset.class_names

    def output(self, out: Path | None, stem: str, force: bool) -> Path:
        """Where a command writes: ``out``, or ``RUN/figures/<stem>.png`` (``.npy`` for data that are not images)."""
        suffix = ".png" if self.layout is not None else ".npy"
        return self.run.output_path(out, f"{stem}{suffix}", force=force)
