"""The scikit-learn-style estimator shared by PCA, the autoencoder and the VAE.

``__init__`` only stores keyword arguments; validation happens in ``fit``,
which returns ``self``; learned attributes end in ``_``. The fitted torch
module is ``estimator.module_``, for users who write their own loops.
Outputs come back as NumPy arrays, or as tensors when the input was a tensor.
"""

from __future__ import annotations

import copy
import csv
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from torch import Tensor

from vaelab._version import __version__
from vaelab.errors import ModelFileError
from vaelab.models.base import MODELS, Model, config_from_dict, config_to_dict
from vaelab.registry import Registry
from vaelab.serialization import atomic_directory, atomic_write_text, load_tensors, read_json, save_tensors, write_json
from vaelab.validation import as_tensor, check_example_shape, check_is_fitted

ESTIMATORS: Registry[type["EncoderDecoderEstimator"]] = Registry("model class")
for _name, _module in (("PCA", "pca"), ("Autoencoder", "autoencoder"), ("VAE", "vae"), ("VAEGAN", "vaegan")):
    ESTIMATORS.provide(_name, f"vaelab.estimators.{_module}")
ESTIMATORS.provide("TabularVAE", "vaelab.tabular.estimator")  # with the tables; imported when a saved model names it

FORMAT = "vaelab.model"
FORMAT_VERSION = 1
INFERENCE_BATCH = 1024


def _like_input(result: Tensor, like: Any) -> Any:
    """Return a tensor for tensor input, else a NumPy array; float64 input gives float64 output.

    Models compute in float32 (PCA in float64); as scikit-learn's transformers
    do, the result of float64 input is returned in float64.
    """
    dtype = getattr(like, "dtype", None)
    if result.is_floating_point() and (dtype is torch.float64 or (isinstance(dtype, np.dtype) and dtype == np.float64)):
        result = result.to(torch.float64)
    return result if isinstance(like, Tensor) else result.numpy()


def history_to_csv(history: list[dict[str, Any]]) -> str:
    """The per-epoch history as CSV text (columns in first-seen order)."""
    columns: list[str] = []
    for row in history:
        columns += [k for k in row if k not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


class EncoderDecoderEstimator(TransformerMixin, BaseEstimator):
    """Base class of vaelab's estimators. Subclasses implement ``_fit``."""

    model_class: ClassVar[type[Model]]
    keep_float64: ClassVar[bool] = False  # closed-form models compute in float64 when given float64

    # ------------------------------------------------------------------ fit

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> "EncoderDecoderEstimator":
        """Fit the model to ``X`` of shape (n, d), (n, H, W) or (n, C, H, W); returns self."""
        Xt = self._fit_input(X)
        self.input_shape_ = tuple(Xt.shape[1:])
        self.n_features_in_ = math.prod(self.input_shape_)
        self._fit(Xt, **fit_params)
        return self

    def _fit_input(self, X: Any) -> Tensor:
        """``X`` checked and converted for ``fit`` (a subclass may defer a check to its own pass over the data)."""
        return as_tensor(X, keep_float64=self.keep_float64)

    def _fit(self, X: Tensor, **fit_params: Any) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ inference

    def _device(self) -> torch.device:
        return next(iter(self.module_.buffers()), next(self.module_.parameters(), torch.empty(0))).device

    def _module_for(self, X: Tensor) -> tuple[Model, Tensor]:
        """The module to run on ``X``, and ``X``: a float64 copy of the module for float64 ``X``.

        float64 input is computed in float64 (except on MPS, which has no
        float64): results then differ from row to row only by float64
        rounding, whereas float32 matrix products may round differently for
        different batch sizes (about 1e-7 relative), so a row's result would
        depend slightly on which rows share the call.
        """
        module = self.module_
        if X.dtype != torch.float64:
            return module, X
        tensors = [*module.parameters(), *module.buffers()]
        if all(t.dtype == torch.float64 for t in tensors if t.is_floating_point()):
            return module, X
        if self._device().type == "mps":
            return module, X.to(torch.float32)
        return copy.deepcopy(module).double(), X

    @torch.no_grad()
    def _map(self, fn: Callable[[Model, Tensor], Tensor], X: Tensor) -> Tensor:
        """Apply ``fn(module, batch)`` in eval mode over ``X`` in batches on the model's device.

        Returns a CPU tensor of X's dtype; float64 ``X`` runs through a float64
        copy of the module (see ``_module_for``).
        """
        module, Xm = self._module_for(X)
        was_training = module.training
        if was_training:  # toggling walks every submodule: skip it when already in eval mode (interactive decoding)
            module.eval()
        device = self._device()
        try:
            parts = [
                fn(module, Xm[i : i + INFERENCE_BATCH].to(device)).to(X.dtype).cpu()
                for i in range(0, X.shape[0], INFERENCE_BATCH)
            ]
        finally:
            if was_training:
                module.train(True)
        return torch.cat(parts)

    def _check_X(self, X: Any, name: str = "X", *, keep_float64: bool | None = None) -> Tensor:
        """``X`` checked against the fit (fitted, example shape) and converted; float64 kept when ``keep_float64``
        (default: the class's ``keep_float64``)."""
        check_is_fitted(self)
        keep = self.keep_float64 if keep_float64 is None else keep_float64
        Xt = as_tensor(X, name=name, keep_float64=keep)
        check_example_shape(Xt, self.input_shape_, name=name, owner=type(self).__name__)
        return Xt

    def transform(self, X: Any) -> Any:
        """Latent codes (posterior means for the VAE).

        Parameters
        ----------
        X : array-like of shape (n, *input_shape)

        Returns
        -------
        ndarray (or Tensor) of shape (n, latent_dim)
        """
        Xt = self._check_X(X, keep_float64=True)
        return _like_input(self._map(lambda module, x: module.encode(x).mean, Xt), X)

    def inverse_transform(self, Z: Any) -> Any:
        """Decode latent codes to data space (decoded means), in the original example shape.

        Parameters
        ----------
        Z : array-like of shape (n, latent_dim)

        Returns
        -------
        ndarray (or Tensor) of shape (n, *input_shape)
        """
        Zt = self._check_Z(Z)
        return _like_input(self._map(lambda module, z: module.decode_mean(z), Zt), Z)

    def _check_Z(self, Z: Any, *, keep_float64: bool = True) -> Tensor:
        """Codes ``Z`` checked against the fitted model (n, latent_dim) and converted."""
        check_is_fitted(self)
        Zt = as_tensor(Z, name="Z", max_rank=2, keep_float64=keep_float64)
        check_example_shape(Zt, (self.module_.latent_dim,), name="Z", owner=type(self).__name__)
        return Zt

    def reconstruct(self, X: Any) -> Any:
        """Encode and decode ``X``: returns E[x | z = mean code], same shape as ``X``."""
        Xt = self._check_X(X, keep_float64=True)
        return _like_input(self._map(lambda module, x: module.reconstruct(x), Xt), X)

    def score_samples(self, X: Any) -> Any:
        """Per-example log-likelihood figure in nats (see ``score``), shape (n,)."""
        raise NotImplementedError

    def score(self, X: Any, y: Any = None) -> float:
        """Mean of :meth:`score_samples` over ``X``; higher is better."""
        return float(np.mean(np.asarray(self.score_samples(X), dtype=np.float64)))

    # ---------------------------------------------------------- save / load

    def _json_params(self) -> dict[str, Any]:
        """``get_params()`` with strategy objects replaced by their configs."""
        out = {}
        for key, value in self.get_params(deep=False).items():
            if hasattr(value, "to_dict"):
                value = value.to_dict()
            elif hasattr(value, "config") and callable(value.config):
                value = value.config()
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        return out

    def _fitted_attributes(self) -> dict[str, Any]:
        """JSON-able fitted state beyond the weights (subclasses add to it)."""
        return {"input_shape": list(self.input_shape_), "n_features_in": self.n_features_in_}

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``config.json`` + ``model.safetensors`` (+ ``history.csv``) to the folder ``path``.

        The folder is written beside its target and renamed into place, so a
        failure leaves any earlier save intact. An existing empty folder (such
        as a fresh ``tempfile.TemporaryDirectory()``) is used; one that holds
        files is an error unless ``overwrite=True``, and a file is always one.

        Returns
        -------
        Path
            ``path``, which ``vaelab.load`` reads back.
        """
        check_is_fitted(self)
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise FileExistsError(f"{path} is a file; save(path) needs a folder (new, or empty) for the model")
        if path.is_dir() and not overwrite:
            if any(path.iterdir()):
                raise FileExistsError(
                    f"{path} already holds files; pass overwrite=True to replace it, or choose another folder"
                )
            overwrite = True  # an empty folder: replaced by the complete one
        config = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "vaelab_version": __version__,
            "class_name": type(self).__name__,
            "params": self._json_params(),
            "model": {"class_name": type(self.module_).__name__, "config": config_to_dict(self.module_.config)},
            "fitted": self._fitted_attributes(),
        }
        with atomic_directory(path, overwrite=overwrite) as tmp:
            write_json(tmp / "config.json", config)
            save_tensors(tmp / "model.safetensors", self.module_.state_dict(), metadata={"format": FORMAT})
            history = getattr(self, "history_", None)
            if history:
                atomic_write_text(tmp / "history.csv", history_to_csv(history))
            self._save_extra(tmp)
        return path

    def _save_extra(self, folder: Path) -> None:
        """Write further fitted state (JSON, safetensors) into the model folder being saved; none by default."""

    def _load_extra(self, folder: Path) -> None:
        """Read what :meth:`_save_extra` wrote, after the weights are loaded; none by default."""

    #: parameters of earlier versions that are no longer parameters, with the one value they could have had
    retired_params: ClassVar[dict[str, Any]] = {}

    @classmethod
    def _saved_params(cls, params: dict[str, Any], where: Path | str) -> dict[str, Any]:
        """A saved ``params`` dict as this version's parameters: retired ones dropped if they hold their value."""
        from vaelab.params import OrNone

        declared = cls.params  # type: ignore[attr-defined]
        out = {}
        for name, value in params.items():
            if value is None and name in declared and not isinstance(declared[name].kind, OrNone):
                continue  # earlier versions wrote None for "the default"
            if isinstance(value, list) and name in declared:
                value = declared[name].check(value)  # JSON's lists back to the declared tuples
            if name in cls.retired_params and name not in cls.params:  # type: ignore[attr-defined]
                if value != cls.retired_params[name]:
                    raise ModelFileError(
                        f"{where}: {name}={value!r} is not an option of {cls.__name__} (it takes only "
                        f"{cls.retired_params[name]!r}); the file was edited or written by another model"
                    )
                continue
            out[name] = value
        return out

    @classmethod
    def _from_saved(cls, config: dict[str, Any], weights: dict[str, Tensor]) -> "EncoderDecoderEstimator":
        estimator = cls(**cls._saved_params(config["params"], "config.json"))
        model_cls = MODELS.get(config["model"]["class_name"])
        module = model_cls(config_from_dict(model_cls.config_class, config["model"]["config"]))
        missing, unexpected = module.load_state_dict(weights, strict=False)
        if missing or unexpected:
            raise ModelFileError(
                f"the weights do not match the model in config.json (missing {sorted(missing)}, "
                f"unexpected {sorted(unexpected)}); the files are from different models or were edited"
            )
        module.eval()
        estimator.module_ = module
        estimator._set_fitted_attributes(config["fitted"])
        return estimator

    def _set_fitted_attributes(self, fitted: dict[str, Any]) -> None:
        self.input_shape_ = tuple(fitted["input_shape"])
        self.n_features_in_ = int(fitted["n_features_in"])


def load(path: str | Path, *, device: str = "cpu") -> EncoderDecoderEstimator:
    """Load a model saved with ``save``: the estimator is rebuilt through the registry.

    Parameters
    ----------
    path : str or Path
        The folder holding ``config.json`` and ``model.safetensors``, or a run
        directory of ``vaelab train`` (the folder with ``model/`` inside).
    device : str
        Where to put the weights.

    Raises
    ------
    ModelFileError
        If the folder is missing, the config is malformed or names an unknown
        class, or the weights are truncated, tampered or a pickle.
    """
    path = _model_folder(Path(path))
    config = read_json(path / "config.json", "model config")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{path / 'config.json'} is not a vaelab model config (its 'format' is not {FORMAT!r})")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was saved by vaelab {config.get('vaelab_version')} in format {config['format_version']}; "
            f"this vaelab ({__version__}) reads up to format {FORMAT_VERSION}; upgrade vaelab"
        )
    try:
        cls = ESTIMATORS.get(config["class_name"])
    except (KeyError, ValueError) as exc:
        raise ModelFileError(f"{path / 'config.json'}: {exc}") from None
    weights = load_tensors(path / "model.safetensors")
    try:
        estimator = cls._from_saved(config, weights)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"{path / 'config.json'} does not describe a valid {config['class_name']} ({exc})") from None
    estimator.module_.to(device)
    estimator._load_extra(path)
    history = path / "history.csv"
    if history.is_file():
        with history.open(newline="") as f:
            estimator.history_ = [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]
    return estimator


def _model_folder(path: Path) -> Path:
    """``path`` itself when it holds a model, its ``model/`` when it is a run directory."""
    if not path.is_dir():
        raise ModelFileError(
            f"{path} is not a folder with a saved vaelab model (config.json + model.safetensors) "
            "nor a run directory of `vaelab train` (a folder with model/ inside)"
        )
    if (path / "config.json").is_file() or not (path / "config.toml").is_file():
        return path
    if not (path / "model" / "config.json").is_file():
        raise ModelFileError(
            f"{path} is a run directory whose model/ is not saved yet (training did not finish); "
            f"continue it with `vaelab resume {path}`, then load it"
        )
    return path / "model"


def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
