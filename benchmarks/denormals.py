"""What denormal floats cost a trained model's training step, and what flushing them to zero saves.

Late in training, a mixture prior's log-sum-exp over its components puts some
mixture weights below float32's smallest normal number (1.2e-38). On x86
every operation on such a denormal is one to two orders slower, unless the
thread flushes them to zero (``torch.set_flush_denormal``), which vaelab's
trainer does during a fit (``TrainerConfig(flush_denormal=True)``, the
default). This script loads a saved VAE, reports the share of denormal
mixture weights of its prior on a training batch, and times its training step
(forward and backward, no optimizer step, so the weights stay as saved) with
and without flushing, interleaved, on one thread:

    OMP_NUM_THREADS=1 python benchmarks/denormals.py --model runs/vae_remedies/best/best --threads 1

The model is any saved VAE of MNIST-shaped data (the share is reported only for
a mixture prior: ``vamp`` or ``mog``); ``runs/vae_remedies/best/best`` is what
``python benchmarks/vae_remedies.py run best best`` saves.
"""

from __future__ import annotations

import time
from pathlib import Path

import _common
import torch

import vaelab


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=5)
    p.add_argument("--model", type=Path, default=Path("runs/vae_remedies/best/best"), help="a saved VAE's folder")
    p.add_argument("--steps", type=int, default=20, help="training steps per timing")
    p.add_argument("--batch", type=int, default=128)
    args = p.parse_args()
    _common.setup(args)
    vae = vaelab.load(args.model)
    module = vae.module_.cpu().train()
    n = args.batch * args.steps
    x = torch.as_tensor(_common.load_mnist_float(Path(args.data_dir), "train")[:n]).reshape(n, -1)
    x = torch.bernoulli(x, generator=torch.Generator().manual_seed(0)).reshape(n, *vae.input_shape_)

    prior = module.prior
    if hasattr(prior, "component_log_probs"):  # a mixture prior: vamp or mog
        with torch.no_grad():
            z = module.encode(x[: args.batch]).rsample(generator=torch.Generator().manual_seed(0))
            weights = prior.component_log_probs(z).softmax(-1)  # p(component | z), (batch, K)
            tiny = torch.finfo(torch.float32).tiny
            denormal = float(((weights > 0) & (weights < tiny)).float().mean())
            zero = float((weights == 0).float().mean())
        print(f"mixture weights of {args.batch} codes x {weights.shape[1]} components: "
              f"{100 * denormal:.1f}% denormal, {100 * zero:.1f}% zero")

    def step_ms(flush: bool) -> float:
        torch.set_flush_denormal(flush)
        try:
            started = time.perf_counter()
            for i in range(args.steps):
                module.zero_grad(set_to_none=True)
                out = module(x[i * args.batch : (i + 1) * args.batch], generator=torch.Generator().manual_seed(i))
                out.loss.backward()
            return 1000 * (time.perf_counter() - started) / args.steps
        finally:
            torch.set_flush_denormal(False)

    step_ms(False)  # warm-up
    times = _common.interleave({"denormals kept": lambda: step_ms(False), "flushed": lambda: step_ms(True)},
                               args.repeats)
    kept, flushed = _common.median(times["denormals kept"]), _common.median(times["flushed"])
    _common.print_machine({"model": args.model, "prior": type(prior).__name__})
    print(_common.markdown_table(
        ["step", "median ms", "range ms"],
        [[name, _common.median(v), _common.spread(v)] for name, v in times.items()],
    ))
    print(f"\nflushed / kept speed: {kept / flushed:.2f}x")


if __name__ == "__main__":
    main()
