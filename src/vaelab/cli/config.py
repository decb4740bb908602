"""The run configuration: every option of ``vaelab train`` in one frozen dataclass.

A run's options are resolved as defaults < ``--config FILE`` (TOML) < options
on the command line. The resolved, complete configuration is written to
``<run>/config.toml``; ``vaelab resume`` reads it back, and
``vaelab train --config <run>/config.toml --out <new>`` repeats the run.

TOML has no null, so "not set" is spelled ``""`` (strings), ``0`` (sizes,
patience) or ``[]`` (hidden_dims), and ``likelihood = "auto"`` is resolved from
the data when training starts.

>>> config = RunConfig.from_dict({"data": "digits", "model": "PCA", "latent_dim": 2}, source="example")
>>> config.model, config.estimator_name, config.latent_dim
('pca', 'PCA', 2)
>>> RunConfig.from_dict({"data": "digits", "latent_dims": 2}, source="run.toml")
Traceback (most recent call last):
...
vaelab.cli.errors.ConfigError: run.toml: unknown key 'latent_dims' (did you mean 'latent_dim'?); ...
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaelab._version import __version__
from vaelab.cli.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

if typing.TYPE_CHECKING:
    from vaelab.data import Dataset
    from vaelab.estimators import EncoderDecoderEstimator

BINARIZE = ("none", "dynamic")
AUTO = "auto"


def model_names() -> dict[str, str]:
    """Command-line model names (lowercase) -> estimator registry names."""
    from vaelab.estimators import ESTIMATORS

    return {name.lower(): name for name in ESTIMATORS}


@dataclass(frozen=True)
class RunConfig:
    """The options of one training run (see ``vaelab train --help``).

    Parameters
    ----------
    model : str
        ``"pca"``, ``"autoencoder"`` or ``"vae"`` (estimator names, any case).
    data : str
        A built-in data set (``digits``, ``mnist``, ``fashion-mnist``,
        ``binarized-mnist``) or a path to a .npy/.npz/.csv file or an image folder.
    data_dir : str
        Folder of the built-in data sets' files ("" = ``$VAELAB_DATA_DIR`` or ``~/.cache/vaelab``).
    label_column : str
        CSV only: the column (name or 0-based index) holding labels ("" = none).
    image_size : int
        Image folders only: resize every image to this square size (0 = as stored).
    test_fraction : float
        Share of a file's examples held out (seeded) as the test split; built-in
        data sets keep their own test split.
    latent_dim : int
    network : str
        ``"mlp"`` or ``"conv"``.
    hidden_dims : tuple of int
        Hidden widths (MLP) or channels (conv); empty = the network's default.
    activation : str
    norm : str
        Conv only: ``"none"``, ``"batch"`` or ``"group"`` normalization after each hidden convolution.
    likelihood : str
        ``"bernoulli"``, ``"continuous_bernoulli"``, ``"gaussian"`` or ``"auto"``
        (Bernoulli for binary data, the model's default for data in [0, 1],
        else Gaussian).
    beta : float
        VAE only: weight of the KL term.
    kl_schedule : str
        VAE only: ``warmup:STEPS``, ``cyclical:CYCLES:RATIO`` or
        ``capacity:C_MAX:STEPS:GAMMA`` ("" = a constant weight).
    free_bits : float
        VAE only: KL floor per latent dimension in nats (0 = off).
    objective : str
        VAE only: ``elbo`` or ``iwae``.
    k : int
        VAE only: importance samples of the IWAE objective.
    dreg : bool
        VAE only: train the IWAE objective with the doubly-reparameterized gradient.
    prior : str
        VAE only: ``standard_normal``, ``mog`` or ``vamp``.
    components : int
        VAE only: components of the ``mog``/``vamp`` prior (0 = the prior's default, 10 and 500).
    tc_beta : float
        VAE only: weight of the total correlation (beta-TCVAE; 1 = the ELBO).
    stochastic_layers : int
        VAE only: 1, or 2 (Burda et al.'s two-layer model).
    conditional : bool
        VAE only: a conditional VAE on the data's labels (built-in labels, or
        ``label_column`` of a table); the data must have labels.
    binarize : str
        ``"none"`` or ``"dynamic"`` (resample binary pixels from grey levels each batch).
    epochs, batch_size, learning_rate, validation_fraction : training settings.
    lr_schedule : str
        ``"constant"`` or ``"cosine"`` (the step size falls to 0 at the last epoch).
    patience : int
        Early stopping after this many epochs without validation improvement (0 = off).
    seed : int
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    threads : int
        CPU threads of torch while training (0 = torch's default, one per
        core). Small models train fastest with 1, above all on a busy machine.
    nproc : int
        Processes of data-parallel training (DDP under torchrun, gloo on CPU,
        NCCL on CUDA); 1 trains in the calling process. ``vaelab resume``
        continues a run with the same number unless told otherwise.
    tensorboard : bool
        Also log every epoch to ``<run>/tensorboard`` (needs the tensorboard package).
    verify : bool
        Check a built-in data set's files against the md5/sha256 of their
        uncompressed contents (False: ``--no-verify``, for a copy that differs).
    features : str
        Folder of a feature classifier (``vaelab features train``) for the
        sample-quality figures ("" = the shipped digit classifier for mnist and
        binarized-mnist, none for other data).
    """

    model: str = "vae"
    data: str = ""
    data_dir: str = ""
    label_column: str = ""
    image_size: int = 0
    test_fraction: float = 0.1
    latent_dim: int = 16
    network: str = "mlp"
    hidden_dims: tuple[int, ...] = ()
    activation: str = "relu"
    norm: str = "none"
    likelihood: str = AUTO
    beta: float = 1.0
    kl_schedule: str = ""
    free_bits: float = 0.0
    objective: str = "elbo"
    k: int = 5
    dreg: bool = False
    prior: str = "standard_normal"
    components: int = 0
    tc_beta: float = 1.0
    stochastic_layers: int = 1
    conditional: bool = False
    binarize: str = "none"
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"
    validation_fraction: float = 0.1
    patience: int = 0
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    nproc: int = 1
    tensorboard: bool = False
    verify: bool = True
    features: str = ""

    def __post_init__(self) -> None:
        from vaelab.likelihoods import LIKELIHOODS
        from vaelab.nn import ACTIVATIONS, NETWORKS
        from vaelab.training.config import LR_SCHEDULES

        names = model_names()
        object.__setattr__(self, "model", self.model.lower())
        object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        _choice("model", self.model, list(names))
        if not self.data:
            raise ConfigError(
                "no data given: pass --data (a built-in name such as digits or mnist, a .npy/.npz/.csv file "
                "or an image folder) or set data in the --config file"
            )
        _choice("network", self.network, NETWORKS.names())
        _choice("activation", self.activation, sorted(ACTIVATIONS))
        _choice("norm", self.norm, ["none", "batch", "group"])
        if self.norm != "none" and self.network != "conv":
            raise ConfigError(f"norm = {self.norm!r} applies to network conv, got network {self.network!r}")
        _choice("likelihood", self.likelihood, [AUTO, *LIKELIHOODS.names()])
        _choice("binarize", self.binarize, list(BINARIZE))
        _choice("lr_schedule", self.lr_schedule, list(LR_SCHEDULES))
        for name in ("latent_dim", "epochs", "batch_size", "nproc"):
            _at_least(name, getattr(self, name), 1)
        for name in ("image_size", "patience", "seed", "threads"):
            _at_least(name, getattr(self, name), 0)
        if any(d < 1 for d in self.hidden_dims):
            raise ConfigError(f"hidden_dims must be positive integers, got {list(self.hidden_dims)}")
        for name in ("test_fraction", "validation_fraction"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not self.beta >= 0:
            raise ConfigError(f"beta must be >= 0, got {self.beta}")
        _check_vae_options(self)
        if self.conditional and self.model != "vae":
            raise ConfigError(f"conditional applies to model vae, got model {self.model!r}")
        if self.nproc > 1 and self.model == "pca":
            raise ConfigError("nproc applies to the trained models (autoencoder, vae); PCA is fitted in closed form in one process")
        if self.binarize == "dynamic" and self.likelihood not in (AUTO, "bernoulli"):
            raise ConfigError(f"binarize = 'dynamic' needs likelihood 'bernoulli', got {self.likelihood!r}")

    # ------------------------------------------------------------ building

    @classmethod
    def keys(cls) -> list[str]:
        """The valid configuration keys, in file order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values: dict[str, Any], *, source: str) -> RunConfig:
        """Check keys and value types of ``values`` (from ``source``, for messages) and build the config.

        Keys may be written with dashes (``latent-dim``) or underscores.

        Raises
        ------
        ConfigError
            For an unknown key (naming the nearest valid one), a value of the
            wrong type, or an invalid value.
        """
        valid = cls.keys()
        hints = typing.get_type_hints(cls)
        checked: dict[str, Any] = {}
        for raw_key, value in values.items():
            key = str(raw_key).replace("-", "_")
            if key not in valid:
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"{source}: unknown key {raw_key!r}{hint}; valid keys: {', '.join(valid)}")
            if key == "label_column" and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # a column index
            checked[key] = _check_type(key, value, hints[key], source)
        return cls(**checked)

    @classmethod
    def read_toml(cls, path: str | Path) -> dict[str, Any]:
        """The key-value pairs of a TOML config file (not yet checked)."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML ({exc})") from None

    @classmethod
    def resolve(
        cls, config_file: str | Path | None, overrides: dict[str, Any], *, recipe: dict[str, Any] | None = None
    ) -> RunConfig:
        """Defaults < ``recipe`` < ``config_file`` < ``overrides`` (options that are None were not given)."""
        values: dict[str, Any] = dict(recipe or {})
        if config_file is not None:
            values.update({str(k).replace("-", "_"): v for k, v in cls.read_toml(config_file).items()})
            source = str(config_file)
        else:
            source = "options"
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(values, source=source)

    @classmethod
    def load(cls, path: str | Path) -> RunConfig:
        """Read a config file written by :meth:`to_toml`."""
        return cls.from_dict(cls.read_toml(path), source=str(path))

    # --------------------------------------------------------------- output

    def to_dict(self) -> dict[str, Any]:
        """Plain TOML-able values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def to_toml(self) -> str:
        """The config as TOML text with a header saying how to use it."""
        import tomli_w

        header = (
            f"# vaelab {__version__} run configuration, resolved and complete.\n"
            "# `vaelab resume <run>` continues this run; `vaelab train --config <this file> --out <new run>`\n"
            "# repeats it (options on the command line override the values here).\n"
        )
        if self.model == "pca":
            header += "# PCA is fitted in closed form: it uses the data options, latent_dim and seed only.\n"
        return header + "\n" + tomli_w.dumps(self.to_dict())

    # ---------------------------------------------------------- estimators

    @property
    def estimator_name(self) -> str:
        """The registry name of the estimator class (``"VAE"``)."""
        return model_names()[self.model]

    def resolved(self, dataset: Dataset) -> RunConfig:
        """This config with the choices that depend on the data made explicit.

        Paths become absolute (so ``vaelab resume`` works from any folder),
        ``likelihood = "auto"`` becomes a likelihood name and empty
        ``hidden_dims`` the network's default widths.
        """
        import numpy as np

        from vaelab.data import available_datasets
        from vaelab.data.dataset import resolve_data_dir
        from vaelab.nn import NetworkConfig

        changes: dict[str, Any] = {}
        if self.data in available_datasets():
            if self.data != "digits":
                changes["data_dir"] = str(resolve_data_dir(self.data_dir or None).resolve())
        else:
            changes["data"] = str(Path(self.data).expanduser().resolve())
        if self.likelihood == AUTO:
            x = dataset.x_train
            unit = x.dtype == np.uint8 or (float(np.min(x)) >= 0.0 and float(np.max(x)) <= 1.0)
            if dataset.binary or self.binarize == "dynamic":
                changes["likelihood"] = "bernoulli"
            elif unit:
                changes["likelihood"] = _default_likelihood(self.estimator_name)
            else:
                changes["likelihood"] = "gaussian"
        if not self.hidden_dims:
            changes["hidden_dims"] = NetworkConfig(kind=self.network).hidden_dims
        if self.features:
            changes["features"] = str(Path(self.features).expanduser().resolve())
        return dataclasses.replace(self, **changes)

    def build_estimator(self) -> EncoderDecoderEstimator:
        """A new, unfitted estimator with this config's parameters.

        Each option is passed only to estimators that take it (PCA takes
        ``latent_dim`` only), so no option needs a per-model branch.
        """
        from vaelab.estimators import ESTIMATORS

        cls = ESTIMATORS.get(self.estimator_name)
        candidates: dict[str, Any] = {
            "latent_dim": self.latent_dim,
            "network": {
                "kind": self.network,
                "hidden_dims": list(self.hidden_dims) or None,
                "activation": self.activation,
                **({"norm": self.norm} if self.norm != "none" else {}),
            },
            "beta": self.beta,
            "kl_schedule": self.kl_schedule or None,
            "free_bits": self.free_bits,
            "objective": self.objective,
            "k": self.k,
            "gradient": "dreg" if self.dreg else "standard",
            "prior": {"name": self.prior, "components": self.components} if self.components else self.prior,
            "tc_beta": self.tc_beta,
            "stochastic_layers": self.stochastic_layers,
            "conditional": self.conditional,
            "binarize": False if self.binarize == "none" else self.binarize,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "lr_schedule": self.lr_schedule,
            "validation_fraction": self.validation_fraction,
            "patience": self.patience or None,
            "seed": self.seed,
            "device": self.device,
        }
        if self.likelihood != AUTO:
            candidates["likelihood"] = self.likelihood
        accepted = cls().get_params(deep=False)
        return cls(**{k: v for k, v in candidates.items() if k in accepted})


#: the VAE's objective, prior and latent options: another model given one away from its default is an error
#: (``beta`` predates them and stays as it was: passed only to the models that take it)
VAE_OPTIONS = (
    "kl_schedule", "free_bits", "objective", "k", "dreg", "prior", "components", "tc_beta", "stochastic_layers"
)


#: those of them the VAE-GAN takes (its losses weight the KL term by beta alone, so not the ELBO's options)
VAEGAN_OPTIONS = ("kl_schedule", "prior", "components")


def _check_vae_options(config: RunConfig) -> None:
    """The VAE's options: each value, then that no other model was given one."""
    from vaelab.errors import InputError
    from vaelab.objectives import OBJECTIVES
    from vaelab.priors import PRIORS
    from vaelab.training.schedules import parse_kl_schedule

    _choice("objective", config.objective, OBJECTIVES.names())
    _choice("prior", config.prior, PRIORS.names())
    _at_least("k", config.k, 1)
    _at_least("components", config.components, 0)
    if config.stochastic_layers not in (1, 2):
        raise ConfigError(f"stochastic_layers must be 1 or 2, got {config.stochastic_layers}")
    for name, low in (("free_bits", 0.0), ("tc_beta", 0.0)):
        if not getattr(config, name) >= low:
            raise ConfigError(f"{name} must be >= {low:g}, got {getattr(config, name)}")
    try:
        parse_kl_schedule(config.kl_schedule)
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    if config.objective == "iwae" and (config.free_bits or config.tc_beta != 1.0):
        raise ConfigError("free_bits and tc_beta are options of objective 'elbo'; objective 'iwae' takes k and dreg")
    if config.dreg and config.objective != "iwae":
        raise ConfigError("dreg is the gradient of objective 'iwae'; add --objective iwae (or drop --dreg)")
    if config.model != "vae":
        taken = VAEGAN_OPTIONS if config.model == "vaegan" else ()
        changed = [name for name in VAE_OPTIONS if name not in taken and getattr(config, name) != _FIELD_DEFAULTS[name]]
        if changed:
            name = changed[0]
            takes = f" (of the VAE's options it takes {', '.join(taken)})" if taken else ""
            raise ConfigError(
                f"{name} = {getattr(config, name)!r} is an option of model 'vae' (which has a posterior q(z|x) and a "
                f"prior); model {config.model!r} does not take it{takes}. Use --model vae, or leave {name} at "
                f"{_FIELD_DEFAULTS[name]!r}"
            )


_FIELD_DEFAULTS = {f.name: f.default for f in dataclasses.fields(RunConfig)}


def _default_likelihood(estimator_name: str) -> str:
    from vaelab.estimators import ESTIMATORS

    default = ESTIMATORS.get(estimator_name)().get_params(deep=False).get("likelihood", "gaussian")
    return default if isinstance(default, str) else default.get("name", "gaussian")


def _choice(name: str, value: str, valid: list[str]) -> None:
    if value not in valid:
        close = difflib.get_close_matches(value, valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{name} must be one of {', '.join(valid)}; got {value!r}{hint}")


def _at_least(name: str, value: int, low: int) -> None:
    if value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value}")


_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _check_type(key: str, value: Any, hint: Any, source: str) -> Any:
    """Check one value against the field's type; ints are accepted for floats."""
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if typing.get_origin(hint) is tuple:
        if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return tuple(value)
        raise ConfigError(f"{source}: {key!r} must be a list of integers such as [512, 256], got {value!r}")
    ok = isinstance(value, hint) and (hint is bool or not isinstance(value, bool))
    if not ok:
        raise ConfigError(f"{source}: {key!r} must be {_TYPE_NAMES[hint]}, got {value!r}")
    return value
