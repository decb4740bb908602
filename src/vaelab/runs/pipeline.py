"""The one run lifecycle: create, fit (with checkpoints), resume, save, evaluate.

``vaelab train``, ``vaelab tabular fit``, ``vaelab resume``, ``vaelab
tabular resume`` and the Python API (:func:`run`, :func:`resume`) all go
through here. :func:`start` checks everything (options, data, rules) and only
then creates the run directory with its resolved ``config.toml``: bad options
or missing data leave nothing behind. A checkpoint is written after every
epoch, so an interrupted run can always be resumed, and a resumed run ends
with exactly the weights of an uninterrupted one.

With ``nproc > 1`` the parent process creates the run directory, then runs
``vaelab resume RUN`` in N processes under torch's elastic launcher (the
engine of torchrun); they train data-parallel and rank 0 alone writes the
checkpoints, the history, the model and the metrics. With several nodes
(:class:`~vaelab.training.distributed.NodeGroup`) the same happens on every
machine: node 0 creates the run directory (on a folder all nodes share) and
every node launches its processes into one group.

What a run tells its user goes to a *reporter* (the command line's console:
``note`` for progress, ``result`` for results); without one, to the
``vaelab.runs`` logger.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from vaelab.errors import InputError, ModelFileError, OptionError, VaelabError
from vaelab.runs.run_dir import RunDir
from vaelab.runs.spec import RunSpec

if TYPE_CHECKING:
    from vaelab.training.distributed import NodeGroup

logger = logging.getLogger(__name__)

__all__ = ["LogReporter", "Reporter", "default_out", "fit", "resume", "run", "start"]


class Reporter(Protocol):
    """Where a run reports: ``note`` (progress, advice) and ``result`` (what the user asked for)."""

    quiet: bool

    @property
    def stderr(self) -> TextIO: ...

    def note(self, text: str) -> None: ...

    def result(self, text: str = "") -> None: ...


@dataclass
class LogReporter:
    """The reporter of the Python API: notes and results go to the ``vaelab.runs`` logger (INFO)."""

    quiet: bool = True

    @property
    def stderr(self) -> TextIO:
        return io.StringIO()

    def note(self, text: str) -> None:
        logger.info("%s", text)

    def result(self, text: str = "") -> None:
        logger.info("%s", text)


class _Silent(LogReporter):
    """Reports nothing: the reporter of ranks other than 0 in a process group."""

    def note(self, text: str) -> None:
        pass

    def result(self, text: str = "") -> None:
        pass


@dataclass(frozen=True)
class TableData:
    """A table run's rows: the training rows and those held out for the report (row numbers in ``held``)."""

    train: Any
    holdout: Any
    held: list[int]
    description: str


def default_out(spec: RunSpec) -> Path:
    """``runs/<data name>-<model>`` (``runs/<file>-tabular`` for a table)."""
    data = spec.value("data") or "data"
    return Path("runs") / f"{Path(data).stem}-{'tabular' if spec.is_table else spec.model}"


def resolved(spec: RunSpec) -> RunSpec:
    """``spec`` with what depends on where it runs made explicit: paths absolute (so that ``resume`` works from
    any folder), and the built-in data set's folder named."""
    changes: dict[str, Any] = {}
    data = spec.value("data")
    if spec.is_table:
        changes["data"] = str(Path(data).expanduser().resolve())
        for name in ("constraints", "metadata"):
            value = spec.params.get(name)
            if isinstance(value, str):
                changes[name] = str(Path(value).expanduser().resolve())
    else:
        from vaelab.data import available_datasets
        from vaelab.data.dataset import resolve_data_dir

        if data in available_datasets():
            if data != "digits":
                changes["data_dir"] = str(resolve_data_dir(spec.value("data_dir")).resolve())
        else:
            changes["data"] = str(Path(data).expanduser().resolve())
        if spec.value("features"):
            changes["features"] = str(Path(spec.value("features")).expanduser().resolve())
    return spec.replace(**changes)


# --------------------------------------------------------------------------- data


def load_data(spec: RunSpec, run: RunDir | None = None, *, download: bool = False) -> Any:
    """The run's data: a :class:`~vaelab.data.Dataset` with its splits, or a table's :class:`TableData`.

    A table's held-out rows are drawn with the seed when the run is created and
    kept in ``split.json``; a resumed run reads them from there.
    """
    if not spec.is_table:
        from vaelab.runs.data import load_run_data

        return load_run_data(spec, download=download)
    import numpy as np

    from vaelab.serialization import read_json
    from vaelab.tabular.io import read_table

    df = read_table(spec.value("data"), encoding=spec.value("encoding"), name="DATA")
    split_file = None if run is None else run.root / "split.json"
    if split_file is not None and split_file.is_file():
        held = [int(i) for i in read_json(split_file, "split file")["holdout_rows"]]
    else:
        k = int(round(len(df) * spec.value("holdout")))
        held = sorted(int(i) for i in np.random.default_rng(spec.seed).permutation(len(df))[:k])
    mask = df.index.isin(held)
    train, holdout = df[~mask].reset_index(drop=True), df[mask].reset_index(drop=True)
    return TableData(train, holdout, held, f"{len(train)} rows x {train.shape[1]} columns ({len(held)} held out)")


def _check_table(spec: RunSpec, estimator: Any, data: TableData) -> None:
    """The table's column kinds and rules, checked against its rows before the run directory exists."""
    from vaelab.tabular.rules import check_table
    from vaelab.tabular.schema import Schema

    _, coerced = Schema.infer(data.train, estimator._parsed_metadata())
    check_table(coerced, estimator._parsed_constraints())


# --------------------------------------------------------------------------- lifecycle


def start(
    spec: RunSpec, out: str | Path | None, *, force: bool, download: bool = False
) -> tuple[RunDir, RunSpec, Any]:
    """Check everything, then create the run directory with its resolved ``config.toml``.

    Returns the run, the resolved spec and the loaded data.

    Raises
    ------
    InputError, FileExistsError
        For bad options, data or rules, or an ``out`` that holds something else; nothing is created then.
    """
    from vaelab._runtime import flush_denormals_in_process

    flush_denormals_in_process()  # before the data loads, so that torch's worker threads inherit it
    if not spec.value("data"):
        raise OptionError(
            "no data given: pass DATA (a built-in name such as digits or mnist, a .npy/.npz/.csv file "
            "or an image folder) or set data in the --config file"
        )
    run = RunDir.check_new(out if out is not None else default_out(spec), force=force)
    estimator = spec.build_estimator()  # every option checked before the data are read
    if not spec.is_table:
        _check_distributed(spec)
        if spec.value("tensorboard"):
            from vaelab.runs.callbacks import check_tensorboard

            check_tensorboard()
    data = load_data(spec, download=download)  # the names as given, for the loader's messages
    spec = resolved(spec)
    if spec.is_table:
        _check_table(spec, estimator, data)
    else:
        if spec.params.get("conditional") and data.y_train is None:
            raise OptionError(
                f"conditional needs labels, but the data {spec.value('data')!r} have none; use a labelled data set "
                "(digits, mnist, fashion-mnist, shapes) or name the label column of a table with --label-column"
            )
        from vaelab.runs.evaluation import feature_choice

        feature_choice(spec, input_shape=data.example_shape)  # a bad --features, too
    run.create(spec)
    if spec.is_table:
        from vaelab.serialization import write_json

        write_json(run.root / "split.json", {"holdout_rows": data.held, "rows": len(data.train) + len(data.held)})
    return run, spec, data


def _check_distributed(spec: RunSpec) -> None:
    if spec.value("nproc") > 1 and spec.estimator == "PCA":
        raise InputError("nproc applies to the trained models (autoencoder, vae); PCA is fitted in closed form "
                         "in one process")


def fit(
    run: RunDir,
    spec: RunSpec,
    data: Any,
    *,
    resume: bool,
    reporter: Reporter,
    callbacks: Sequence[Any] = (),
    progress: Any = None,
) -> dict[str, Any]:
    """Fit the run's model, save it, its history and (arrays and images) its test metrics; returns the metrics.

    ``resume`` continues from the run's last checkpoint when it has one.
    ``progress`` is the callback that shows training progress (default: a
    bar per epoch, or a line per epoch off a terminal; none when quiet).
    In a process group (``nproc``), every rank trains and rank 0 alone
    writes; the other ranks return no metrics.
    """
    from vaelab._runtime import torch_threads
    from vaelab.estimators import NeuralEstimator
    from vaelab.runs.callbacks import EpochLogger, HistoryWriter, TensorBoardLogger
    from vaelab.training import ProgressBar, has_checkpoint
    from vaelab.training.distributed import is_main_process

    estimator = spec.build_estimator()
    main = is_main_process()
    with run.logging_to_file() if main else nullcontext(), torch_threads(spec.value("threads")):
        logger.info("%s %s in %s", "resume" if resume else "train", spec.estimator, run.root.resolve())
        logger.info("data: %s", data.description)
        fit_kwargs: dict[str, Any] = {}
        if isinstance(estimator, NeuralEstimator) or spec.is_table:
            cbs: list[Any] = [HistoryWriter(run), EpochLogger()]
            if progress is None and not reporter.quiet:
                progress = ProgressBar(stream=reporter.stderr)
            cbs += [] if progress is None else [progress]
            cbs += [TensorBoardLogger(run.tensorboard)] if not spec.is_table and spec.value("tensorboard") else []
            continuing = resume and has_checkpoint(run.checkpoints)
            fit_kwargs = {"checkpoint_dir": run.checkpoints, "resume": continuing, "callbacks": [*cbs, *callbacks]}
            if not spec.is_table and data.x_valid is not None:
                fit_kwargs["X_valid"] = data.x_valid
                if spec.params.get("conditional"):
                    fit_kwargs["y_valid"] = data.y_valid
        if spec.is_table:
            args: tuple[Any, ...] = (data.train,)
            reporter.note(f"fitting {spec.estimator} on {data.description} -> {run.root}")
        else:
            args = (data.x_train, data.y_train) if spec.params.get("conditional") else (data.x_train,)
            reporter.note(f"training {spec.estimator} on {len(data.x_train)} examples of {spec.value('data')} "
                          f"-> {run.root}")
        started = time.perf_counter()
        try:
            estimator.fit(*args, **fit_kwargs)
        except KeyboardInterrupt:
            logger.info("interrupted; the last checkpoint is kept")
            reporter.note(f"interrupted: continue the run with `vaelab {_resume_command(spec)} {run.root}`")
            raise
        except RuntimeError as exc:
            if resume and "state_dict" in str(exc):
                raise ModelFileError(
                    f"the checkpoints in {run.checkpoints} do not fit the model that {run.config_file} describes; "
                    "the run directory mixes files of different runs"
                ) from None
            raise
        if not main:
            return {}
        history = list(getattr(estimator, "history_", None) or [])
        seconds = sum(float(r.get("seconds", 0.0)) for r in history) if history else time.perf_counter() - started
        estimator.save(run.model_dir)
        run.write_history(history)
        training = {"seconds": seconds, "epochs": len(history), "steps": history[-1]["step"] if history else 0}
        if spec.is_table:
            training["rows"] = len(data.train)
        run.update_metrics("training", training)
        metrics: dict[str, Any] = {}
        if spec.is_table:
            if estimator.privacy_:
                run.update_metrics("differential_privacy", estimator.privacy_)
            for v in estimator.pipeline_.violations:
                reporter.note(f"left out {v.count} rows violating {v.constraint} (rows {v.rows})")
        elif data.x_test is not None:
            from vaelab.runs.evaluation import feature_choice, run_metrics

            metrics = run_metrics(
                estimator, data.x_test, y=data.y_test, factors=data.factors_test, seed=spec.seed,
                features=feature_choice(spec),
            )
            run.update_metrics("test", metrics)
            logger.info("test metrics: %s", {k: v for k, v in metrics.items() if isinstance(v, (int, float))})
        logger.info("saved the model to %s", run.model_dir)
    return metrics


def _resume_command(spec: RunSpec) -> str:
    return "tabular resume" if spec.is_table else "resume"


def finish(run: RunDir, spec: RunSpec, metrics: dict[str, Any], reporter: Reporter) -> None:
    """Tell the user where the run is, its test figures, and what to run next."""
    from vaelab.runs.evaluation import metrics_table

    reporter.result(f"run directory: {run.root}")
    if metrics:
        reporter.result(metrics_table(metrics))
    if spec.is_table:
        privacy = run.metrics().get("differential_privacy")
        if privacy:
            reporter.result(f"differential privacy: epsilon {privacy['epsilon']:.3g} at delta {privacy['delta']:.3g}")
        reporter.note(f"next: vaelab tabular sample {run.root} -n 1000 --out synth.csv")
        reporter.note(f"      vaelab tabular report {run.root}")
        return
    reporter.note(f"next: vaelab report {run.root}    (an HTML report with figures)")
    if spec.estimator in ("VAE", "VAEGAN"):
        reporter.note(f"      vaelab sample {run.root} -n 64 --seed 0")


def discard_if_unstarted(run: RunDir) -> None:
    """Remove a new run that failed before its first checkpoint: it holds nothing worth resuming."""
    from vaelab.training import has_checkpoint

    if not run.complete and not has_checkpoint(run.checkpoints):
        shutil.rmtree(run.root, ignore_errors=True)


def run(
    spec: RunSpec,
    out: str | Path | None = None,
    *,
    force: bool = False,
    reporter: Reporter | None = None,
    callbacks: Sequence[Any] = (),
    download: bool = False,
    nodes: NodeGroup | None = None,
    debug: bool = False,
    env: Mapping[str, str] | None = None,
) -> RunDir:
    """Carry out a new run of ``spec`` into ``out`` (default :func:`default_out`); returns its directory.

    This is what ``vaelab train`` and ``vaelab tabular fit`` do, so that a
    Python user gets the same run directory, files and figures. With
    ``nproc > 1`` the run is trained by that many processes (``callbacks``
    then do not apply: they live in this process). With ``nodes`` of several
    machines, node 0 creates the run directory and the other nodes only
    launch their processes, which read it (a shared folder). ``debug`` is
    passed to the processes, which get the environment ``env``.

    Examples
    --------
    >>> import tempfile
    >>> from vaelab.runs import RunSpec, run
    >>> spec = RunSpec.from_layers([{"data": "digits", "model": "pca", "latent_dim": 4}])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     done = run(spec, f"{tmp}/pca")
    ...     sorted(p.name for p in done.root.iterdir())
    ['config.toml', 'metrics.json', 'model', 'train.log']
    """
    reporter = reporter or LogReporter()
    if os.environ.get("WORLD_SIZE", "1") != "1":
        raise InputError(
            "a new run must not start under torchrun (every process would create the run directory); "
            "use nproc=N (`vaelab train --nproc N`), or start `torchrun ... -m vaelab.cli resume RUN` on a created run"
        )
    multi_node = nodes is not None and nodes.multi_node
    if multi_node and spec.estimator == "PCA":
        raise InputError("--nnodes applies to the trained models (autoencoder, vae); PCA is fitted in one process")
    if multi_node and nodes.node_rank > 0:  # type: ignore[union-attr]
        run_dir = RunDir(Path(out) if out is not None else default_out(spec))
        fit_in_processes(run_dir, spec, reporter=reporter, nodes=nodes, debug=debug, env=env)
        return run_dir
    run_dir, spec, data = start(spec, out, force=force, download=download)
    try:
        if not spec.is_table and (spec.value("nproc") > 1 or multi_node):
            fit_in_processes(run_dir, spec, reporter=reporter, nodes=nodes, debug=debug, env=env)
            return run_dir
        metrics = fit(run_dir, spec, data, resume=False, reporter=reporter, callbacks=callbacks)
    except Exception:
        discard_if_unstarted(run_dir)
        raise
    finish(run_dir, spec, metrics, reporter)
    return run_dir


def fit_in_processes(
    run: RunDir,
    spec: RunSpec,
    *,
    reporter: Reporter,
    nodes: NodeGroup | None = None,
    debug: bool = False,
    env: Mapping[str, str] | None = None,
) -> None:
    """Train ``run`` data-parallel: ``vaelab resume RUN`` in ``nproc`` processes on this machine.

    With ``nodes`` of several machines, this machine's processes join those of
    the other nodes at the rendezvous. The processes print their own progress
    and errors (with the traceback when ``debug``); rank 0 prints the results.
    """
    import torch

    from vaelab._runtime import resolve_device
    from vaelab.training import has_checkpoint
    from vaelab.training.distributed import RendezvousFailed, launch

    nproc = spec.value("nproc")
    device = resolve_device(spec.value("device"))
    if device.type == "cuda" and nproc > torch.cuda.device_count():
        raise InputError(
            f"nproc = {nproc} needs one GPU per process, but {torch.cuda.device_count()} are visible; "
            f"pass --nproc {torch.cuda.device_count()} or --device cpu"
        )
    if device.type not in ("cpu", "cuda"):
        raise InputError(f"nproc > 1 needs --device cpu or cuda, got {device.type}")
    doing = "resuming" if has_checkpoint(run.checkpoints) else "training"
    backend = "gloo" if device.type == "cpu" else "nccl"
    where = f"{nproc} processes" if nodes is None or not nodes.multi_node else (
        f"node {nodes.node_rank} of {nodes.nnodes} ({nproc} processes here, rendezvous at {nodes.endpoint})"
    )
    reporter.note(f"{doing} on {where} (DDP, {backend})")
    argv = ["-m", "vaelab.cli", "resume", str(run.root), "--nproc", str(nproc), "--worker"]
    argv += ["--no-verify"] if not spec.value("verify") else []
    argv += ["--debug"] if debug else []
    try:
        code = launch(argv + (["--quiet"] if reporter.quiet else []), nproc, nodes=nodes, env=env)
    except RendezvousFailed as exc:
        raise VaelabError(
            f"--rdzv-endpoint {nodes.endpoint if nodes else ''}: {exc}; or allow more time with --rdzv-timeout"
        ) from None
    if code != 0:
        raise VaelabError(
            f"training on {nproc} processes failed (exit code {code}): see the processes' error above "
            f"and {run.root / 'train.log'}"
        )


def resume(
    path: str | Path,
    *,
    reporter: Reporter | None = None,
    callbacks: Sequence[Any] = (),
    nproc: int | None = None,
    worker: bool = False,
    no_verify: bool = False,
    nodes: NodeGroup | None = None,
    debug: bool = False,
    env: Mapping[str, str] | None = None,
    table: bool | None = None,
) -> RunDir:
    """Continue an interrupted run from its last checkpoint.

    ``nproc`` overrides the number of processes of the run's ``config.toml``.
    ``worker`` marks the processes that ``nproc`` starts: they train (in the
    process group torchrun's environment describes) without relaunching.
    ``no_verify`` skips the checksums of the run's built-in data set.
    ``table`` (the command that resumes: True for ``vaelab tabular resume``,
    False for ``vaelab resume``, None from Python) refuses a run of the other
    kind with the command that continues it. ``nodes``, ``debug`` and ``env``
    are as for :func:`run`.
    """
    from vaelab._runtime import flush_denormals_in_process, resolve_device
    from vaelab.training import distributed, has_checkpoint

    reporter = reporter or LogReporter()
    flush_denormals_in_process()  # before the data loads, so that torch's worker threads inherit it
    made_by = "vaelab tabular fit" if table else "vaelab train"
    run_dir = RunDir.open(path, made_by=made_by)
    spec = run_dir.config(no_verify=no_verify)
    if table is not None and spec.is_table != table:
        right = "vaelab tabular resume" if spec.is_table else "vaelab resume"
        raise InputError(f"{run_dir.root} holds a {'table' if spec.is_table else 'non-table'} run "
                         f"({spec.estimator}); continue it with `{right} {run_dir.root}`")
    if run_dir.complete:
        again = "tabular fit" if spec.is_table else "train"
        raise InputError(
            f"{run_dir.root} is complete (its model/ is saved): nothing to resume. To train again, run "
            f"`vaelab {again} --config {run_dir.config_file} --out <new folder>`"
        )
    if nproc is not None:
        spec = spec.replace(nproc=nproc)
    if not spec.is_table:
        if spec.value("tensorboard"):
            from vaelab.runs.callbacks import check_tensorboard

            check_tensorboard()
        if distributed.init_from_env(resolve_device(spec.value("device"))):
            if not distributed.is_main_process():
                reporter = _Silent()  # rank 0 alone reports
        elif (spec.value("nproc") > 1 or (nodes is not None and nodes.multi_node)) and not worker:
            fit_in_processes(run_dir, spec, reporter=reporter, nodes=nodes, debug=debug, env=env)
            return run_dir
    if not worker and not has_checkpoint(run_dir.checkpoints):
        reporter.note("no checkpoint was written yet: training starts from the beginning")
    data = load_data(spec, run_dir)
    metrics = fit(run_dir, spec, data, resume=True, reporter=reporter, callbacks=callbacks)
    if distributed.is_main_process():
        finish(run_dir, spec, metrics, reporter)
    return run_dir

