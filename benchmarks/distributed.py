"""Data-parallel training on CPU: 1 process against 2 gloo processes, the same global batch.

Each configuration trains from the same initial weights with the same data
order and global batch (128; 64 per rank with 2 processes) for ``--epochs``
over MNIST:

- 1 process with 2 intra-op threads (the default on this machine),
- 1 process with 1 thread,
- 2 processes with 1 thread each, under torchrun (gloo on localhost), through
  ``vaelab.training.distributed.launch``.

Two models: the MLP VAE 784-512-16 (829,232 parameters; each rank draws its
own noise, so the runs agree up to that noise) and the deterministic
autoencoder of the same shape (the runs agree up to rounding; the table
gives the largest weight difference).

    python benchmarks/distributed.py --repeats 3
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common
import torch

SCRIPT = Path(__file__).resolve()


def worker(args) -> None:
    """One training run (one rank of it under torchrun); rank 0 writes the result."""
    from vaelab.data import InMemorySource
    from vaelab.models import AutoencoderConfig, AutoencoderModel, VAEConfig, VAEModel
    from vaelab.nn import NetworkConfig
    from vaelab.serialization import save_tensors
    from vaelab.training import Trainer, TrainerConfig, distributed

    if args.threads:
        torch.set_num_threads(args.threads)
    x = _common.load_mnist_float(args.data_dir)[: args.examples]
    torch.manual_seed(0)
    net = NetworkConfig("mlp", (512,))
    if args.model == "vae":
        model = VAEModel(VAEConfig(input_shape=(784,), latent_dim=16, network=net, likelihood={"name": "bernoulli"}))
    else:
        model = AutoencoderModel(AutoencoderConfig(input_shape=(784,), latent_dim=16, network=net, likelihood={"name": "bernoulli"}))
    history = Trainer(TrainerConfig(epochs=args.epochs, device="cpu", seed=0)).fit(model, InMemorySource(x, batch_size=128, seed=0))
    rank, world = distributed.rank_and_world()
    if rank == 0:
        save_tensors(Path(args.out).with_suffix(".safetensors"), model.state_dict())
        Path(args.out).write_text(json.dumps({
            "world_size": world, "threads": torch.get_num_threads(),
            "seconds": sum(r["seconds"] for r in history), "train_loss": history[-1]["train_loss"],
        }))


def run(config: str, model: str, args, out: Path) -> dict:
    base = [str(SCRIPT), "--worker", "--model", model, "--epochs", str(args.epochs), "--examples", str(args.examples),
            "--data-dir", args.data_dir, "--out", str(out)]
    env = dict(os.environ, PYTHONPATH=str(_common.ROOT / "src"))
    start = time.perf_counter()
    if config.startswith("2 processes"):
        from vaelab.training.distributed import launch

        env["OMP_NUM_THREADS"] = "1"
        code = launch(base + ["--threads", "1"], 2, env=env)
    else:
        threads = "2" if "2 threads" in config else "1"
        code = subprocess.run([sys.executable, *base, "--threads", threads], env=env, check=False).returncode
    if code != 0:
        raise RuntimeError(f"{config} exited with {code}")
    result = json.loads(out.read_text())
    result["wall_s"] = time.perf_counter() - start
    result["weights"] = out.with_suffix(".safetensors")
    return result


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=3)
    p.add_argument("--worker", action="store_true", help=argparse_hidden())
    p.add_argument("--model", default="vae")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--examples", type=int, default=60_000)
    p.add_argument("--out", default="")
    p.add_argument("--configs", default="0,1,2",
                   help="which configurations: 0 = 1 process, 2 threads; 1 = 1 process, 1 thread; 2 = 2 processes")
    args = p.parse_args()
    if args.worker:
        worker(args)
        return

    from vaelab.serialization import load_tensors

    configs = ["1 process, 2 threads", "1 process, 1 thread", "2 processes (gloo), 1 thread each"]
    configs = [configs[int(i)] for i in args.configs.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in ("vae", "ae"):
            results = {c: [] for c in configs}
            for r in range(args.repeats):
                for c in configs[r % len(configs):] + configs[: r % len(configs)]:
                    results[c].append(run(c, model, args, Path(tmp) / f"{model}-{configs.index(c)}-{r}.json"))
                    print(f"{model} {c}: {results[c][-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
            ref = results[configs[0]]
            ref_weights = load_tensors(ref[0]["weights"])
            for c in configs:
                res = results[c]
                rates = [args.examples * args.epochs / x["seconds"] for x in res]
                ratios = [x["seconds"] and y["seconds"] / x["seconds"] for x, y in zip(res, ref)]
                w = load_tensors(res[0]["weights"])
                diff = max(float((w[k] - ref_weights[k]).abs().max()) for k in w)
                rows.append([model.upper(), c, f"{_common.median([x['seconds'] for x in res]):.1f}", f"{_common.median(rates):,.0f}",
                             f"{_common.median(ratios):.2f}", f"{_common.median([x['wall_s'] for x in res]):.1f}",
                             f"{_common.median([x['train_loss'] for x in res]):.4f}", f"{diff:.2g}"])
    print(f"## Data-parallel training on CPU: MNIST ({args.examples:,} images, {args.epochs} epoch(s)), global batch 128\n")
    _common.print_machine({"backend": "gloo on localhost (torchrun --standalone), launched by vaelab.training.distributed.launch",
                           "runs": f"{args.repeats} per configuration, interleaved, each in fresh processes"})
    print(_common.markdown_table(
        ["model", "configuration", "training time (s, median)", "samples/s", f"speed-up vs {configs[0]}",
         "wall time incl. start-up (s)", "final train loss", f"max weight difference vs {configs[0]}"], rows))


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
