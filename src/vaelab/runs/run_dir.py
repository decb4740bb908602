"""The run directory: everything ``vaelab train`` writes about one run, in one folder.

::

    runs/mnist-vae/
        config.toml     the resolved options, written first: an interrupted run can always resume
        train.log       what the run logged (appended to by ``vaelab resume``)
        checkpoints/    the trainer's checkpoints, after every epoch (neural models)
        history.csv     per-epoch loss terms, rewritten after every epoch
        model/          the fitted model (config.json + model.safetensors), written last and atomically
        metrics.json    metrics per split ({"test": {...}}) and the training time
        figures/        default outputs of sample, reconstruct, interpolate, traverse, embed
        report/         ``vaelab report``: report.html and its PNGs
        tensorboard/    with ``--tensorboard``

Nothing here is overwritten without ``force``; a run is *complete* once
``model/`` exists, and *resumable* before that.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaelab.errors import InputError, ModelFileError
from vaelab.runs.spec import RunSpec
from vaelab.serialization import atomic_write_text, jsonable, read_json, write_json

if TYPE_CHECKING:
    from vaelab.estimators import EncoderDecoderEstimator

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass(frozen=True)
class RunDir:
    """The layout of one run's folder (see the module docstring)."""

    root: Path

    config_file = property(lambda self: self.root / "config.toml")
    model_dir = property(lambda self: self.root / "model")
    checkpoints = property(lambda self: self.root / "checkpoints")
    history_file = property(lambda self: self.root / "history.csv")
    metrics_file = property(lambda self: self.root / "metrics.json")
    log_file = property(lambda self: self.root / "train.log")
    figures = property(lambda self: self.root / "figures")
    report_dir = property(lambda self: self.root / "report")
    tensorboard = property(lambda self: self.root / "tensorboard")

    # ------------------------------------------------------------ creating

    @classmethod
    def check_new(cls, path: str | Path, *, force: bool) -> RunDir:
        """Check that a new run may be written to ``path`` (nothing is created yet).

        Raises
        ------
        FileExistsError
            If ``path`` exists and is not empty, unless ``force`` and it is a
            run directory (or empty); a folder that is not a run is never deleted.
        """
        run = cls(Path(path))
        root = run.root
        if root.exists() and not root.is_dir():
            raise FileExistsError(f"{root} exists and is a file; choose another --out folder")
        if not root.is_dir() or not any(root.iterdir()):
            return run
        if not run.config_file.is_file():
            raise FileExistsError(
                f"{root} exists and is not a vaelab run directory (no config.toml); choose another --out folder "
                "(--force only replaces earlier runs)"
            )
        if not force:
            raise FileExistsError(
                f"{root} already holds a run; pass --force to replace it, run `vaelab resume {root}` to continue "
                "it, or choose another --out folder"
            )
        cwd = Path.cwd().resolve()
        if root.resolve() == cwd or root.resolve() in cwd.parents:
            raise FileExistsError(f"refusing to replace {root}: it is the current folder or holds it")
        return run

    def create(self, config: RunSpec) -> None:
        """Replace an earlier run (already allowed by :meth:`check_new`), then write ``config.toml``."""
        if self.root.is_dir() and any(self.root.iterdir()):
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config_file, config.to_toml())

    # ------------------------------------------------------------- reading

    @classmethod
    def open(cls, path: str | Path, *, made_by: str = "vaelab train") -> RunDir:
        """An existing run directory (``made_by``: the command that writes one, for the error messages).

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist or holds no ``config.toml``.
        """
        run = cls(Path(path))
        if not run.root.is_dir():
            raise FileNotFoundError(f"run directory {run.root} does not exist; create one with `{made_by}`")
        if not run.config_file.is_file():
            raise FileNotFoundError(
                f"{run.root} is not a vaelab run directory (no config.toml); give a folder written by `{made_by}`"
            )
        return run

    def config(self, *, no_verify: bool = False) -> RunSpec:
        """The run's ``config.toml``; ``no_verify`` (a command's ``--no-verify``) skips the data's checksums."""
        config = RunSpec.read(self.config_file)
        return config.replace(verify=False) if no_verify and not config.is_table else config

    @property
    def complete(self) -> bool:
        """True once training finished and the model was saved."""
        return (self.model_dir / "config.json").is_file()

    def load_model(self, config: RunSpec | None = None) -> EncoderDecoderEstimator:
        """The run's fitted model, checked against its ``config.toml``."""
        from vaelab.estimators import load

        config = config or self.config()
        if not self.complete:
            raise ModelFileError(
                f"{self.root} has no trained model yet (no model/ folder): its training did not finish; "
                f"continue it with `vaelab resume {self.root}`"
            )
        estimator = load(self.model_dir)
        found = type(estimator).__name__
        if found != config.estimator:
            raise ModelFileError(
                f"{self.model_dir} holds a {found} but {self.config_file} says the estimator is {config.estimator}; "
                "the run directory mixes files of different runs"
            )
        return estimator

    # -------------------------------------------------------------- records

    def write_history(self, rows: list[dict[str, Any]]) -> None:
        from vaelab.estimators.base import history_to_csv

        if rows:
            atomic_write_text(self.history_file, history_to_csv(rows))

    def metrics(self) -> dict[str, Any]:
        """The contents of ``metrics.json`` ({} if there is none)."""
        if not self.metrics_file.is_file():
            return {}
        data = read_json(self.metrics_file, "metrics file")
        if not isinstance(data, dict):
            raise ModelFileError(
                f"{self.metrics_file} does not hold a JSON object; delete it and run `vaelab evaluate`"
            )
        return data

    def update_metrics(self, key: str, values: dict[str, Any]) -> dict[str, Any]:
        """Set ``metrics.json[key]`` (a split such as "test", or "training"); other keys are kept."""
        data = self.metrics()
        data[key] = jsonable(values)
        write_json(self.metrics_file, data)
        return data

    def output_path(self, given: str | Path | None, default_name: str, *, force: bool, folder: str = "figures") -> Path:
        """Where a command writes its output: ``given``, or ``<run>/<folder>/<default_name>``.

        Raises
        ------
        FileExistsError
            If the file exists and ``force`` is False.
        """
        path = Path(given) if given is not None else self.root / folder / default_name
        if path.exists() and not force:
            raise FileExistsError(f"{path} already exists; pass --force to overwrite it or choose another --out")
        if path.is_dir():
            raise InputError(f"--out {path} is a folder; give a file name ending in .png, .npy or .csv")
        return path

    @contextmanager
    def logging_to_file(self) -> Iterator[None]:
        """Append vaelab's log records (INFO and up) to ``train.log`` while the block runs."""
        handler = logging.FileHandler(self.log_file, mode="a", encoding="utf-8")
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.setLevel(logging.INFO)
        try:
            with vaelab_log_handler(handler):
                yield
        finally:
            handler.close()


@contextmanager
def vaelab_log_handler(handler: logging.Handler) -> Iterator[None]:
    """Attach ``handler`` to the ``vaelab`` logger for the block, lowering its level to the handler's if needed."""
    logger = logging.getLogger("vaelab")
    previous = logger.level
    if previous == logging.NOTSET or previous > handler.level:
        logger.setLevel(handler.level)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
