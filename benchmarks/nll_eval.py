"""Importance-sampled NLL evaluation speed: vaelab against per-example loops and a bare decoder pass.

Scores the first 1,000 MNIST test images (binarized once, fixed seed) with
k=1000 importance samples each under the MLP VAE 784-512-16 (Burda et al.
2016, eq. 8). Compared, interleaved:

- ``vaelab.metrics.importance_sampled_log_likelihood``: encoder once, then
  (k_chunk * B, 16) codes per decoder call, chunked to a memory budget;
- a per-example loop written here: one image at a time, its k samples in
  one decoder call of (k, 16);
- the textbook double loop, one image and one sample at a time (run on
  ``--naive-examples`` images only; samples/s does not depend on how many);
- a bare decoder forward pass over the same number of codes, in blocks of
  the same size as vaelab's calls: the ceiling, since the decoder is the
  dominant cost (2 * (16*512 + 512*784) = 819,200 FLOP per sample).

    python benchmarks/nll_eval.py --repeats 3
"""

from __future__ import annotations

import math
import time

import _common
import torch

from vaelab.metrics import importance_sampled_log_likelihood
from vaelab.metrics.bounds import DEFAULT_MEMORY_BUDGET_MB, chunk_sizes
from vaelab.models import VAEConfig, VAEModel
from vaelab.nn import NetworkConfig

DECODER_FLOP = 2 * (16 * 512 + 512 * 784)


def model_from(path: str) -> VAEModel:
    if path:
        from vaelab import load

        return load(path).module_.eval()
    torch.manual_seed(0)
    net = NetworkConfig("mlp", (512,))
    return VAEModel(VAEConfig(input_shape=(784,), latent_dim=16, network=net, likelihood={"name": "bernoulli"})).eval()


@torch.no_grad()
def per_example(module: VAEModel, x: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """One image at a time; its k samples decoded in one call."""
    out = torch.empty(x.shape[0])
    for i in range(x.shape[0]):
        xi = x[i : i + 1]
        q = module.encode(xi)
        z = q.rsample((k,), generator=gen)  # (k, 1, D)
        params = module.decode(z.reshape(k, -1))  # (k, 784)
        log_w = module.likelihood.log_prob(xi.expand(k, -1), params) + module.prior.log_prob(z[:, 0]) - q.log_prob(z)[:, 0]
        out[i] = torch.logsumexp(log_w.double(), 0) - math.log(k)
    return out


@torch.no_grad()
def per_sample(module: VAEModel, x: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """The double loop: one image and one importance sample at a time."""
    out = torch.empty(x.shape[0])
    for i in range(x.shape[0]):
        xi = x[i : i + 1]
        q = module.encode(xi)
        log_w = torch.empty(k, dtype=torch.float64)
        for j in range(k):
            z = q.rsample(generator=gen)  # (1, D)
            log_w[j] = float(module.likelihood.log_prob(xi, module.decode(z)) + module.prior.log_prob(z) - q.log_prob(z))
        out[i] = torch.logsumexp(log_w, 0) - math.log(k)
    return out


@torch.no_grad()
def bare_decoder(module: VAEModel, n_codes: int, rows_per_call: int) -> None:
    z = torch.randn(rows_per_call, 16)
    for start in range(0, n_codes, rows_per_call):
        module.decode(z[: min(rows_per_call, n_codes - start)])


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=3)
    p.add_argument("--examples", type=int, default=1000, help="test images")
    p.add_argument("--k", type=int, default=1000, help="importance samples per image")
    p.add_argument("--naive-examples", type=int, default=5, help="images for the one-sample-at-a-time loop")
    p.add_argument("--model", default="", help="a saved vaelab VAE (default: the untrained network; speed does not depend on the weights)")
    args = p.parse_args()
    _common.setup(args)
    module = model_from(args.model)
    x = _common.load_mnist_float(args.data_dir, "test")[: args.examples]
    x = torch.bernoulli(x, generator=torch.Generator().manual_seed(123))
    n, k = x.shape[0], args.k
    block, k_chunk = chunk_sizes(n, k, 2 * 16 + 4 * 784, DEFAULT_MEMORY_BUDGET_MB)  # vaelab's own split
    rows = block * k_chunk

    estimates: dict[str, torch.Tensor] = {}

    def run(name, fn, samples):
        def go() -> float:
            seconds, est = timed(fn)
            if est is not None:
                estimates[name] = est
            return samples / seconds
        return go

    variants = {
        "vaelab importance_sampled_log_likelihood": run(
            "vaelab", lambda: importance_sampled_log_likelihood(module, x, k, generator=torch.Generator().manual_seed(0)), n * k),
        "per-example loop (k samples per decoder call)": run(
            "per-example", lambda: per_example(module, x, k, torch.Generator().manual_seed(0)), n * k),
        f"bare decoder forward ({rows:,} rows per call)": run("bare", lambda: bare_decoder(module, n * k, rows), n * k),
    }
    runs = _common.interleave(variants, args.repeats)
    m = args.naive_examples
    naive_s, naive_est = timed(lambda: per_sample(module, x[:m], k, torch.Generator().manual_seed(0)))
    runs[f"per-sample double loop ({m} images)"] = [m * k / naive_s]

    ref = runs["per-example loop (k samples per decoder call)"]
    bare = runs[f"bare decoder forward ({rows:,} rows per call)"]
    table = []
    for name, values in runs.items():
        rate = _common.median(values)
        table.append([name, rate, _common.spread(values), f"{rate * DECODER_FLOP / 1e9:.1f}",
                      f"{rate / _common.median(ref):.2f}", f"{rate / _common.median(bare):.2f}"])
    nll_v, nll_p = -float(estimates["vaelab"].mean()), -float(estimates["per-example"].mean())
    nll_n = -float(naive_est.mean())
    print(f"## Importance-sampled NLL: k={k} on {n:,} MNIST test images, MLP VAE 784-512-16\n")
    _common.print_machine({
        "model": args.model or "untrained network, seed 0 (speed does not depend on the weights)",
        "vaelab split": f"{block} images x {k_chunk} samples per decoder call (memory budget {DEFAULT_MEMORY_BUDGET_MB:g} MB)",
        "runs": f"{args.repeats} per variant, interleaved; the double loop once",
        "mean NLL (nats)": f"vaelab {nll_v:.2f}, per-example loop {nll_p:.2f} (same images, independent noise); "
                           f"double loop on its {m} images {nll_n:.2f} vs vaelab's {-float(estimates['vaelab'][:m].mean()):.2f}",
    })
    print(_common.markdown_table(
        ["evaluation", "samples/s (median)", "range", "decoder GFLOP/s", "x per-example loop", "x bare decoder"], table))


if __name__ == "__main__":
    main()
