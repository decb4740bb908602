"""What the neural estimators share: fitting (in memory or from a source), checks, training and scores.

:class:`NeuralEstimator` is the base of :class:`~vaelab.estimators.autoencoder.Autoencoder`
and :class:`~vaelab.estimators.vae.VAE` (and through it the VAE-GAN and the
tabular VAE). Training goes through the model-agnostic :class:`~vaelab.training.Trainer`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vaelab.data.streaming import InMemorySource
from vaelab.errors import InputError, OptionError
from vaelab.estimators.base import EncoderDecoderEstimator, _like_input
from vaelab.likelihoods import build_likelihood
from vaelab.models.autoencoder import AutoencoderConfig, AutoencoderModel
from vaelab.nn import NetworkConfig
from vaelab.params import fields_of
from vaelab.training import Callback, ProgressBar, Trainer, TrainerConfig
from vaelab.training.batches import BatchSource
from vaelab.validation import as_tensor, check_example_shape, check_int

def binarize(batch: Tensor, generator: torch.Generator) -> Tensor:
    """Dynamic binarization: resample x ~ Bernoulli(grey level) for each batch."""
    return torch.bernoulli(batch, generator=generator)


class NeuralEstimator(EncoderDecoderEstimator):
    """What the autoencoder and the VAE share: building, splitting, training (on arrays or sources).

    A subclass declares its parameters once (``params``, see :mod:`vaelab.params`);
    ``check_params`` checks them all before any data is read.
    """

    model_class: type[AutoencoderModel]
    #: the likelihood that likelihood="auto" gives data in [0, 1] that are not binary
    unit_likelihood: str = "gaussian"

    def _module_config(self) -> AutoencoderConfig:
        raise NotImplementedError

    def check_params(self) -> dict[str, Any]:
        """Check every parameter against its declaration and the rules between them; returns them normalized.

        ``fit`` calls it first; the command line calls it before it creates a run directory.

        Raises
        ------
        InputError
            Naming the first bad parameter, its valid values and the value received.
        """
        checked = type(self).params.validate(self.get_params(deep=False))
        NetworkConfig.build(checked["network"])  # the network's own checks (kind, norm for conv only)
        likelihood = fields_of(checked["likelihood"], type(self).params["likelihood"])
        if likelihood["name"] != "auto":
            build_likelihood(likelihood)
        if checked["binarize"] == "dynamic" and likelihood["name"] not in ("auto", "bernoulli"):
            raise OptionError(
                f"binarize='dynamic' needs likelihood='bernoulli' (or 'auto'), got likelihood={likelihood['name']!r}"
            )
        TrainerConfig(**self._trainer_settings(checked))
        self._checked = checked
        return checked

    def _validate_params(self, n: int) -> None:
        self.check_params()

    def _split(self, X: Tensor, C: Tensor | None = None) -> tuple[Tensor, Tensor | None, Tensor | None, Tensor | None]:
        """A seeded random train/validation split of X (and of its conditions C): X_train, X_valid, C_train, C_valid."""
        n = X.shape[0]
        n_valid = int(round(n * self.validation_fraction))
        if n_valid == 0 or n_valid == n:
            return X, None, C, None
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed))
        train, valid = order[n_valid:], order[:n_valid]
        return X[train], X[valid], None if C is None else C[train], None if C is None else C[valid]

    def _fit(
        self,
        X: Tensor,
        *,
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
        callbacks: Sequence[Callback] = (),
        X_valid: Any = None,
        condition: Tensor | None = None,
        condition_valid: Tensor | None = None,
    ) -> None:
        """Train a new module on ``X`` (with the condition vectors ``condition`` (n, K) of a conditional model).

        Parameters
        ----------
        checkpoint_dir : path, optional
            Write checkpoints there after every epoch (see ``trainer_options``
            for step checkpoints); with ``resume=True`` continue from them.
        callbacks : sequence of Callback
            Extra trainer callbacks (schedules, logging).
        X_valid : array-like, optional
            Validation data; by default ``validation_fraction`` of ``X`` is held out.
        """
        self._validate_params(X.shape[0])
        self._check_data(X, "X")
        if X_valid is None:
            X_train, X_val, C_train, C_val = self._split(X, condition)
        else:
            X_train, X_val, C_train, C_val = X, self._check_valid(X_valid), condition, condition_valid
        batch = min(self.batch_size, X_train.shape[0])  # fewer rows than a batch still train
        train = InMemorySource(X_train, batch_size=batch, seed=self.seed, condition=C_train)
        valid = None
        if X_val is not None:
            valid = InMemorySource(X_val, batch_size=max(batch, 256), seed=self.seed, condition=C_val)
        self._train(train, valid, checkpoint_dir, resume, callbacks)

    def fit_source(
        self,
        train: BatchSource,
        valid: BatchSource | None = None,
        *,
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
        callbacks: Sequence[Callback] = (),
    ) -> NeuralEstimator:
        """Fit the model to a source of batches, for data larger than memory; returns self.

        Trains through the same trainer as ``fit``, on a source such as a
        :class:`~vaelab.data.MemmapSource` over ``.npy`` files that holds only a
        window of rows at a time; afterwards the estimator is fitted as after ``fit``.

        Parameters
        ----------
        train : InMemorySource, MemmapSource or LoaderSource
            Batches of shape (b, *example_shape), ``example_shape`` (d,), (H, W)
            or (C, H, W). The source makes the batches and their order (from its
            own ``seed``); the estimator's ``seed`` seeds the weights and the
            noise. Its ``batch_size`` must equal the estimator's, else an
            InputError, so that the saved parameters describe the training.
        valid : source, optional
            Validation data of the same example shape, for the ``valid_*``
            history, ``patience`` and ``restore_best``. A source is never
            split: ``validation_fraction`` is not used.
        checkpoint_dir, resume, callbacks
            As for ``fit``: checkpoints written after every epoch, continuing
            from the latest one, extra trainer callbacks.

        Raises
        ------
        InputError
            If ``train`` or ``valid`` is not a batch source, is empty or has
            examples of a wrong shape, if the batch sizes differ, or if a
            first batch holds NaN or values the likelihood cannot score.

        Notes
        -----
        Only the first batch of each source is checked (reading a stream twice
        would double the cost of an epoch); bad values further on show up as a
        diverged loss.

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np
        >>> from vaelab import VAE
        >>> from vaelab.data import MemmapSource
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     np.save(Path(tmp) / "x.npy", np.random.default_rng(0).random((64, 10), dtype=np.float32))
        ...     source = MemmapSource(Path(tmp) / "x.npy", batch_size=32, seed=0)
        ...     vae = VAE(latent_dim=2, batch_size=32, epochs=1, device="cpu").fit_source(source)
        >>> vae.input_shape_, vae.sample(3, seed=0).shape
        ((10,), (3, 10))
        """
        self._check_source(train, "train")
        n = int(train.num_examples)
        self._validate_params(n)
        if min(train.batch_size, n) != min(self.batch_size, n):  # sizes of n or more make the same one batch
            name = type(self).__name__
            raise InputError(
                f"train makes batches of {train.batch_size} examples, but this {name} has batch_size="
                f"{self.batch_size}; give both the same size: {name}(batch_size={train.batch_size}, ...) "
                f"or a source with batch_size={self.batch_size}"
            )
        example_shape = tuple(train.example_shape)
        if valid is not None:
            self._check_source(valid, "valid", like=example_shape)
        for source, name in ((train, "train"), (valid, "valid")):
            if source is not None:
                self._check_data(self._first_batch(source, name), f"the first batch of {name}")
        self.input_shape_ = example_shape
        self.n_features_in_ = math.prod(example_shape)
        self._train(train, valid, checkpoint_dir, resume, callbacks)
        return self

    def _check_source(self, source: Any, name: str, like: tuple[int, ...] | None = None) -> None:
        """Raise unless ``source`` is a non-empty batch source with examples of shape (d,), (H, W) or (C, H, W).

        With ``like``, its example shape must also be ``like`` (the training data's).
        """
        missing = [a for a in ("iter_epoch", "num_examples", "example_shape", "batch_size") if not hasattr(source, a)]
        if missing:
            raise InputError(
                f"{name} must be a batch source (InMemorySource, MemmapSource or LoaderSource from vaelab.data), "
                f"got {type(source).__name__} (without {', '.join(missing)}); for an array in memory call fit(X), "
                f"for .npy files pass MemmapSource(paths, batch_size={self.batch_size!r}, seed={self.seed!r})"
            )
        shape = tuple(source.example_shape)
        if not 1 <= len(shape) <= 3:
            raise InputError(
                f"{name} has examples of shape {shape}, but examples must have shape (d,), (H, W) or (C, H, W); "
                "store the data as an array of shape (n, d), (n, H, W) or (n, C, H, W) "
                "(X.reshape(-1, 1) for one feature)"
            )
        if like is not None and shape != like:
            raise InputError(
                f"{name} has examples of shape {shape}, but train has examples of shape {like}; "
                "give both sources data of the same example shape"
            )
        if source.num_examples < 1:
            raise InputError(f"{name} is empty (num_examples={source.num_examples}); it needs at least one example")

    @staticmethod
    def _first_batch(source: Any, name: str) -> Tensor:
        """The first batch of epoch 0, checked as ``fit`` checks ``X``: float32 of shape (b, *example_shape)."""
        first = next(iter(source.iter_epoch(0)), None)
        if isinstance(first, tuple):  # (x, c) from a source with conditions: the examples are checked
            first = first[0]
        got = None if first is None else tuple(first.shape)
        if got is None or got[0] == 0 or got[1:] != tuple(source.example_shape):
            raise InputError(
                f"{name}'s first batch has shape {got}, but a source with num_examples={source.num_examples} and "
                f"example_shape={tuple(source.example_shape)} must yield batches of shape (b, *example_shape), b >= 1"
            )
        return as_tensor(first, name=f"the first batch of {name}")

    def _check_data(self, X: Tensor, name: str) -> None:
        """The likelihood's check of the data (the training data decide likelihood="auto")."""
        if name == "X" or name.startswith("the first batch of train"):
            self._likelihood_spec = self._resolve_likelihood(X)
        build_likelihood(self._likelihood_spec).check_data(X, name)

    def _resolve_likelihood(self, X: Tensor) -> dict[str, Any]:
        """The likelihood spec, with "auto" decided from the training data ``X`` (a first batch for a source)."""
        spec = fields_of(self._checked["likelihood"], type(self).params["likelihood"])
        if spec["name"] == "auto":
            from vaelab.metrics.discrete import is_binary

            if self._checked["binarize"] == "dynamic" or is_binary(X):
                spec["name"] = "bernoulli"
            elif float(X.min()) >= 0.0 and float(X.max()) <= 1.0:
                spec["name"] = self.unit_likelihood
            else:
                spec["name"] = "gaussian"
        return spec

    @classmethod
    def _trainer_settings(cls, checked: dict[str, Any]) -> dict[str, Any]:
        """The :class:`TrainerConfig` fields of checked parameters (``trainer_options`` over its declared defaults)."""
        declared = {f.name: f.default for f in cls.params["trainer_options"].fields}  # type: ignore[attr-defined]
        return {
            "epochs": checked["epochs"],
            "learning_rate": checked["learning_rate"],
            "lr_schedule": checked["lr_schedule"],
            "patience": checked["patience"],
            "seed": checked["seed"],
            "device": checked["device"],
            **declared,
            **(checked["trainer_options"] or {}),
        }

    def _train(
        self,
        train: BatchSource,
        valid: BatchSource | None,
        checkpoint_dir: str | Path | None,
        resume: bool,
        callbacks: Sequence[Callback],
    ) -> None:
        """Build a new module and train it on the sources: the one training path of ``fit`` and ``fit_source``."""
        settings = self._trainer_settings(self._checked)
        if valid is None:
            settings["patience"] = None
        trainer_config = TrainerConfig(**settings)
        all_callbacks = ([ProgressBar()] if self.verbose else []) + self._training_callbacks() + list(callbacks)
        dynamic = self._checked["binarize"] == "dynamic"
        trainer = Trainer(trainer_config, all_callbacks, transform=binarize if dynamic else None)
        # the user's global RNG is left as it was; everything below is seeded by ``seed``
        with torch.random.fork_rng(devices=range(torch.cuda.device_count())), torch.enable_grad():
            torch.manual_seed(self.seed)
            module = self._build_module(int(train.num_examples))
            self.history_ = trainer.fit(module, train, valid, checkpoint_dir=checkpoint_dir, resume=resume)
        module.eval()
        self.module_ = module
        self.likelihood_ = self._likelihood_spec["name"]

    def _build_module(self, n_train: int) -> AutoencoderModel:
        """A new module for a training set of ``n_train`` examples."""
        return self.model_class(self._module_config())

    def _training_callbacks(self) -> list[Callback]:
        """Callbacks the estimator's own options ask for (a KL schedule)."""
        return []

    def _check_valid(self, X_valid: Any) -> Tensor:
        Xv = as_tensor(X_valid, name="X_valid")
        check_example_shape(Xv, self.input_shape_, name="X_valid")
        return Xv

    def _network(self) -> NetworkConfig:
        return NetworkConfig.build(self._checked["network"])

    def _likelihood_config(self) -> dict[str, Any]:
        return build_likelihood(self._likelihood_spec).config()

    def _fitted_attributes(self) -> dict[str, Any]:
        return super()._fitted_attributes() | {"likelihood": getattr(self, "likelihood_", None)}

    def _set_fitted_attributes(self, fitted: dict[str, Any]) -> None:
        super()._set_fitted_attributes(fitted)
        self.likelihood_ = fitted.get("likelihood")

    def score_samples(self, X: Any) -> Any:
        """log p(x | z = encoder(x)) per example in nats: a reconstruction score, not a bound on log p(x).

        float64 ``X`` is computed in float64 and scored as float64; shape (n,).
        """
        Xt = self._check_X(X, keep_float64=True)
        return _like_input(self._map(lambda m, x: m.likelihood.log_prob(x, m.decode(m.encode(x).mean)), Xt), X)

