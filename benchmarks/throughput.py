"""Training throughput: vaelab's Trainer against a bare PyTorch loop of the same model.

The model is pythae's default network for 28x28 inputs, the MLP VAE with a
784-512-16 encoder and a 16-512-784 decoder (ReLU, Bernoulli likelihood,
829,232 parameters), batch 128, Adam (lr 1e-3), MNIST already in one float32
tensor. The bare loop is written here in plain PyTorch (its own nn.Sequential
model, shuffled index batches, zero_grad(set_to_none=True), no .item() per
step); it uses the same fused Adam and the same allocator setting as the
trainer, so the ratio measures the library's overhead alone. A bare loop with
torch's default Adam is shown for reference, and so is the estimator's
``VAE(...).fit(X)`` end to end (X a NumPy array: input checks, the model's
construction, the trainer), the call most users make.

The first optimizer a process builds makes torch import ``torch._dynamo``
(over a second): a one-time cost of the process, not of training. The
warm-up pays it before the timed runs, and it is timed apart, in fresh
processes: the import alone, then the first (fused) Adam built after it.

    python benchmarks/throughput.py --repeats 5
"""

from __future__ import annotations

import subprocess
import sys
import time

import _common
import torch
import torch.nn.functional as F
from torch import nn

from vaelab import VAE
from vaelab._runtime import tune_allocator
from vaelab.data import InMemorySource
from vaelab.models import VAEConfig, VAEModel
from vaelab.nn import NetworkConfig
from vaelab.training import Trainer, TrainerConfig

BATCH = 128


def vaelab_model() -> VAEModel:
    return VAEModel(
        VAEConfig(input_shape=(784,), latent_dim=16, network=NetworkConfig("mlp", (512,)), likelihood={"name": "bernoulli"})
    )


class BareVAE(nn.Module):
    """The same network in plain PyTorch: 784-512-(2x16) encoder, 16-512-784 decoder."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 32))
        self.decoder = nn.Sequential(nn.Linear(16, 512), nn.ReLU(), nn.Linear(512, 784))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, log_var = self.encoder(x).chunk(2, dim=-1)  # (B, 16) each
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        logits = self.decoder(z)  # (B, 784)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1).mean()
        kl = (-0.5 * (1 + log_var - mu**2 - log_var.exp())).sum(1).mean()
        return rec + kl


def bare_loop(x: torch.Tensor, epochs: int, fused: bool) -> float:
    torch.manual_seed(0)
    model = BareVAE()
    start = time.perf_counter()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True if fused else None)
    gen = torch.Generator().manual_seed(0)
    n = x.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, BATCH):
            loss = model(x[perm[i : i + BATCH]])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    float(loss.detach())  # wait for the last step
    return n * epochs / (time.perf_counter() - start)


def trainer_fit(x: torch.Tensor, epochs: int, compile: bool = False) -> float:
    torch.manual_seed(0)
    model = vaelab_model()
    source = InMemorySource(x, batch_size=BATCH, seed=0)
    trainer = Trainer(TrainerConfig(epochs=epochs, device="cpu", seed=0, compile=compile))
    start = time.perf_counter()
    trainer.fit(model, source)
    return x.shape[0] * epochs / (time.perf_counter() - start)


def estimator_fit(x: torch.Tensor, epochs: int) -> float:
    """``VAE.fit`` on a NumPy array, end to end: the same model, batch, optimizer and data, no validation split."""
    X = x.numpy()
    start = time.perf_counter()
    VAE(latent_dim=16, network={"kind": "mlp", "hidden_dims": [512]}, likelihood="bernoulli", epochs=epochs,
        batch_size=BATCH, validation_fraction=0.0, device="cpu", seed=0).fit(X)
    return x.shape[0] * epochs / (time.perf_counter() - start)


_FIRST_OPTIMIZER = """
import time, torch
start = time.perf_counter()
import torch._dynamo
dynamo = time.perf_counter() - start
p = torch.nn.Parameter(torch.zeros(1))
start = time.perf_counter()
torch.optim.Adam([p], lr=1e-3, fused=True)
print(dynamo, time.perf_counter() - start)
"""


def first_optimizer_costs(repeats: int) -> tuple[list[float], list[float]]:
    """Seconds of ``import torch._dynamo`` and of the first Adam built after it, each in a fresh process."""
    dynamo, adam = [], []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", _FIRST_OPTIMIZER], capture_output=True, text=True, check=True)
        d, a = map(float, out.stdout.split())
        dynamo.append(d)
        adam.append(a)
    return dynamo, adam


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=60_000, help="training examples (first n of MNIST train)")
    p.add_argument("--epochs", type=int, default=1, help="epochs per timed run")
    p.add_argument("--compile", action="store_true", help="also time Trainer.fit with compile=True (compiled once, untimed)")
    args = p.parse_args()
    _common.setup(args)
    tuned = tune_allocator()  # process-wide: the bare loops get it too
    x = _common.load_mnist_float(args.data_dir)[: args.examples].contiguous()

    n_params = sum(p.numel() for p in vaelab_model().parameters())
    n_bare = sum(p.numel() for p in BareVAE().parameters())
    assert n_params == n_bare == 829_232, (n_params, n_bare)

    # warm-up (first-touch allocations, lazy init), untimed
    small = x[:4096]
    bare_loop(small, 1, True), trainer_fit(small, 1), estimator_fit(small, 1)

    variants = {
        "bare loop, fused Adam": lambda: bare_loop(x, args.epochs, True),
        "vaelab Trainer.fit": lambda: trainer_fit(x, args.epochs),
        "bare loop, default Adam": lambda: bare_loop(x, args.epochs, False),
        "vaelab VAE.fit(X), end to end": lambda: estimator_fit(x, args.epochs),
    }
    if args.compile:  # torch.compile caches the compiled graph: the first (cold) compile stays out of the timings
        start = time.perf_counter()
        trainer_fit(small, 1, compile=True)
        print(f"torch.compile warm-up: {time.perf_counter() - start:.1f} s", file=sys.stderr)
        variants["vaelab Trainer.fit, compile=True"] = lambda: trainer_fit(x, args.epochs, compile=True)
    runs = _common.interleave(variants, args.repeats)
    ref = runs["bare loop, fused Adam"]
    rows = []
    for name, values in runs.items():
        ratios = [v / r for v, r in zip(values, ref)]
        rows.append([name, _common.median(values), _common.spread(values), f"{_common.median(ratios):.3f}",
                     f"{min(ratios):.3f}-{max(ratios):.3f}"])
    print("## Training throughput: MLP VAE 784-512-16, 829,232 parameters, batch 128, Adam\n")
    _common.print_machine({"data": f"MNIST train, first {x.shape[0]:,} images, {args.epochs} epoch(s) per run",
                           "runs": f"{args.repeats} per variant, interleaved", "malloc thresholds raised": tuned})
    print(_common.markdown_table(
        ["loop", "samples/s (median)", "range", "ratio to bare fused (median of paired)", "ratio range"], rows))
    dynamo, adam = first_optimizer_costs(args.repeats)
    print(f"\nOnce per process, not in the figures above ({args.repeats} fresh processes, medians):\n")
    print(_common.markdown_table(["one-time cost", "seconds (median)", "range"], [
        ["import torch._dynamo (torch does it when the first optimizer is built)", f"{_common.median(dynamo):.3f}",
         _common.spread(dynamo)],
        ["first fused Adam built, after that import", f"{_common.median(adam):.4f}", _common.spread(adam)],
    ]))


if __name__ == "__main__":
    main()
