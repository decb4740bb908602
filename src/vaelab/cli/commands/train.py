"""``vaelab train`` and ``vaelab resume``: fit a model into a run directory, or continue one.

``train`` resolves its options (defaults < ``--config`` < command line), loads
the data, and only then creates the run directory: bad options or missing data
leave nothing behind. ``config.toml`` is written before training starts and a
checkpoint after every epoch, so an interrupted run can always be resumed, and
a resumed run ends with exactly the weights of an uninterrupted one.

With ``--nproc N`` the parent process creates the run directory, then runs
``vaelab resume RUN`` in N processes under torch's elastic launcher (the
engine of torchrun); they train data-parallel and rank 0 alone writes the
checkpoints, the history, the model and the metrics. With ``--nnodes M``
(:mod:`vaelab.cli.multinode`) the same command runs on M machines: node 0
creates the run directory (on a folder all nodes share) and every node
launches its N processes into one group of M x N.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import shutil
import time
import typing
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vaelab.cli.commands.evaluate import compute_metrics, metrics_table
from vaelab.cli.commands.features import feature_choice
from vaelab.cli.config import RunConfig
from vaelab.cli.console import Console
from vaelab.cli.errors import ConfigError
from vaelab.cli.multinode import (
    DEFAULT_TIMEOUT,
    NNodes,
    NodeRank,
    RdzvEndpoint,
    RdzvTimeout,
    node_group,
    quiet_rendezvous,
)
from vaelab.cli.options import Debug, Force, NoVerify, Quiet, RunArg
from vaelab.cli.run_dir import RunDir
from vaelab.cli.train_options import (
    Activation,
    BatchSize,
    Beta,
    Binarize,
    Conditional,
    ConfigFile,
    Data,
    DataArg,
    DataDir,
    Device,
    Download,
    Epochs,
    Features,
    HiddenDims,
    ImageSize,
    LabelColumn,
    LatentDim,
    LearningRate,
    Likelihood,
    LrSchedule,
    ModelName,
    Network,
    Norm,
    Nproc,
    Patience,
    RunOut,
    Tensorboard,
    TestFraction,
    Threads,
    TrainSeed,
    ValidationFraction,
    VerifyData,
    parse_dims,
)
from vaelab.cli.vae_options import (
    Components,
    Dreg,
    FreeBits,
    K,
    KLSchedule,
    Objective,
    Prior,
    Recipe,
    StochasticLayers,
    TcBeta,
    recipe_values,
)
from vaelab.errors import InputError, ModelFileError, VaelabError

if typing.TYPE_CHECKING:
    from vaelab.training.distributed import NodeGroup

logger = logging.getLogger(__name__)


TRAIN_EPILOG = """**Examples**

```
vaelab train --data digits --model vae --latent-dim 2 --epochs 20 --out runs/digits-vae
vaelab train digits --model autoencoder
vaelab train mnist --data-dir ../shared/data --binarize dynamic --epochs 30 --out runs/mnist-vae
vaelab train --model pca --data mnist --data-dir ../shared/data --latent-dim 16 --out runs/mnist-pca
vaelab train --data my_table.csv --label-column label --model autoencoder --latent-dim 4
vaelab train mnist --data-dir ../shared/data --conditional --binarize dynamic --out runs/mnist-cvae
vaelab train --config run.toml --epochs 5 --out runs/short
vaelab train mnist --data-dir ../shared/data --binarize dynamic --nproc 2 --out runs/mnist-ddp
vaelab train mnist --data-dir ../shared/data --objective iwae --k 5 --dreg --kl-schedule warmup:10000
vaelab train mnist --data-dir ../shared/data --prior vamp --components 500 --stochastic-layers 2
vaelab train mnist --data-dir ../shared/data --recipe best --out runs/mnist-best
vaelab train mnist --data-dir /shared/data --nnodes 2 --node-rank 0 --rdzv-endpoint 10.0.0.1:29500 --out /shared/runs/m
```

A --config file is TOML with the same names as the options (latent_dim = 16, hidden_dims = [512, 256], ...);
options on the command line override it. Each run directory holds config.toml, which is such a file.
For MNIST's grey levels with a VAE, --binarize dynamic makes the Bernoulli likelihood exact.
"""

RESUME_EPILOG = """**Examples**

```
vaelab resume runs/mnist-vae
vaelab resume runs/mnist-ddp --nproc 2
vaelab resume /shared/runs/m --nnodes 2 --node-rank 1 --rdzv-endpoint 10.0.0.1:29500
```
"""


def default_out(config: RunConfig) -> Path:
    """``runs/<data name>-<model>``."""
    return Path("runs") / f"{Path(config.data).stem}-{config.model}"


def fit_run(
    run: RunDir,
    config: RunConfig,
    dataset: Any,
    *,
    resume: bool,
    console: Console,
    callbacks: Sequence[Any] = (),
    progress: Any = None,
) -> dict[str, Any]:
    """Fit the run's model, save it, its history and its test metrics; returns the metrics.

    ``resume`` continues from the run's last checkpoint when it has one.
    ``progress`` is the callback that shows training progress (default: a
    bar per epoch, or a line per epoch off a terminal; none when quiet).
    In a process group (``--nproc``), every rank trains and rank 0 alone
    writes; the other ranks return no metrics.
    """
    from vaelab._runtime import torch_threads
    from vaelab.cli.callbacks import EpochLogger, HistoryWriter, TensorBoardLogger
    from vaelab.estimators import NeuralEstimator
    from vaelab.training import ProgressBar, has_checkpoint
    from vaelab.training.distributed import is_main_process

    estimator = config.build_estimator()
    main = is_main_process()
    with run.logging_to_file() if main else nullcontext(), torch_threads(config.threads):
        logger.info("%s %s in %s", "resume" if resume else "train", config.estimator_name, run.root.resolve())
        logger.info("data: %s", dataset.description)
        fit_kwargs: dict[str, Any] = {}
        if isinstance(estimator, NeuralEstimator):
            cbs: list[Any] = [HistoryWriter(run), EpochLogger()]
            if progress is None and not console.quiet:
                progress = ProgressBar(stream=console.stderr)
            cbs += [] if progress is None else [progress]
            cbs += [TensorBoardLogger(run.tensorboard)] if config.tensorboard else []
            continuing = resume and has_checkpoint(run.checkpoints)
            fit_kwargs = {"checkpoint_dir": run.checkpoints, "resume": continuing, "callbacks": [*cbs, *callbacks]}
            if dataset.x_valid is not None:
                fit_kwargs["X_valid"] = dataset.x_valid
                if config.conditional:
                    fit_kwargs["y_valid"] = dataset.y_valid
        labels = (dataset.y_train,) if config.conditional else ()
        console.note(
            f"training {config.estimator_name} on {len(dataset.x_train)} examples of {config.data} -> {run.root}"
        )
        started = time.perf_counter()
        try:
            estimator.fit(dataset.x_train, *labels, **fit_kwargs)
        except KeyboardInterrupt:
            logger.info("interrupted; the last checkpoint is kept")
            console.note(f"interrupted: continue the run with `vaelab resume {run.root}`")
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
        run.update_metrics(
            "training", {"seconds": seconds, "epochs": len(history), "steps": history[-1]["step"] if history else 0}
        )
        metrics: dict[str, Any] = {}
        if dataset.x_test is not None:
            metrics = compute_metrics(
                estimator,
                dataset.x_test,
                y=dataset.y_test,
                factors=dataset.factors_test,
                seed=config.seed,
                features=feature_choice(config),
            )
            run.update_metrics("test", metrics)
            logger.info("test metrics: %s", {k: v for k, v in metrics.items() if isinstance(v, (int, float))})
        logger.info("saved the model to %s", run.model_dir)
    return metrics


def finish(run: RunDir, config: RunConfig, metrics: dict[str, Any], console: Console) -> None:
    console.result(f"run directory: {run.root}")
    if metrics:
        console.result(metrics_table(metrics))
    console.note(f"next: vaelab report {run.root}    (an HTML report with figures)")
    if config.model in ("vae", "vaegan"):
        console.note(f"      vaelab sample {run.root} -n 64 --seed 0")


def start_run(
    config: RunConfig, out: Path | None, *, force: bool, download: bool = False
) -> tuple[RunDir, RunConfig, Any]:
    """Check everything, then create the run directory with its resolved ``config.toml``.

    Returns the run, the resolved config and the loaded data set.
    """
    from vaelab._runtime import flush_denormals_in_process
    from vaelab.cli.callbacks import check_tensorboard
    from vaelab.cli.data import load_run_data

    flush_denormals_in_process()  # before the data loads, so that torch's worker threads inherit it

    run = RunDir.check_new(out if out is not None else default_out(config), force=force)
    if config.tensorboard:
        check_tensorboard()
    dataset = load_run_data(config, download=download)
    if config.conditional and dataset.y_train is None:
        raise ConfigError(
            f"--conditional needs labels, but the data {config.data!r} has none; use a labelled data set "
            "(digits, mnist, fashion-mnist, shapes) or name the label column of a table with --label-column"
        )
    config = config.resolved(dataset)
    config.build_estimator()  # fails on inconsistent options before the folder exists
    feature_choice(config, input_shape=dataset.example_shape)  # a bad --features, too
    run.create(config)
    return run, config, dataset


def discard_if_unstarted(run: RunDir) -> None:
    """Remove a new run that failed before its first checkpoint: it holds nothing worth resuming."""
    from vaelab.training import has_checkpoint

    if not run.complete and not has_checkpoint(run.checkpoints):
        shutil.rmtree(run.root, ignore_errors=True)


def train_run(
    config: RunConfig,
    out: Path | None,
    *,
    force: bool,
    console: Console,
    callbacks: Sequence[Any] = (),
    download: bool = False,
    nodes: NodeGroup | None = None,
    debug: bool = False,
    env: Mapping[str, str] | None = None,
) -> RunDir:
    """Train a new run of ``config`` into ``out`` (default ``runs/<data>-<model>``).

    With ``config.nproc > 1`` the run is trained by that many processes
    (``callbacks`` then do not apply: they live in this process). With
    ``nodes`` of several machines, node 0 creates the run directory and the
    other nodes only launch their processes, which read it (a shared folder).
    ``debug`` is passed to the processes, which get the environment ``env``.
    """
    if os.environ.get("WORLD_SIZE", "1") != "1":
        raise ConfigError(
            "`vaelab train` must not run under torchrun (every process would create the run directory); "
            "use `vaelab train --nproc N`, or start `torchrun ... -m vaelab.cli resume RUN` on a created run"
        )
    multi_node = nodes is not None and nodes.multi_node
    if multi_node and config.model == "pca":
        raise ConfigError("--nnodes applies to the trained models (autoencoder, vae); PCA is fitted in one process")
    if multi_node and nodes.node_rank > 0:  # type: ignore[union-attr]
        run = RunDir(Path(out) if out is not None else default_out(config))
        fit_in_processes(run, config, console=console, nodes=nodes, debug=debug, env=env)
        return run
    run, config, dataset = start_run(config, out, force=force, download=download)
    try:
        if config.nproc > 1 or multi_node:
            fit_in_processes(run, config, console=console, nodes=nodes, debug=debug, env=env)
            return run
        metrics = fit_run(run, config, dataset, resume=False, console=console, callbacks=callbacks)
    except Exception:
        discard_if_unstarted(run)
        raise
    finish(run, config, metrics, console)
    return run


def fit_in_processes(
    run: RunDir,
    config: RunConfig,
    *,
    console: Console,
    nodes: NodeGroup | None = None,
    debug: bool = False,
    env: Mapping[str, str] | None = None,
) -> None:
    """Train ``run`` data-parallel: ``vaelab resume RUN`` in ``config.nproc`` processes on this machine.

    With ``nodes`` of several machines, this machine's processes join those of
    the other nodes at the rendezvous. The processes print their own progress
    and errors (with the traceback when ``debug``); rank 0 prints the results.
    """
    import torch

    from vaelab._runtime import resolve_device
    from vaelab.training import has_checkpoint
    from vaelab.training.distributed import RendezvousFailed, launch

    nproc = config.nproc
    device = resolve_device(config.device)
    if device.type == "cuda" and nproc > torch.cuda.device_count():
        raise ConfigError(
            f"nproc = {nproc} needs one GPU per process, but {torch.cuda.device_count()} are visible; "
            f"pass --nproc {torch.cuda.device_count()} or --device cpu"
        )
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"nproc > 1 needs --device cpu or cuda, got {device.type}")
    doing = "resuming" if has_checkpoint(run.checkpoints) else "training"
    backend = "gloo" if device.type == "cpu" else "nccl"
    where = f"{nproc} processes" if nodes is None or not nodes.multi_node else (
        f"node {nodes.node_rank} of {nodes.nnodes} ({nproc} processes here, rendezvous at {nodes.endpoint})"
    )
    console.note(f"{doing} on {where} (DDP, {backend})")
    argv = ["-m", "vaelab.cli", "resume", str(run.root), "--nproc", str(nproc), "--worker"]
    argv += ["--no-verify"] if not config.verify else []
    argv += ["--debug"] if debug else []
    try:
        code = launch(argv + (["--quiet"] if console.quiet else []), nproc, nodes=nodes, env=env)
    except RendezvousFailed as exc:
        raise VaelabError(
            f"--rdzv-endpoint {nodes.endpoint if nodes else ''}: {exc}; or allow more time with --rdzv-timeout"
        ) from None
    if code != 0:
        raise VaelabError(
            f"training on {nproc} processes failed (exit code {code}): see the processes' error above "
            f"and {run.root / 'train.log'}"
        )


def resume_run(
    path: Path,
    *,
    console: Console,
    callbacks: Sequence[Any] = (),
    nproc: int | None = None,
    worker: bool = False,
    no_verify: bool = False,
    nodes: NodeGroup | None = None,
    debug: bool = False,
    env: Mapping[str, str] | None = None,
) -> RunDir:
    """Continue an interrupted run from its last checkpoint.

    ``nproc`` overrides the number of processes of the run's ``config.toml``.
    ``worker`` marks the processes that ``--nproc`` starts: they train (in
    the process group torchrun's environment describes) without relaunching.
    ``no_verify`` skips the checksums of the run's built-in data set.
    ``nodes``, ``debug`` and ``env`` are as for :func:`train_run`.
    """
    from vaelab._runtime import flush_denormals_in_process, resolve_device
    from vaelab.cli.callbacks import check_tensorboard
    from vaelab.cli.data import load_run_data
    from vaelab.training import distributed, has_checkpoint

    flush_denormals_in_process()  # before the data loads, so that torch's worker threads inherit it

    run = RunDir.open(path)
    if run.complete:
        raise InputError(
            f"{run.root} is complete (its model/ is saved): nothing to resume. To train again, run "
            f"`vaelab train --config {run.config_file} --out <new folder>`"
        )
    config = run.config(no_verify=no_verify)
    if nproc is not None:
        config = dataclasses.replace(config, nproc=nproc)
    if config.tensorboard:
        check_tensorboard()
    if distributed.init_from_env(resolve_device(config.device)):
        if not distributed.is_main_process():
            console = Console(quiet=True, out=io.StringIO())  # rank 0 alone reports
    elif (config.nproc > 1 or (nodes is not None and nodes.multi_node)) and not worker:
        fit_in_processes(run, config, console=console, nodes=nodes, debug=debug, env=env)
        return run
    if not worker and not has_checkpoint(run.checkpoints):
        console.note("no checkpoint was written yet: training starts from the beginning")
    dataset = load_run_data(config)
    metrics = fit_run(run, config, dataset, resume=True, console=console, callbacks=callbacks)
    if distributed.is_main_process():
        finish(run, config, metrics, console)
    return run


def train_command(
    data_arg: DataArg = None,
    data: Data = None,
    data_dir: DataDir = None,
    label_column: LabelColumn = None,
    image_size: ImageSize = None,
    test_fraction: TestFraction = None,
    download: Download = False,
    verify: VerifyData = None,
    model: ModelName = None,
    latent_dim: LatentDim = None,
    network: Network = None,
    hidden_dims: HiddenDims = None,
    activation: Activation = None,
    norm: Norm = None,
    likelihood: Likelihood = None,
    beta: Beta = None,
    kl_schedule: KLSchedule = None,
    free_bits: FreeBits = None,
    objective: Objective = None,
    k: K = None,
    dreg: Dreg = None,
    prior: Prior = None,
    components: Components = None,
    tc_beta: TcBeta = None,
    stochastic_layers: StochasticLayers = None,
    conditional: Conditional = None,
    binarize: Binarize = None,
    epochs: Epochs = None,
    batch_size: BatchSize = None,
    learning_rate: LearningRate = None,
    lr_schedule: LrSchedule = None,
    validation_fraction: ValidationFraction = None,
    patience: Patience = None,
    seed: TrainSeed = None,
    device: Device = None,
    threads: Threads = None,
    nproc: Nproc = None,
    features: Features = None,
    tensorboard: Tensorboard = None,
    config_file: ConfigFile = None,
    out: RunOut = None,
    recipe: Recipe = None,
    nnodes: NNodes = 1,
    node_rank: NodeRank = None,
    rdzv_endpoint: RdzvEndpoint = None,
    rdzv_timeout: RdzvTimeout = DEFAULT_TIMEOUT,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Train PCA, an autoencoder, a VAE (conditional with --conditional) or a VAE-GAN and write a run directory.

    The run directory gets config.toml (every option, resolved), the model
    (model/config.json + model.safetensors), history.csv, metrics.json (test
    split), checkpoints/ and train.log. An existing run is replaced only with
    --force. Ctrl-C stops after the current step; `vaelab resume` continues.
    """
    if data_arg is not None and data is not None and data_arg != data:
        raise ConfigError(f"two different data given: {data_arg!r} and --data {data!r}; give one")
    overrides = {
        "data": data if data is not None else data_arg,
        "data_dir": data_dir,
        "label_column": label_column,
        "image_size": image_size,
        "test_fraction": test_fraction,
        "model": model,
        "latent_dim": latent_dim,
        "network": network,
        "hidden_dims": parse_dims(hidden_dims),
        "activation": activation,
        "norm": norm,
        "likelihood": likelihood,
        "beta": beta,
        "kl_schedule": kl_schedule,
        "free_bits": free_bits,
        "objective": objective,
        "k": k,
        "dreg": dreg,
        "prior": prior,
        "components": components,
        "tc_beta": tc_beta,
        "stochastic_layers": stochastic_layers,
        "conditional": conditional,
        "binarize": binarize,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "lr_schedule": lr_schedule,
        "validation_fraction": validation_fraction,
        "patience": patience,
        "seed": seed,
        "device": device,
        "threads": threads,
        "nproc": nproc,
        "tensorboard": tensorboard,
        "verify": verify,
        "features": features,
    }
    console = Console(quiet=quiet)
    with console.logging(), quiet_rendezvous(debug or nnodes == 1) as env:
        nodes = node_group(nnodes, node_rank, rdzv_endpoint, rdzv_timeout)
        config = RunConfig.resolve(config_file, overrides, recipe=recipe_values(recipe))
        train_run(config, out, force=force, console=console, download=download, nodes=nodes, debug=debug, env=env)


def resume_command(
    run: RunArg,
    nproc: Annotated[
        Optional[int],
        typer.Option(
            "--nproc",
            min=1,
            show_default=False,
            help="Processes to train on. [default: the run's nproc in config.toml]",
        ),
    ] = None,
    worker: Annotated[bool, typer.Option("--worker", hidden=True)] = False,
    no_verify: NoVerify = False,
    nnodes: NNodes = 1,
    node_rank: NodeRank = None,
    rdzv_endpoint: RdzvEndpoint = None,
    rdzv_timeout: RdzvTimeout = DEFAULT_TIMEOUT,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Continue an interrupted run exactly where its last checkpoint left it.

    Reads RUN/config.toml and the latest checkpoint in RUN/checkpoints; the
    finished run has the same weights as one that was never interrupted
    (on as many processes as it was started with; with another --nproc the
    new processes draw fresh noise).
    """
    console = Console(quiet=quiet)
    with console.logging(), quiet_rendezvous(debug or nnodes == 1) as env:
        nodes = node_group(nnodes, node_rank, rdzv_endpoint, rdzv_timeout)
        resume_run(
            run, console=console, nproc=nproc, worker=worker, no_verify=no_verify, nodes=nodes, debug=debug, env=env
        )
