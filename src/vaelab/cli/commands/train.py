"""``vaelab train`` and ``vaelab resume``: fit a model into a run directory, or continue one.

The flags are the estimators' declared parameters (:mod:`vaelab.estimators.params`),
the data's and the run's (:mod:`vaelab.runs.spec`), built by :mod:`vaelab.cli.flags`;
the run itself is :func:`vaelab.runs.run`, the same lifecycle as ``vaelab tabular fit``
and the Python API. Options resolve as defaults < ``--recipe`` < ``--config`` < the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vaelab.cli.console import Console
from vaelab.cli.errors import ConfigError, UsageError
from vaelab.cli.flags import given_values, spec_from, with_declared_options
from vaelab.cli.multinode import DEFAULT_TIMEOUT, NNodes, NodeRank, RdzvEndpoint, RdzvTimeout, node_group, quiet_rendezvous
from vaelab.cli.options import Debug, Force, NoVerify, Quiet, RunArg
from vaelab.params import OUTPUT
from vaelab.runs.spec import DATA_PARAMS, MODEL_NAMES, PARAM_SETS, RUN_PARAMS

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
vaelab train mnist --data-dir ../shared/data --objective iwae --k 5 --gradient dreg --kl-schedule warmup:10000
vaelab train mnist --data-dir ../shared/data --prior vamp --components 500 --stochastic-layers 2
vaelab train mnist --data-dir ../shared/data --recipe best --out runs/mnist-best
vaelab train mnist --data-dir /shared/data --nnodes 2 --node-rank 0 --rdzv-endpoint 10.0.0.1:29500 --out /shared/runs/m
```

A --config file is TOML with the same names as the options (latent_dim = 16, hidden_dims = [512, 256], ...),
or a run's config.toml; options on the command line override it. Every option is a parameter of the
estimator (or of the data or the run), declared once: `VAE(latent_dim=16, ...)` in Python.
For MNIST's grey levels with a VAE, --binarize dynamic makes the Bernoulli likelihood exact.
"""

RESUME_EPILOG = """**Examples**

```
vaelab resume runs/mnist-vae
vaelab resume runs/mnist-ddp --nproc 2
vaelab resume /shared/runs/m --nnodes 2 --node-rank 1 --rdzv-endpoint 10.0.0.1:29500
```
"""


#: the flags of `vaelab train`: every trainable model's parameters, the data's and the run's
TRAIN_SETS = {
    **{name: PARAM_SETS[MODEL_NAMES[name]] for name in ("vae", "autoencoder", "vaegan", "pca")},
    "data": DATA_PARAMS,
    "run": RUN_PARAMS,
}


def train_command(
    data_arg: Annotated[
        Optional[str], typer.Argument(metavar="DATA", show_default=False, help="The data, as --data (either may be used).")
    ] = None,
    model: Annotated[
        Optional[str],
        typer.Option("--model", "-m", rich_help_panel="Model", show_default=False,
                     help="pca, autoencoder, vae or vaegan (a VAE-GAN). [default: vae]"),
    ] = None,
    download: Annotated[
        bool,
        typer.Option("--download", rich_help_panel="Data",
                     help="Fetch a missing built-in data set (mnist, fashion-mnist, binarized-mnist) into --data-dir."),
    ] = False,
    dreg: Annotated[Optional[bool], typer.Option("--dreg/--no-dreg", hidden=True)] = None,
    config_file: Annotated[
        Optional[Path],
        typer.Option("--config", "-c", rich_help_panel=OUTPUT, show_default=False,
                     help="A TOML file of options (same names, e.g. latent_dim = 16), or a run's config.toml; "
                          "command-line options override it."),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", "-o", rich_help_panel=OUTPUT, show_default=False,
                     help="The run directory. [default: runs/DATA-MODEL]"),
    ] = None,
    recipe: Annotated[
        Optional[str],
        typer.Option("--recipe", rich_help_panel=OUTPUT, show_default=False,
                     help="A named set of options, under --config and the command line: best (the MNIST 60-minute "
                          "recipe)."),
    ] = None,
    nnodes: NNodes = 1,
    node_rank: NodeRank = None,
    rdzv_endpoint: RdzvEndpoint = None,
    rdzv_timeout: RdzvTimeout = DEFAULT_TIMEOUT,
    force: Force = False,
    quiet: Quiet = False,
    debug: Debug = False,
    **declared: Any,
) -> None:
    """Train PCA, an autoencoder, a VAE (conditional with --conditional) or a VAE-GAN and write a run directory.

    The run directory gets config.toml (every option, resolved), the model
    (model/config.json + model.safetensors), history.csv, metrics.json (test
    split), checkpoints/ and train.log. An existing run is replaced only with
    --force. Ctrl-C stops after the current step; `vaelab resume` continues.
    """
    from vaelab.runs.pipeline import run

    given = given_values(declared, list(TRAIN_SETS.values()))
    if data_arg is not None and given.get("data") not in (None, data_arg):
        raise ConfigError(f"two different data given: {data_arg!r} and --data {given['data']!r}; give one")
    if data_arg is not None:
        given["data"] = data_arg
    if dreg is not None:  # the spelling of earlier versions: --dreg is --gradient dreg
        if "gradient" in given and given["gradient"] != ("dreg" if dreg else "standard"):
            raise UsageError("--dreg and --gradient disagree; give --gradient dreg (or standard) alone")
        given["gradient"] = "dreg" if dreg else "standard"
    console = Console(quiet=quiet)
    with console.logging(), quiet_rendezvous(debug or nnodes == 1) as env:
        nodes = node_group(nnodes, node_rank, rdzv_endpoint, rdzv_timeout)
        spec = spec_from({**given, **({"model": model} if model is not None else {})}, config_file=config_file,
                         recipe=recipe)
        run(spec, out, force=force, reporter=console, download=download, nodes=nodes, debug=debug, env=env)


with_declared_options(train_command, TRAIN_SETS)


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
    from vaelab.runs.pipeline import resume

    console = Console(quiet=quiet)
    with console.logging(), quiet_rendezvous(debug or nnodes == 1) as env:
        nodes = node_group(nnodes, node_rank, rdzv_endpoint, rdzv_timeout)
        resume(run, reporter=console, nproc=nproc, worker=worker, no_verify=no_verify, nodes=nodes, debug=debug,
               env=env, table=False)
