"""``TabularVAE``: the VAE on a table (a DataFrame or a CSV file), sampling DataFrames.

It is the :class:`~vaelab.estimators.VAE`, unchanged, trained by the same
trainer on the vectors of a :class:`~vaelab.tabular.pipeline.TablePipeline`
with the ``mixed`` likelihood over the pipeline's spans (TVAE, Xu et al. 2019).
What it adds is only the table around the model: the pipeline, constraint
checks at sampling, optional DP-SGD (a trainer callback) and conditional
sampling. pandas is imported only when a table is read.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from vaelab.errors import InputError, ModelFileError, VaelabError
from vaelab.estimators.base import ESTIMATORS
from vaelab.estimators.vae import VAE
from vaelab.nn import NetworkConfig
from vaelab.serialization import load_tensors, read_json, save_tensors, write_json
from vaelab.tabular import likelihood as _likelihood  # noqa: F401  (registers "mixed")
from vaelab.training import Callback
from vaelab.validation import check_int, check_is_fitted

if TYPE_CHECKING:
    import pandas as pd


logger = logging.getLogger(__name__)

PIPELINE_JSON, PIPELINE_TENSORS = "table.json", "table.safetensors"
#: the default network: TVAE's hidden layers with a latent of 32 instead of 128, which scored a higher quality on
#: four of five tables and the same on the fifth, in 63-86% of the fit time (benchmarks/tabular_sizes.py)
DEFAULT_LATENT_DIM, DEFAULT_HIDDEN_DIMS = 32, (128, 128)
FEW_ROWS = 100  # fewer training rows than this get a warning: a model of them mostly recalls them


class ConstraintError(VaelabError, RuntimeError):
    """Sampling could not produce enough rows that meet the constraints within the allowed tries."""


@ESTIMATORS.register("TabularVAE")
class TabularVAE(VAE):
    """A VAE for mixed-type tables with hard constraints, optional DP and conditional sampling.

    ``conditional`` here means training on CTGAN-style conditional vectors of the
    table's own categorical columns (``sample(n, conditions={...})``), not on labels ``y``.

    Parameters
    ----------
    constraints : list, dict or str, optional
        Constraint objects or dicts (``{"type": "range", "column": "age", "low": 18}``), a
        ``{"constraints": [...]}`` mapping, or the path of a YAML/JSON rules file
        (see :mod:`vaelab.tabular.constraints`).
    metadata : dict or str, optional
        Column kind overrides, or the path of a YAML/JSON file (see :mod:`vaelab.tabular.schema`).
    latent_dim, network, epochs, batch_size, learning_rate, seed, device, verbose, trainer_options
        As for :class:`~vaelab.VAE`. The defaults are TVAE's (two hidden layers of 128, batch
        500, weight decay 1e-5) but for the latent, 32 instead of 128: over three seeds it scored
        a higher quality on GBSG2, UCI Adult and two other tables and the same on a fifth, in
        63-86% of the fit time (``benchmarks/tabular_sizes.py``). Hidden layers of 64
        (``network={"kind": "mlp", "hidden_dims": [64, 64]}``) fit in 51-72% of TVAE's time,
        with about TVAE's quality.
    beta : float
        KL weight; 0.5 matches TVAE's reconstruction weight of 2.
    kl_schedule, free_bits, objective, k, gradient, tc_beta
        The VAE's objective options, as for :class:`~vaelab.VAE` (one stochastic layer).
    learn_scale : bool
        Learn the Gaussian heads' sigma per continuous span (off under DP).
    conditional : bool
        Train with CTGAN-style conditional vectors (:mod:`vaelab.tabular.conditions`), so
        that ``sample(n, conditions={...})`` can fix categorical or boolean values.
    n_modes, max_categories : int
        Mixture modes per numeric column; one-hot levels per categorical column.
    dp_epsilon : float, optional
        Train with DP-SGD to spend this epsilon at ``dp_delta`` (Opacus).
    dp_delta : float, optional
        Default: 1 / (10 n).
    dp_max_grad_norm : float
        Per-example gradient clipping norm under DP.
    max_tries : int
        Sampling rounds allowed to meet predicates before :class:`ConstraintError`.
    encoding : str
        Encoding of a CSV file.

    Attributes
    ----------
    pipeline_ : TablePipeline
    privacy_ : dict or None
        ``{"epsilon", "delta", "noise_multiplier", "steps", ...}`` after DP training.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [30, 40, 50, 60] * 8, "sex": ["f", "m"] * 16})
    >>> model = TabularVAE(epochs=2, latent_dim=4, network={"kind": "mlp", "hidden_dims": [16]},
    ...                    constraints=[{"type": "range", "column": "age", "low": 18, "high": 90}], device="cpu")
    >>> synth = model.fit(df).sample(5, seed=0)
    >>> list(synth.columns), bool(synth["age"].between(18, 90).all())
    (['age', 'sex'], True)
    """

    conditions_on_labels = False  # its condition vectors come from the table's columns (see _condition_layout)

    binarize = False  # the mixed likelihood has no binarization

    def __init__(
        self,
        *,
        constraints: Any = None,
        metadata: Any = None,
        latent_dim: int = DEFAULT_LATENT_DIM,
        network: str | dict[str, Any] | NetworkConfig = None,
        prior: str | dict[str, Any] = "standard_normal",
        beta: float = 0.5,
        kl_schedule: str | None = None,
        free_bits: float = 0.0,
        objective: str = "elbo",
        k: int = 5,
        gradient: str = "standard",
        tc_beta: float = 1.0,
        learn_scale: bool = True,
        conditional: bool = True,
        n_modes: int = 10,
        max_categories: int = 100,
        epochs: int = 300,
        batch_size: int = 500,
        learning_rate: float = 1e-3,
        lr_schedule: str = "constant",
        validation_fraction: float = 0.0,
        patience: int | None = None,
        dp_epsilon: float | None = None,
        dp_delta: float | None = None,
        dp_max_grad_norm: float = 1.0,
        max_tries: int = 10,
        encoding: str = "utf-8",
        seed: int = 0,
        device: str = "auto",
        verbose: bool = False,
        trainer_options: dict[str, Any] | None = None,
    ) -> None:
        self.constraints = constraints
        self.metadata = metadata
        self.latent_dim = latent_dim
        self.network = network
        self.prior = prior
        self.beta = beta
        self.kl_schedule = kl_schedule
        self.free_bits = free_bits
        self.objective = objective
        self.k = k
        self.gradient = gradient
        self.tc_beta = tc_beta
        self.stochastic_layers = 1  # one stochastic layer: the conditional vectors enter it (not a parameter)
        self.learn_scale = learn_scale
        self.conditional = conditional
        self.n_modes = n_modes
        self.max_categories = max_categories
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.dp_epsilon = dp_epsilon
        self.dp_delta = dp_delta
        self.dp_max_grad_norm = dp_max_grad_norm
        self.max_tries = max_tries
        self.encoding = encoding
        self.seed = seed
        self.device = device
        self.verbose = verbose
        self.trainer_options = trainer_options

    # ------------------------------------------------------------------ fit

    def _parsed_constraints(self) -> list[Any]:
        from vaelab.tabular.rules import parse_constraints

        return parse_constraints(self.constraints)

    def _parsed_metadata(self) -> dict[str, Any] | None:
        from vaelab.tabular.schema import read_metadata

        return read_metadata(self.metadata) if isinstance(self.metadata, (str, Path)) else self.metadata

    def fit(  # type: ignore[override]
        self,
        X: Any,
        y: Any = None,
        *,
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
        callbacks: Sequence[Callback] = (),
    ) -> TabularVAE:
        """Fit to a table: a DataFrame, or the path of a CSV file; returns self.

        Raises
        ------
        InputError, DataFileError
            For a bad file, a constraint naming a missing column or met by no row, bad options.
        """
        from vaelab.tabular.io import read_table
        from vaelab.tabular.pipeline import TablePipeline

        check_int(self.max_tries, "max_tries", low=1)
        df = read_table(X, encoding=self.encoding, name="X")
        pipeline = TablePipeline(
            self._parsed_constraints(),
            self._parsed_metadata(),
            n_modes=self.n_modes,
            max_categories=self.max_categories,
            seed=self.seed,
        )
        X_np = pipeline.fit_transform(df)
        if X_np.shape[0] < FEW_ROWS:
            logger.warning(
                "only %d rows to learn from: synthetic rows will stay close to them; check the report's distance to "
                "the closest record and exact-copy share before sharing them", X_np.shape[0]
            )
        self.pipeline_ = pipeline
        self.input_shape_ = (X_np.shape[1],)
        self.n_features_in_ = X_np.shape[1]
        C = None
        self.condition_frequencies_ = None
        if self.conditional:
            from vaelab.tabular.conditions import ConditionVectors

            self.condition_frequencies_ = ConditionVectors.frequencies(pipeline, X_np)
            layout = self._condition_layout()  # None when the table has no categorical column
            C = layout.for_training(X_np, self.seed) if layout is not None else None
        dp = self._dp_callback(X_np.shape[0])
        self._fit_table(torch.from_numpy(X_np), None if C is None else torch.from_numpy(C), checkpoint_dir, resume,
                        [*callbacks, *([] if dp is None else [dp])])
        self.privacy_ = None if dp is None else self._privacy(dp, X_np.shape[0])
        self.label_latents_ = {}
        if C is not None and dp is None:  # under DP these statistics of the data would spend privacy: the prior instead
            with torch.no_grad():
                self.label_latents_ = self._condition_layout().label_latents(self.module_.cpu(), torch.from_numpy(X_np))
            self.module_.to(self._device_of_params())
        return self

    def _device_of_params(self) -> torch.device:
        from vaelab._runtime import resolve_device

        return resolve_device(self.device)

    def _fit_table(self, X: torch.Tensor, C: torch.Tensor | None, checkpoint_dir: Any, resume: bool,
                   callbacks: Sequence[Callback]) -> None:
        """Train on the vectors X (n, d) with their conditions C (n, K), split as ``fit`` splits arrays."""
        from vaelab.data.streaming import InMemorySource

        self._validate_params(X.shape[0])
        self._check_data(X, "X")
        n = X.shape[0]
        n_valid = int(round(n * self.validation_fraction))
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed))
        parts = [order] if n_valid in (0, n) else [order[n_valid:], order[:n_valid]]
        batch = min(self.batch_size, len(parts[0]))
        sources = [InMemorySource(X[p], batch_size=b, seed=self.seed, condition=None if C is None else C[p])
                   for p, b in zip(parts, (batch, max(batch, 256)))]
        self._train(sources[0], sources[1] if len(sources) > 1 else None, checkpoint_dir, resume, callbacks)

    def _condition_layout(self) -> Any:
        """The layout of the conditional vectors (None for a model fitted without)."""
        if not getattr(self, "condition_frequencies_", None):
            return None
        from vaelab.tabular.conditions import ConditionVectors

        return ConditionVectors(self.pipeline_, self.condition_frequencies_)

    def _module_config(self, n_train: int = 0) -> Any:
        import dataclasses

        layout = self._condition_layout()
        config = super()._module_config(n_train)
        return dataclasses.replace(config, condition_dim=layout.dim if layout is not None else 0)

    def _dp_callback(self, n: int) -> Callback | None:
        if self.dp_epsilon is None:
            return None
        from vaelab.tabular.dp import DPSGD, noise_for_epsilon

        if not self.dp_max_grad_norm > 0:
            raise InputError(f"dp_max_grad_norm must be > 0, got {self.dp_max_grad_norm!r}")
        batch = min(self.batch_size, n)
        steps = self.epochs * math.ceil(n / batch)
        noise = noise_for_epsilon(float(self.dp_epsilon), self._delta(n), batch / n, steps)
        return DPSGD(noise, self.dp_max_grad_norm, batch)

    def _delta(self, n: int) -> float:
        return float(self.dp_delta) if self.dp_delta is not None else 1.0 / (10 * n)

    def _privacy(self, dp: Any, n: int) -> dict[str, Any]:
        from vaelab.tabular.dp import spent_epsilon

        batch = min(self.batch_size, n)
        delta = self._delta(n)
        return {
            "mechanism": "DP-SGD (Opacus), RDP accountant",
            "epsilon": spent_epsilon(dp.noise_multiplier, batch / n, dp.steps, delta),
            "target_epsilon": float(self.dp_epsilon),
            "delta": delta,
            "noise_multiplier": dp.noise_multiplier,
            "max_grad_norm": dp.max_grad_norm,
            "sample_rate": batch / n,
            "steps": dp.steps,
        }

    def _learn_scale(self) -> bool:
        return bool(self.learn_scale) and self.dp_epsilon is None  # a free parameter has no per-example gradient

    def _likelihood_config(self) -> dict[str, Any]:
        spans = [list(s) for s in self.pipeline_.spans]
        return {"name": "mixed", "spans": spans, "scale": 0.1, "learn_scale": self._learn_scale()}

    def _network(self) -> NetworkConfig:
        default = {"kind": "mlp", "hidden_dims": list(DEFAULT_HIDDEN_DIMS), "activation": "relu"}
        spec = self.network if self.network is not None else default
        return NetworkConfig.build(spec)

    def _check_data(self, X: torch.Tensor, name: str) -> None:
        from vaelab.likelihoods import build_likelihood

        build_likelihood(self._likelihood_config()).check_data(X, name)

    def _train(self, train, valid, checkpoint_dir, resume, callbacks) -> None:  # noqa: ANN001
        options = dict(self.trainer_options or {})
        options.setdefault("weight_decay", 1e-5)  # TVAE's
        previous, self.trainer_options = self.trainer_options, options
        try:
            super()._train(train, valid, checkpoint_dir, resume, callbacks)
        finally:
            self.trainer_options = previous

    # --------------------------------------------------------------- sample

    def sample(  # type: ignore[override]
        self,
        n: int,
        *,
        seed: int | None = None,
        conditions: dict[str, Any] | None = None,
        predicates: Sequence[Any] = (),
    ) -> pd.DataFrame:
        """Draw ``n`` synthetic rows that meet every constraint.

        Rows are decoded from the prior (continuous parts with their noise,
        categories drawn from their softmax), rounded, projected onto the
        constructive constraints; rows failing a predicate are redrawn, at
        most ``max_tries`` rounds.

        Parameters
        ----------
        n : int
        seed : int, optional
        conditions : dict, optional
            ``{column: value}`` for categorical or boolean columns; the rows are
            generated conditioned on these values (needs a model fitted with conditioning).
        predicates : sequence of Predicate
            Extra rules met by rejection (besides any given at fit time).

        Returns
        -------
        DataFrame of shape (n, n_columns)

        Raises
        ------
        ConstraintError
            If fewer than ``n`` rows meet the constraints after ``max_tries`` rounds.
        """
        import pandas as pd

        check_is_fitted(self)
        check_int(n, "n", low=1)
        pipeline = self.pipeline_
        extra = list(predicates)
        generator = torch.Generator(device=self._device())
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        kept: list[pd.DataFrame] = []
        have, drawn, batch = 0, 0, n
        for _ in range(self.max_tries):
            rows = pipeline.decode(self._draw_vectors(batch, generator, conditions))
            ok = pipeline.valid(rows)
            for p in extra:
                ok &= p.is_valid(rows)
            kept.append(rows[ok])
            have, drawn = have + int(ok.sum()), drawn + batch
            if have >= n:
                return pd.concat(kept, ignore_index=True).iloc[:n]
            rate = max(have / drawn, 1.0 / drawn)
            batch = min(int(math.ceil(1.2 * (n - have) / rate)), 50 * n)
        raise ConstraintError(
            f"only {have} of {drawn} generated rows ({100 * have / drawn:.2g}%) meet the constraints after "
            f"max_tries={self.max_tries} rounds, fewer than n={n}; relax the predicates or raise max_tries"
        )

    # ------------------------------------------------------- codes of rows

    def _no_condition(self, n: int) -> torch.Tensor | None:
        """c for rows encoded or decoded without a condition: zeros (one of the training options), or None."""
        k = self.module_.condition_dim
        return torch.zeros(n, k, device=self._device()) if k else None

    def transform(self, X: Any) -> np.ndarray:  # type: ignore[override]
        """Latent codes of a table's rows: the posterior means, with no condition, shape (n, latent_dim).

        Parameters
        ----------
        X : DataFrame or str
            Rows with the columns of the fitted table (a CSV path is read); each number
            is encoded in its likeliest mixture mode, so a row's code depends on that row only.

        Raises
        ------
        InputError
            For a missing column, a label not seen in fit, or rows that break the constraints.
        """
        from vaelab.tabular.io import read_table

        check_is_fitted(self)
        vectors = torch.from_numpy(self.pipeline_.transform(read_table(X, encoding=self.encoding, name="X")))
        codes = self._map(lambda module, x: module.encode(x, self._no_condition(x.shape[0])).mean, vectors)
        return codes.numpy()

    def inverse_transform(self, Z: Any) -> pd.DataFrame:  # type: ignore[override]
        """Rows decoded from latent codes (n, latent_dim), with no condition: each part's most probable
        value (the mean of its Gaussian head, the likeliest label), rounded and projected onto the
        constraints as in :meth:`sample`; a DataFrame of the fitted table's columns."""
        Zt = self._check_Z(Z, keep_float64=False)
        means = self._map(lambda module, z: module.decode_mean(z, self._no_condition(z.shape[0])), Zt)
        return self.pipeline_.decode(means.numpy())

    def reconstruct(self, X: Any) -> pd.DataFrame:  # type: ignore[override]
        """``inverse_transform(transform(X))``: the rows as the model reproduces them from their codes."""
        return self.inverse_transform(self.transform(X))

    def score_samples(self, X: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Not offered for tables: see :meth:`score`."""
        return self.score(X)

    def score(self, X: Any, *args: Any, **kwargs: Any) -> float:  # type: ignore[override]
        """Not offered for tables: raises :class:`~vaelab.errors.InputError`.

        The model's likelihood is over the encoded vectors (a sampled mixture mode and a
        normalized offset per number), not over the table's values, so its figure would
        compare with nothing. The quality report (:func:`vaelab.tabular.quality_report`,
        ``vaelab tabular report``) scores a model's rows against real ones.
        """
        raise InputError(
            "TabularVAE has no likelihood score for rows: its likelihood is over the encoded vectors, not the table's "
            "values, and would compare with nothing; score synthetic rows with vaelab.tabular.quality_report or "
            "`vaelab tabular report`"
        )

    def _draw_vectors(self, n: int, generator: torch.Generator, conditions: dict[str, Any] | None) -> np.ndarray:
        """n data vectors: z from the prior, c as asked (or from its training distribution), x from p(x | z, c)."""
        module = self.module_
        layout = self._condition_layout() if module.condition_dim else None
        if conditions and layout is None:
            raise InputError("conditions need a TabularVAE fitted with conditional=True; this one was not")
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device)))
        writes: list[tuple[int, np.ndarray]] = []
        c, specific = None, None
        if layout is not None:
            C, writes, specific = layout.conditional(n, conditions, rng) if conditions else (layout.unconditional(n, rng), [], None)
            c = torch.from_numpy(C).to(self._device())
        with torch.no_grad():
            module.eval()
            z = module.prior.sample(n, generator=generator)
            latents = getattr(self, "label_latents_", None) or {}
            if specific is not None and latents:  # z from the aggregate posterior of the rows with that label
                j, picks = specific
                index = torch.from_numpy(picks)
                mean = latents[f"latent.{j}.mean"][index].to(z.device, z.dtype)
                std = latents[f"latent.{j}.var"][index].to(z.device, z.dtype).sqrt()
                z = mean + std * torch.randn(mean.shape, generator=generator, device=z.device, dtype=z.dtype)
            x = module.likelihood.sample(module.decode(z, c), generator=generator).float().cpu().numpy()
        for start, onehot in writes:  # the conditioned values are exact
            x[:, start : start + onehot.shape[1]] = onehot
        return x

    # ------------------------------------------------------------ save/load

    def _fitted_attributes(self) -> dict[str, Any]:
        return super()._fitted_attributes() | {
            "privacy": getattr(self, "privacy_", None),
            "condition_frequencies": getattr(self, "condition_frequencies_", None),
        }

    def _set_fitted_attributes(self, fitted: dict[str, Any]) -> None:
        super()._set_fitted_attributes(fitted)
        self.privacy_ = fitted.get("privacy")
        self.condition_frequencies_ = fitted.get("condition_frequencies")

    def _json_params(self) -> dict[str, Any]:
        params = super()._json_params()
        if not isinstance(params["constraints"], (str, type(None))):  # objects and Path: their dicts
            from vaelab.tabular.constraints import Predicate

            kept = [c for c in self._parsed_constraints() if not isinstance(c, Predicate)]
            params["constraints"] = [c.to_dict() for c in kept]
        if isinstance(params["metadata"], Path):
            params["metadata"] = str(params["metadata"])
        return params

    def _save_extra(self, folder: Path) -> None:
        write_json(folder / PIPELINE_JSON, self.pipeline_.to_dict())
        tensors = {**self.pipeline_.tensors(), **getattr(self, "label_latents_", {})}
        save_tensors(folder / PIPELINE_TENSORS, tensors, metadata={"format": "vaelab.table"})

    def _load_extra(self, folder: Path) -> None:
        from vaelab.tabular.pipeline import TablePipeline

        if not (folder / PIPELINE_JSON).is_file():
            raise ModelFileError(f"{folder} holds a TabularVAE without {PIPELINE_JSON}; the folder is incomplete")
        try:
            tensors = load_tensors(folder / PIPELINE_TENSORS)
            self.pipeline_ = TablePipeline.from_dict(read_json(folder / PIPELINE_JSON, "table pipeline"), tensors)
            self.label_latents_ = {k: v for k, v in tensors.items() if k.startswith("latent.")}
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{folder / PIPELINE_JSON} does not describe a valid table pipeline ({exc})") from None
