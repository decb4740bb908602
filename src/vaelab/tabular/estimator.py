"""``TabularVAE``: the VAE on a table (a DataFrame or a CSV file), sampling DataFrames.

It holds a :class:`~vaelab.estimators.VAE`, unchanged, trained by the same
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
from vaelab.estimators.base import ESTIMATORS, EncoderDecoderEstimator
from vaelab.estimators.params import VAE_PARAMS as VAE_DECLARED
from vaelab.estimators.vae import VAE
from vaelab.params import declared
from vaelab.serialization import load_tensors, read_json, save_tensors, write_json
from vaelab.tabular import likelihood as _likelihood  # noqa: F401  (registers "mixed")
from vaelab.tabular.params import DEFAULT_HIDDEN_DIMS, DEFAULT_LATENT_DIM, TABULAR_PARAMS
from vaelab.training import Callback
from vaelab.validation import check_int, check_is_fitted

if TYPE_CHECKING:
    import pandas as pd


logger = logging.getLogger(__name__)

PIPELINE_JSON, PIPELINE_TENSORS = "table.json", "table.safetensors"
__all__ = ["DEFAULT_HIDDEN_DIMS", "DEFAULT_LATENT_DIM", "ConstraintError", "TabularVAE"]
FEW_ROWS = 100  # fewer training rows than this get a warning: a model of them mostly recalls them


class ConstraintError(VaelabError, RuntimeError):
    """Sampling could not produce enough rows that meet the constraints within the allowed tries."""


@ESTIMATORS.register("TabularVAE")
@declared(TABULAR_PARAMS)
class TabularVAE(EncoderDecoderEstimator):
    """A VAE for mixed-type tables with hard constraints, optional DP and conditional sampling.

    It holds a :class:`~vaelab.VAE` (``vae_``), built from its own parameters
    and trained on the table's vectors, and adds the table around it.
    ``conditional`` here means training on CTGAN-style conditional vectors of the
    table's own categorical columns (``sample(n, conditions={...})``), not on labels ``y``.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    pipeline_ : TablePipeline
    vae_ : VAE
        The fitted VAE on the table's vectors (not set on a loaded model; ``module_`` is its module).
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

    #: the parameters passed on to the VAE unchanged (those it shares with the VAE, but the ones set in _vae)
    VAE_PARAMS = tuple(n for n in TABULAR_PARAMS.names if n in VAE_DECLARED
                       and n not in ("conditional", "validation_fraction", "trainer_options"))

    def check_params(self) -> dict[str, Any]:
        """Check every parameter (the VAE's through the VAE's own checks); returns them normalized.

        Raises
        ------
        InputError
            Naming the first bad parameter.
        """
        checked = type(self).params.validate(self.get_params(deep=False))
        self._vae(checked, spans=None, conditional=False).check_params()
        self._checked = checked
        return checked

    def _vae(self, checked: dict[str, Any], spans: list[list[Any]] | None, conditional: bool) -> VAE:
        """The VAE that learns the table's vectors: the shared parameters, the mixed likelihood over ``spans``
        (None before the table is read: the VAE's other parameters are checked with a Gaussian in its place)."""
        trainer = {f.name: f.default for f in type(self).params["trainer_options"].fields}
        likelihood: Any = "gaussian" if spans is None else {
            "name": "mixed", "spans": spans, "scale": 0.1,
            "learn_scale": checked["learn_scale"] and checked["dp_epsilon"] is None,  # no per-example gradient
        }
        return VAE(
            **{name: checked[name] for name in self.VAE_PARAMS},
            likelihood=likelihood,
            conditional=conditional,
            validation_fraction=0.0,  # the table's rows are split here (validation_fraction), not by the VAE
            trainer_options={**trainer, **(checked["trainer_options"] or {})},
        )

    def _parsed_constraints(self) -> list[Any]:
        from vaelab.tabular.rules import parse_constraints

        return parse_constraints(self.constraints)

    def _parsed_metadata(self) -> dict[str, Any] | None:
        from vaelab.tabular.schema import read_metadata

        return read_metadata(self.metadata) if isinstance(self.metadata, (str, Path)) else self.metadata

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> TabularVAE:
        """Fit to a table: a DataFrame, or the path of a CSV file; returns self.

        Parameters
        ----------
        X : DataFrame or str
        y : None
            Ignored (the table's own columns condition the model).
        **fit_params
            ``checkpoint_dir`` (checkpoints after every epoch), ``resume`` (continue
            from them) and ``callbacks`` (extra trainer callbacks), as for ``VAE.fit``.

        Raises
        ------
        InputError, DataFileError
            For a bad file, a constraint naming a missing column or met by no row, bad options.
        """
        from vaelab.tabular.io import read_table
        from vaelab.tabular.pipeline import TablePipeline

        unknown = set(fit_params) - {"checkpoint_dir", "resume", "callbacks"}
        if unknown:
            raise TypeError(f"TabularVAE.fit() got unexpected keyword arguments {sorted(unknown)}")
        checked = self.check_params()
        df = read_table(X, encoding=checked["encoding"], name="X")
        pipeline = TablePipeline(
            self._parsed_constraints(),
            self._parsed_metadata(),
            n_modes=checked["n_modes"],
            max_categories=checked["max_categories"],
            seed=checked["seed"],
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
        if checked["conditional"]:
            from vaelab.tabular.conditions import ConditionVectors

            self.condition_frequencies_ = ConditionVectors.frequencies(pipeline, X_np)
            layout = self._condition_layout()  # None when the table has no categorical column
            C = layout.for_training(X_np, checked["seed"]) if layout is not None else None
        dp = self._dp_callback(X_np.shape[0])
        callbacks = [*fit_params.get("callbacks", ()), *([] if dp is None else [dp])]
        vae = self._vae(checked, [list(s) for s in pipeline.spans], conditional=C is not None)
        train, valid = self._sources(torch.from_numpy(X_np), None if C is None else torch.from_numpy(C))
        vae.fit_source(train, valid, checkpoint_dir=fit_params.get("checkpoint_dir"),
                       resume=bool(fit_params.get("resume", False)), callbacks=callbacks)
        self.vae_, self.module_, self.history_ = vae, vae.module_, vae.history_
        self.privacy_ = None if dp is None else self._privacy(dp, X_np.shape[0])
        self.label_latents_ = {}
        if C is not None and dp is None:  # under DP these statistics of the data would spend privacy: the prior instead
            device = self._device()
            with torch.no_grad():
                self.label_latents_ = self._condition_layout().label_latents(self.module_.cpu(), torch.from_numpy(X_np))
            self.module_.to(device)
        return self

    def _sources(self, X: torch.Tensor, C: torch.Tensor | None) -> tuple[Any, Any]:
        """Training (and validation) sources of the vectors X (n, d) with their conditions C (n, K),
        split by ``validation_fraction`` with the seed, as ``fit`` splits arrays."""
        from vaelab.data.streaming import InMemorySource

        checked = self._checked
        n = X.shape[0]
        n_valid = int(round(n * checked["validation_fraction"]))
        order = torch.randperm(n, generator=torch.Generator().manual_seed(checked["seed"]))
        parts = [order] if n_valid in (0, n) else [order[n_valid:], order[:n_valid]]
        batch = min(checked["batch_size"], len(parts[0]))
        sources = [InMemorySource(X[p], batch_size=b, seed=checked["seed"], condition=None if C is None else C[p])
                   for p, b in zip(parts, (batch, max(batch, 256)))]
        return sources[0], sources[1] if len(sources) > 1 else None

    def _condition_layout(self) -> Any:
        """The layout of the conditional vectors (None for a model fitted without)."""
        if not getattr(self, "condition_frequencies_", None):
            return None
        from vaelab.tabular.conditions import ConditionVectors

        return ConditionVectors(self.pipeline_, self.condition_frequencies_)

    def _dp_callback(self, n: int) -> Callback | None:
        checked = self._checked
        if checked["dp_epsilon"] is None:
            return None
        from vaelab.tabular.dp import DPSGD, noise_for_epsilon

        batch = min(checked["batch_size"], n)
        steps = checked["epochs"] * math.ceil(n / batch)
        noise = noise_for_epsilon(checked["dp_epsilon"], self._delta(n), batch / n, steps)
        return DPSGD(noise, checked["dp_max_grad_norm"], batch)

    def _delta(self, n: int) -> float:
        delta = self._checked["dp_delta"]
        return float(delta) if delta is not None else 1.0 / (10 * n)

    def _privacy(self, dp: Any, n: int) -> dict[str, Any]:
        from vaelab.tabular.dp import spent_epsilon

        batch = min(self._checked["batch_size"], n)
        delta = self._delta(n)
        return {
            "mechanism": "DP-SGD (Opacus), RDP accountant",
            "epsilon": spent_epsilon(dp.noise_multiplier, batch / n, dp.steps, delta),
            "target_epsilon": float(self._checked["dp_epsilon"]),
            "delta": delta,
            "noise_multiplier": dp.noise_multiplier,
            "max_grad_norm": dp.max_grad_norm,
            "sample_rate": batch / n,
            "steps": dp.steps,
        }

    # --------------------------------------------------------------- sample

    def sample(
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

    def transform(self, X: Any) -> np.ndarray:
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

    def inverse_transform(self, Z: Any) -> pd.DataFrame:
        """Rows decoded from latent codes (n, latent_dim), with no condition: each part's most probable
        value (the mean of its Gaussian head, the likeliest label), rounded and projected onto the
        constraints as in :meth:`sample`; a DataFrame of the fitted table's columns."""
        Zt = self._check_Z(Z, keep_float64=False)
        means = self._map(lambda module, z: module.decode_mean(z, self._no_condition(z.shape[0])), Zt)
        return self.pipeline_.decode(means.numpy())

    def reconstruct(self, X: Any) -> pd.DataFrame:
        """``inverse_transform(transform(X))``: the rows as the model reproduces them from their codes."""
        return self.inverse_transform(self.transform(X))

    def score_samples(self, X: Any) -> Any:
        """Not offered for tables: see :meth:`score`."""
        return self.score(X)

    def score(self, X: Any, y: Any = None) -> float:
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
