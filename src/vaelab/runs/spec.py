"""What a run is: the data, the estimator class and its parameters, and the run's own settings.

A :class:`RunSpec` is what ``vaelab train``, ``vaelab tabular fit``,
``vaelab resume`` and :func:`vaelab.runs.run` share. Its options come, by
precedence, from the declarations' defaults < a recipe < a ``--config`` file <
the command line, each a *layer* of ``name = value`` pairs whose names are the
declared parameters (and their fields: ``hidden_dims`` is ``network``'s), so a
config file is the command line in TOML. A run directory's ``config.toml``
holds the resolved spec in three tables::

    format_version = 2
    [data]                       # DATA_PARAMS (arrays and images) or TABLE_DATA_PARAMS (tables)
    data = "mnist"
    [run]                        # RUN_PARAMS
    threads = 0
    [estimator]                  # the same form as the model's config.json
    class_name = "VAE"
    [estimator.params]
    latent_dim = 16
    network = {kind = "mlp", hidden_dims = [512]}

TOML has no null: a parameter that is None is left out. Run directories of
earlier versions (a flat ``config.toml``, format 1) are read through
:func:`legacy_layer`. This module is pure Python (no torch), so that the
command line reads it for ``--help``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaelab._version import __version__
from vaelab.errors import InputError, OptionError
from vaelab.estimators.params import AUTOENCODER_PARAMS, PCA_PARAMS, VAE_PARAMS, VAEGAN_PARAMS
from vaelab.params import DATA, OUTPUT, TRAINING, Bool, Float, Int, OrNone, Param, ParamSet, Text, merge_fields
from vaelab.tabular.params import TABULAR_PARAMS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FORMAT_VERSION = 2

#: the estimators a run can train, by registry name
PARAM_SETS: dict[str, ParamSet] = {
    "PCA": PCA_PARAMS,
    "Autoencoder": AUTOENCODER_PARAMS,
    "VAE": VAE_PARAMS,
    "VAEGAN": VAEGAN_PARAMS,
    "TabularVAE": TABULAR_PARAMS,
}
#: ``vaelab train --model`` names -> registry names (TabularVAE has ``vaelab tabular fit``)
MODEL_NAMES = {"pca": "PCA", "autoencoder": "Autoencoder", "vae": "VAE", "vaegan": "VAEGAN"}
TABLE_MODELS = ("TabularVAE",)

DATA_ARG = Param(
    "data",
    None,
    "A built-in data set (digits, mnist, fashion-mnist, binarized-mnist, shapes, shapes64), a .npy/.npz/.csv "
    "file or a folder of images.",
    OrNone(Text()),
    aliases=("-d",),
    panel=DATA,
)

#: where the examples of an array or image run come from, and how they are split
DATA_PARAMS = ParamSet([
    DATA_ARG,
    Param("data_dir", None, "Folder with the built-in data sets' files (e.g. the MNIST .gz files). "
          "[default: $VAELAB_DATA_DIR or ~/.cache/vaelab]", OrNone(Text()), panel=DATA),
    Param("label_column", None, "CSV: the label column (name or 0-based index).", OrNone(Text()), panel=DATA),
    Param("image_size", None, "Image folders: resize to this square size. [default: as stored]",
          OrNone(Int(low=1)), panel=DATA),
    Param("test_fraction", 0.1, "Files: share held out (seeded) as the test split; built-in data sets keep "
          "their own.", Float(low=0.0, high=1.0, open_high=True), panel=DATA),
    Param("verify", True, "Check a built-in data set's files against the checksums of their uncompressed "
          "contents; --no-verify skips it (recorded, so the run's other commands skip it too).", Bool(), panel=DATA),
])

#: where the rows of a table run come from, and how many are held out for the report
TABLE_DATA_PARAMS = ParamSet([
    DATA_ARG.replace(help="A CSV file with a header line."),
    Param("holdout", 0.2, "Share of rows held out (seeded) for the report's ML efficacy and privacy figures.",
          Float(low=0.0, high=0.9), panel=DATA),
])

#: how a run is carried out (not what it learns)
RUN_PARAMS = ParamSet([
    Param("threads", 0, "CPU threads for torch (0: one per core). 1 is fastest for small models on a busy "
          "machine.", Int(low=0), panel=TRAINING),
    Param("nproc", 1, "Train data-parallel on N processes of this machine (DDP, launched as torchrun does; gloo "
          "on CPU, NCCL with one GPU per process). On CPU they share the cores.", Int(low=1), panel=TRAINING),
    Param("tensorboard", False, "Also log to OUT/tensorboard (needs: pip install 'vaelab[tensorboard]').",
          Bool(), panel=OUTPUT),
    Param("features", None, "A feature classifier from `vaelab features train` (its folder), for the VAE's "
          "sample-quality figures (Fréchet distance, precision, recall, named after it). [default: the shipped "
          "digit classifier for mnist and binarized-mnist; none for other data]", OrNone(Text()), panel=OUTPUT),
])
TABLE_RUN_PARAMS = RUN_PARAMS.without("nproc", "tensorboard", "features")


def data_params(class_name: str) -> ParamSet:
    return TABLE_DATA_PARAMS if class_name in TABLE_MODELS else DATA_PARAMS


def run_params(class_name: str) -> ParamSet:
    return TABLE_RUN_PARAMS if class_name in TABLE_MODELS else RUN_PARAMS


def estimator_params(class_name: str) -> ParamSet:
    try:
        return PARAM_SETS[class_name]
    except KeyError:
        raise InputError(f"unknown estimator {class_name!r}; valid: {', '.join(PARAM_SETS)}") from None


def class_of_model(name: str) -> str:
    """``"vae"`` (any case) -> ``"VAE"``."""
    key = str(name).lower()
    if key not in MODEL_NAMES:
        import difflib

        close = difflib.get_close_matches(key, list(MODEL_NAMES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise OptionError(f"model must be one of {', '.join(MODEL_NAMES)}; got {name!r}{hint}")
    return MODEL_NAMES[key]


def model_of_class(class_name: str) -> str:
    return {v: k for k, v in MODEL_NAMES.items()}.get(class_name, class_name.lower())


@dataclass(frozen=True)
class RunSpec:
    """One run: the estimator class and its parameters, the data, and the run's settings.

    ``params``, ``data`` and ``run`` hold the values given (absent ones take
    their declared defaults), checked against the declarations of
    ``estimator`` (see :data:`PARAM_SETS`), :data:`DATA_PARAMS` (or
    :data:`TABLE_DATA_PARAMS`) and :data:`RUN_PARAMS`.

    Examples
    --------
    >>> spec = RunSpec.from_layers([{"data": "digits", "model": "vae", "latent_dim": 2, "hidden_dims": [32]}])
    >>> spec.estimator, spec.params["latent_dim"], spec.params["network"]
    ('VAE', 2, {'kind': 'mlp', 'hidden_dims': (32,)})
    >>> RunSpec.from_layers([{"data": "digits", "latent_dims": 2}], sources=["run.toml"])
    Traceback (most recent call last):
    ...
    vaelab.errors.OptionError: run.toml: unknown option 'latent_dims' (did you mean 'latent_dim'?); ...
    """

    estimator: str
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------- building

    @classmethod
    def from_layers(
        cls,
        layers: Sequence[Mapping[str, Any]],
        *,
        sources: Sequence[str] = (),
        estimator: str | None = None,
    ) -> RunSpec:
        """A spec from layers of ``name = value`` pairs, later layers overriding earlier ones.

        Names are declared parameters of the estimator, the data and the run,
        or fields of a structured parameter (``hidden_dims``, ``components``);
        ``model`` (``"vae"``) or ``estimator`` (``"VAE"``) chooses the class
        (default: ``estimator``, else the VAE). Dashes may stand for
        underscores. ``sources`` name the layers in errors.

        Raises
        ------
        InputError
            For an unknown name (with the nearest valid one), an option of
            another model, or a bad value, naming the layer it came from.
        """
        sources = list(sources) + ["options"] * (len(layers) - len(sources))
        layers = [{str(k).replace("-", "_"): v for k, v in layer.items()} for layer in layers]
        class_name = estimator or "VAE"
        for layer, source in zip(layers, sources):
            try:
                if layer.get("model") is not None:
                    class_name = class_of_model(layer["model"])
                if layer.get("estimator") is not None:
                    class_name = str(layer["estimator"])
                    estimator_params(class_name)
            except InputError as exc:
                raise OptionError(f"{source}: {exc}") from None
        pset, dset, rset = estimator_params(class_name), data_params(class_name), run_params(class_name)
        params: dict[str, Any] = {}
        data: dict[str, Any] = {}
        run: dict[str, Any] = {}
        for layer, source in zip(layers, sources):
            fields: dict[str, dict[str, Any]] = {}
            for name, value in layer.items():
                if name in ("model", "estimator") or value is None:
                    continue
                try:
                    if name in pset:
                        params[name] = pset[name].check(value)
                    elif name in dset:
                        data[name] = dset[name].check(value)
                    elif name in rset:
                        run[name] = rset[name].check(value)
                    else:
                        owner = _field_owner(pset, name)
                        if owner is None:
                            if _ignorable(name, class_name):
                                continue  # a training option given to a model fitted without one (PCA)
                            raise _unknown(name, class_name, pset, dset, rset)
                        fields.setdefault(owner.name, {})[name] = value
                except InputError as exc:
                    raise OptionError(f"{source}: {exc}") from None
            for owner_name, changes in fields.items():
                owner = pset[owner_name]
                current = params.get(owner_name, owner.default)
                try:
                    params[owner_name] = merge_fields({} if current is None else current, owner, changes)
                except InputError as exc:
                    raise OptionError(f"{source}: {exc}") from None
        return cls(class_name, params, data, run)

    @classmethod
    def read(cls, path: str | Path) -> RunSpec:
        """The spec in a run's ``config.toml`` (this format or an earlier one) or in a ``--config`` file."""
        return cls.from_layers([read_layer(path)], sources=[str(path)])

    # --------------------------------------------------------------- values

    def param_set(self) -> ParamSet:
        return estimator_params(self.estimator)

    def value(self, name: str) -> Any:
        """A data, run or estimator value, with its default when absent."""
        for values, pset in ((self.data, data_params(self.estimator)), (self.run, run_params(self.estimator)),
                             (self.params, self.param_set())):
            if name in pset:
                return values.get(name, pset[name].default)
        raise KeyError(name)

    @property
    def model(self) -> str:
        """The ``--model`` name (``"vae"``)."""
        return model_of_class(self.estimator)

    @property
    def is_table(self) -> bool:
        return self.estimator in TABLE_MODELS

    @property
    def seed(self) -> int:
        """The estimator's seed, which also seeds the data's splits (0 for an estimator without one: PCA)."""
        return int(self.value("seed")) if "seed" in self.param_set() else 0

    def replace(self, **changes: Any) -> RunSpec:
        """A copy with some data, run or estimator values changed (checked)."""
        data, run, params = dict(self.data), dict(self.run), dict(self.params)
        for name, value in changes.items():
            for values, pset in ((data, data_params(self.estimator)), (run, run_params(self.estimator)),
                                 (params, self.param_set())):
                if name in pset:
                    values[name] = pset[name].check(value)
                    break
            else:
                raise KeyError(name)
        return dataclasses.replace(self, data=data, run=run, params=params)

    def build_estimator(self) -> Any:
        """A new, unfitted estimator with these parameters, checked (:meth:`check_params`)."""
        from vaelab.estimators import ESTIMATORS

        estimator = ESTIMATORS.get(self.estimator)(**self.params)
        estimator.check_params()
        return estimator

    # --------------------------------------------------------------- output

    def to_toml(self) -> str:
        """The spec as a run's ``config.toml``: a header, then the three tables."""
        import tomli_w

        header = (
            f"# vaelab {__version__} run configuration, resolved and complete (absent options are None).\n"
            f"# `vaelab {'tabular resume' if self.is_table else 'resume'} <run>` continues this run; "
            f"`vaelab {'tabular fit' if self.is_table else 'train'} --config <this file> --out <new run>`\n"
            "# repeats it (options on the command line override the values here).\n"
        )
        document = {
            "format_version": FORMAT_VERSION,
            "data": data_params(self.estimator).to_toml(self.data),
            "run": run_params(self.estimator).to_toml(self.run),
            "estimator": {"class_name": self.estimator, "params": self.param_set().to_toml(self.params)},
        }
        return header + "\n" + tomli_w.dumps(document)


def _field_owner(pset: ParamSet, name: str) -> Param | None:
    for p in pset:
        if p.cli and any(f.name == name for f in p.fields):
            return p
    return None


#: the VAE's own options (objective, prior, schedule): given to a model without them, an error; the shared
#: network and training options are passed only to the models that take them (PCA takes latent_dim alone)
VAE_ONLY = frozenset(
    n for p in VAE_PARAMS for n in (p.name, *(f.name for f in p.fields))
    if p.name not in AUTOENCODER_PARAMS
)


def _ignorable(name: str, class_name: str) -> bool:
    """True for an option of the trained models given to one that takes no such option (PCA's --epochs)."""
    shared = any(name in s or _field_owner(s, name) is not None for s in (AUTOENCODER_PARAMS,))
    return shared and name not in VAE_ONLY and class_name not in TABLE_MODELS


def _unknown(name: str, class_name: str, *sets: ParamSet) -> OptionError:
    """An unknown name: an option of another model, or a typo (with the nearest valid name)."""
    import difflib

    for other, pset in PARAM_SETS.items():
        if other != class_name and (name in pset or _field_owner(pset, name) is not None):
            takers = [model_of_class(c) for c, s in PARAM_SETS.items()
                      if c not in TABLE_MODELS and (name in s or _field_owner(s, name) is not None)]
            return OptionError(
                f"{name} is an option of model {' and '.join(map(repr, takers)) or repr(model_of_class(other))}; "
                f"model {model_of_class(class_name)!r} does not take it (leave it out, or choose another --model)"
            )
    valid = [n for s in sets for p in s for n in (p.name, *(f.name for f in p.fields))]
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return OptionError(f"unknown option {name!r}{hint}; valid: {', '.join(valid)}")


# --------------------------------------------------------------------------- files


def read_toml(path: str | Path) -> dict[str, Any]:
    """The contents of a TOML file, or an InputError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config file {path} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not valid TOML ({exc})") from None


def read_layer(path: str | Path) -> dict[str, Any]:
    """A config file as one layer of ``name = value`` pairs: this format's tables, or a flat (earlier) file."""
    document = read_toml(path)
    if "estimator" in document and isinstance(document["estimator"], Mapping):
        version = document.get("format_version", FORMAT_VERSION)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise InputError(f"{path} is a run configuration of format {version!r}; this vaelab ({__version__}) "
                             f"reads up to format {FORMAT_VERSION}: upgrade vaelab")
        layer: dict[str, Any] = {}
        for table in ("data", "run"):
            value = document.get(table, {})
            if not isinstance(value, Mapping):
                raise InputError(f"{path}: [{table}] must be a table of options")
            layer.update(value)
        estimator = document["estimator"]
        layer["estimator"] = estimator.get("class_name")
        params = estimator.get("params", {})
        if not isinstance(params, Mapping):
            raise InputError(f"{path}: [estimator.params] must be a table of options")
        layer.update(params)
        return layer
    return legacy_layer(document)


#: spellings of vaelab before one declaration per option: "" or 0 meant "not set", and a few names differed
_UNSET = {"kl_schedule": "", "label_column": "", "data_dir": "", "features": "", "components": 0, "patience": 0,
          "image_size": 0, "constraints": "", "metadata": "", "dp_epsilon": 0.0, "dp_delta": 0.0}


def legacy_layer(values: Mapping[str, Any]) -> dict[str, Any]:
    """A flat config (a ``--config`` file, or a run's ``config.toml`` of format 1) in today's names.

    ``dreg = true`` is ``gradient = "dreg"``; ``""`` and ``0`` that meant "not
    set" are left out; a tabular run (``kind = "tabular"``) is a TabularVAE.
    """
    layer = {str(k).replace("-", "_"): v for k, v in values.items()}
    if layer.pop("kind", None) == "tabular":
        layer["estimator"] = "TabularVAE"
        if "hidden_dims" in layer:
            layer["network"] = {"kind": "mlp", "hidden_dims": layer.pop("hidden_dims")}
    if "dreg" in layer:
        dreg = layer.pop("dreg")
        if dreg is True:
            layer["gradient"] = "dreg"
        elif dreg is not False:
            raise InputError(f"dreg must be true or false, got {dreg!r} (today: gradient = 'dreg')")
    for name, unset in _UNSET.items():
        if name in layer and type(layer[name]) is type(unset) and layer[name] == unset:
            del layer[name]
    if layer.get("norm") == "none":
        del layer["norm"]
    if isinstance(layer.get("label_column"), int) and not isinstance(layer["label_column"], bool):
        layer["label_column"] = str(layer["label_column"])  # a column index
    return layer
