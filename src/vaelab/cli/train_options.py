"""``vaelab train``'s options (data, model, training, output), declared once.

Typer reads options from the command function's signature, so ``train``
lists these aliases; their names, help texts and panels live here, the
defaults they show come from :class:`~vaelab.cli.config.RunConfig`, and the
VAE's own options are in :mod:`vaelab.cli.vae_options`. Every option's value
is None when it is not given, so ``--config`` files and recipes can fill it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vaelab.cli.config import RunConfig
from vaelab.cli.errors import ConfigError

DEFAULTS = {f.name: f.default for f in dataclasses.fields(RunConfig)}
DATA, MODEL, TRAINING, OUTPUT = "Data", "Model", "Training", "Output"


def _opt(*names: str, help: str, panel: str, default_note: bool = True, **kwargs: Any) -> Any:
    """An option whose default (from RunConfig) is shown in its help; its value is None when not given."""
    key = names[0].lstrip("-").split("/")[0].replace("-", "_")
    default = DEFAULTS.get(key)
    if default_note and key in DEFAULTS and default not in ("", ()):
        help = f"{help} [default: {str(default).lower() if isinstance(default, bool) else default}]"
    return typer.Option(*names, help=help, rich_help_panel=panel, show_default=False, **kwargs)


def parse_dims(text: str | None) -> tuple[int, ...] | None:
    """``"512,256"`` -> (512, 256)."""
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise ConfigError(f"--hidden-dims must be comma-separated integers such as 512,256, got {text!r}") from None


DataArg = Annotated[
    Optional[str],
    typer.Argument(metavar="DATA", show_default=False, help=("The data, as --data (either may be used).")),
]

Data = Annotated[
    Optional[str],
    _opt(
        "--data",
        "-d",
        panel=DATA,
        help=(
            "A built-in data set (digits, mnist, fashion-mnist, binarized-mnist, shapes, shapes64), "
            "a .npy/.npz/.csv file or a folder of images."
        ),
    ),
]

DataDir = Annotated[
    Optional[str],
    _opt(
        "--data-dir",
        panel=DATA,
        help=(
            "Folder with the built-in data sets' files (e.g. the MNIST .gz files). "
            "[default: $VAELAB_DATA_DIR or ~/.cache/vaelab]"
        ),
    ),
]

LabelColumn = Annotated[
    Optional[str], _opt("--label-column", panel=DATA, help="CSV: the label column (name or index).")
]

ImageSize = Annotated[
    Optional[int],
    _opt("--image-size", panel=DATA, min=0, help="Image folders: resize to this square size (0: as stored)."),
]

TestFraction = Annotated[
    Optional[float], _opt("--test-fraction", panel=DATA, help="Files: share held out as the test split.")
]

Download = Annotated[
    bool,
    typer.Option(
        "--download",
        rich_help_panel=DATA,
        help=("Fetch a missing built-in data set (mnist, fashion-mnist, binarized-mnist) into --data-dir."),
    ),
]

VerifyData = Annotated[
    Optional[bool],
    _opt(
        "--verify/--no-verify",
        panel=DATA,
        help=(
            "Check a built-in data set's files against the checksums of their uncompressed contents; "
            "--no-verify skips it (recorded in config.toml, so the run's other commands skip it too)."
        ),
    ),
]

ModelName = Annotated[
    Optional[str], _opt("--model", "-m", panel=MODEL, help="pca, autoencoder, vae or vaegan (a VAE-GAN).")
]

LatentDim = Annotated[
    Optional[int], _opt("--latent-dim", "-z", panel=MODEL, help="Size of the latent code.")
]

Network = Annotated[Optional[str], _opt("--network", panel=MODEL, help="mlp, or conv for images.")]

HiddenDims = Annotated[
    Optional[str],
    _opt(
        "--hidden-dims",
        panel=MODEL,
        help=(
            "Comma-separated hidden widths (mlp) or channels (conv), e.g. 512,256. "
            "[default: 512 for mlp, 32,64 for conv]"
        ),
    ),
]

Activation = Annotated[
    Optional[str], _opt("--activation", panel=MODEL, help="relu, tanh, elu, gelu, silu, leaky_relu or softplus.")
]

Norm = Annotated[
    Optional[str],
    _opt("--norm", panel=MODEL, help="conv: none, batch or group normalization after each hidden convolution."),
]

Likelihood = Annotated[
    Optional[str],
    _opt(
        "--likelihood",
        panel=MODEL,
        help=(
            "bernoulli, continuous_bernoulli, gaussian or auto (bernoulli for binary data, the model's default "
            "for data in [0, 1], else gaussian)."
        ),
    ),
]

Beta = Annotated[Optional[float], _opt("--beta", panel=MODEL, help="VAE: weight of the KL term.")]

Conditional = Annotated[
    Optional[bool],
    _opt(
        "--conditional/--unconditional",
        panel=MODEL,
        help="VAE: condition encoder and decoder on the data's labels (a CVAE; tables: with --label-column).",
    ),
]

Binarize = Annotated[
    Optional[str],
    _opt(
        "--binarize",
        panel=MODEL,
        help=(
            "none, or dynamic: resample binary pixels from the grey levels at every batch (Bernoulli; "
            "recommended for a VAE on mnist)."
        ),
    ),
]

Epochs = Annotated[
    Optional[int], _opt("--epochs", "-e", panel=TRAINING, help="Passes over the training data.")
]

BatchSize = Annotated[Optional[int], _opt("--batch-size", panel=TRAINING, help="Examples per step.")]

LearningRate = Annotated[
    Optional[float], _opt("--learning-rate", "--lr", panel=TRAINING, help="Adam's step size.")
]

LrSchedule = Annotated[
    Optional[str],
    _opt(
        "--lr-schedule",
        panel=TRAINING,
        help="constant, or cosine: the step size falls along a half cosine to 0 at the last epoch.",
    ),
]

ValidationFraction = Annotated[
    Optional[float],
    _opt("--validation-fraction", panel=TRAINING, help=("Share of the training data held out for validation.")),
]

Patience = Annotated[
    Optional[int],
    _opt("--patience", panel=TRAINING, help="Stop after this many epochs without validation improvement (0: off)."),
]

TrainSeed = Annotated[
    Optional[int], _opt("--seed", panel=TRAINING, help="Seeds weights, splits, data order and noise.")
]

Device = Annotated[Optional[str], _opt("--device", panel=TRAINING, help="auto, cpu, cuda, cuda:N or mps.")]

Threads = Annotated[
    Optional[int],
    _opt(
        "--threads",
        panel=TRAINING,
        help=("CPU threads for torch (0: one per core). 1 is fastest for small models on a busy machine."),
    ),
]

Nproc = Annotated[
    Optional[int],
    _opt(
        "--nproc",
        panel=TRAINING,
        min=1,
        help=(
            "Train data-parallel on N processes of this machine (DDP, launched as torchrun does; gloo on CPU, "
            "NCCL with one GPU per process). On CPU they share the cores."
        ),
    ),
]

Features = Annotated[
    Optional[str],
    _opt(
        "--features",
        panel=OUTPUT,
        help=(
            "A feature classifier from `vaelab features train` (its folder), for the VAE's sample-quality "
            "figures (Fréchet distance, precision, recall, named after it); recorded in config.toml. "
            "[default: the shipped digit classifier for mnist and binarized-mnist; none for other data]"
        ),
    ),
]

Tensorboard = Annotated[
    Optional[bool],
    _opt(
        "--tensorboard/--no-tensorboard",
        panel=OUTPUT,
        help=("Also log to OUT/tensorboard (needs: pip install 'vaelab[tensorboard]')."),
    ),
]

ConfigFile = Annotated[
    Optional[Path],
    _opt(
        "--config",
        "-c",
        panel=OUTPUT,
        help=("A TOML file of options (same names, e.g. latent_dim = 16); command-line options override it."),
    ),
]

RunOut = Annotated[
    Optional[Path], _opt("--out", "-o", panel=OUTPUT, help="The run directory. [default: runs/DATA-MODEL]")
]
