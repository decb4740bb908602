"""The parts of TabularVAE's step and fit that were rewritten for speed, timed alone on the UCI Adult subsample.

- the mixed likelihood, forward and backward (batch 500): vaelab's one
  autograd node against the plain loop over spans (a log-softmax per span);
- the six 1-D ``BayesianGaussianMixture`` fits with SDV's settings,
  ``covariance_type="full"`` against ``"diag"``;
- the training of a fit (100 epochs of 10 steps) by vaelab's trainer against
  a bare PyTorch loop over the same module, data and optimizer (fused Adam,
  shuffled index batches), interleaved: what the trainer costs beyond the
  network and the likelihood; and the bare loop over the unconditional model
  (``conditional=False``: TVAE's network exactly), what the conditional vectors cost.

    OMP_NUM_THREADS=1 python benchmarks/tabular_parts.py --threads 1 --data-dir ../shared/data
"""

from __future__ import annotations

import copy
import time
import warnings
from pathlib import Path

import _common
import numpy as np
import torch
from tabular import ADULT_RULES, load_adult

from vaelab.tabular import TabularVAE

#: TVAE's network (latent 128, hidden 128-128), what these timings are of (TabularVAE's default latent is now 32)
TVAE_SIZES = {"latent_dim": 128, "network": {"kind": "mlp", "hidden_dims": [128, 128]}}


def per_call(fn, repeats: int, warmup: int = 20) -> float:
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def per_span_log_prob(spans, log_scale: torch.Tensor, x: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """The mixed likelihood one span at a time: what autograd records without the single node."""
    total, start, g = torch.zeros(x.shape[0]), 0, 0
    for kind, width in spans:
        p, target = params[:, start : start + width], x[:, start : start + width]
        if kind == "gaussian":
            z = (target[:, 0] - torch.tanh(p[:, 0])) * torch.exp(-log_scale[g])
            total = total - 0.5 * z**2 - log_scale[g] - 0.5 * np.log(2 * np.pi)
            g += 1
        else:
            total = total + (target * torch.nn.functional.log_softmax(p, dim=-1)).sum(1)
        start += width
    return total


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=300)
    args = p.parse_args()
    _common.setup(args)
    warnings.filterwarnings("ignore")
    train = load_adult(Path(args.data_dir), 5000, 0)[0]
    model = TabularVAE(constraints=ADULT_RULES, epochs=1, seed=0, device="cpu", **TVAE_SIZES).fit(train)
    lik = model.module_.likelihood
    x = torch.as_tensor(copy.deepcopy(model.pipeline_).fit_transform(train)[:500], dtype=torch.float32)
    params = torch.randn(500, x.shape[1], generator=torch.Generator().manual_seed(0), requires_grad=True)

    rows = [
        ["mixed likelihood: one autograd node (vaelab)",
         per_call(lambda: lik.log_prob(x, params).sum().backward(), args.repeats)],
        ["mixed likelihood: a log-softmax per span (plain autograd)",
         per_call(lambda: per_span_log_prob(lik.spans, lik.log_scale, x, params).sum().backward(), args.repeats)],
    ]
    print(f"## TabularVAE parts (Adult, {x.shape[1]} columns, batch 500), forward and backward\n")
    _common.print_machine({"runs": f"{args.repeats} calls each, after 20 warm-up calls"})
    print(_common.markdown_table(["part", "ms per call"], [[name, f"{1000 * t:.3f}"] for name, t in rows]))

    from sklearn.mixture import BayesianGaussianMixture

    columns = [name for name in train.columns if train[name].dtype.kind in "if"]
    rows, fitted = [], {}
    for kind in ("full", "diag"):
        start = time.perf_counter()
        for name in columns:
            values = train[name].dropna().to_numpy(float).reshape(-1, 1)
            fitted[kind, name] = BayesianGaussianMixture(
                n_components=10, weight_concentration_prior_type="dirichlet_process", weight_concentration_prior=0.001,
                max_iter=100, random_state=0, covariance_type=kind,
            ).fit(values)
        rows.append([kind, len(columns), f"{time.perf_counter() - start:.2f}"])
    print("\n## The 1-D mixtures of the table transformer (SDV's settings)\n")
    print(_common.markdown_table(["covariance_type", "columns", "seconds"], rows))
    gap = max(
        float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12)))
        for name in columns
        for a, b in ((fitted["full", name].weights_, fitted["diag", name].weights_),
                     (fitted["full", name].means_.ravel(), fitted["diag", name].means_.ravel()),
                     (fitted["full", name].covariances_.ravel(), fitted["diag", name].covariances_.ravel()))
    )
    print(f"\nLargest relative difference of the fitted weights, means and variances, full against diag: {gap:.1e}")
    trainer_against_bare_loop(model, train, x, args.repeats)


def trainer_against_bare_loop(model: TabularVAE, train, x_batch: torch.Tensor, repeats: int) -> None:
    """Seconds of 1,000 training steps: TabularVAE's fit (its training only) against a bare loop."""
    from vaelab.tabular.conditions import ConditionVectors

    pipeline = copy.deepcopy(model.pipeline_)
    x_all = torch.as_tensor(pipeline.fit_transform(train), dtype=torch.float32)
    layout = ConditionVectors(pipeline, model.condition_frequencies_)
    c_all = torch.from_numpy(layout.for_training(x_all.numpy(), 0))
    n, batch, epochs = x_all.shape[0], 500, 100

    def trainer() -> float:
        est = TabularVAE(constraints=ADULT_RULES, epochs=epochs, seed=0, device="cpu", **TVAE_SIZES)
        est.pipeline_, est.condition_frequencies_ = pipeline, model.condition_frequencies_
        est.input_shape_, est.n_features_in_ = (x_all.shape[1],), x_all.shape[1]
        start = time.perf_counter()
        est._fit_table(x_all, c_all, None, False, [])
        return time.perf_counter() - start

    def bare(fitted, conditions: torch.Tensor | None) -> float:
        torch.manual_seed(0)
        module = copy.deepcopy(fitted)
        for p in module.parameters():  # fresh weights of the same shapes
            torch.nn.init.normal_(p, std=0.05)
        opt = torch.optim.Adam(module.parameters(), lr=1e-3, weight_decay=1e-5, fused=True)
        g = torch.Generator().manual_seed(0)
        start = time.perf_counter()
        for _ in range(epochs):
            order = torch.randperm(n, generator=g)
            for i in range(0, n, batch):
                idx = order[i : i + batch]
                c = None if conditions is None else conditions.index_select(0, idx)
                loss = module(x_all.index_select(0, idx), c).loss
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        return time.perf_counter() - start

    unconditional = TabularVAE(constraints=ADULT_RULES, epochs=1, seed=0, device="cpu", conditional=False,
                               **TVAE_SIZES).fit(train)
    times = _common.interleave({
        "vaelab's trainer (TabularVAE, training only)": trainer,
        "a bare PyTorch loop over the same module": lambda: bare(model.module_, c_all),
        "a bare PyTorch loop over the unconditional module (conditional=False)":
            lambda: bare(unconditional.module_, None),
    }, max(1, min(repeats, 5)))
    print(f"\n## 100 epochs of {-(-n // batch)} steps (batch {batch}, {n} rows), interleaved\n")
    print(_common.markdown_table(["loop", "seconds (median)", "runs"],
                                 [[k, f"{_common.median(v):.2f}", _common.spread(v)] for k, v in times.items()]))


if __name__ == "__main__":
    main()
