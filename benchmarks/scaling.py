"""Streaming scale: epoch time and peak memory for 10^4, 10^5 and 10^6 memory-mapped examples.

Synthetic MNIST-shaped data (784 uint8 values per example) is written to
``.npy`` files once (``--work-dir``, 7.8 MB / 78 MB / 784 MB), then each size
is trained for one epoch in a fresh process: ``MemmapSource`` (shuffled
blocks and windows, pages released after reading) feeding vaelab's Trainer
on the MLP VAE 784-512-16, batch 128. The child reports its epoch time and
its peak resident memory (``VmHWM``, including the ~0.3 GB that
importing torch takes). Loading the same data into one float32 tensor would
take 4 * 784 * n bytes.

    python benchmarks/scaling.py --repeats 3
    python benchmarks/scaling.py --sizes 10000,100000 --workers 1   # through a DataLoader worker
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import _common
import numpy as np

CHILD = r"""
import json, sys, time
sys.path.insert(0, {src!r})
import torch
if {threads}:
    torch.set_num_threads({threads})
from vaelab.data import MemmapSource
from vaelab.data.streaming import LoaderSource
from vaelab.models import VAEConfig, VAEModel
from vaelab.nn import NetworkConfig
from vaelab.training import Trainer, TrainerConfig
torch.manual_seed(0)
model = VAEModel(VAEConfig(input_shape=(784,), latent_dim=16, network=NetworkConfig("mlp", (512,))))
source = MemmapSource({path!r}, batch_size=128, seed=0)
if {workers}:
    source = LoaderSource(source, num_workers={workers})
def hwm_mib():  # peak RSS of this process image (VmHWM; ru_maxrss would include the parent's before exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
rss_before = hwm_mib()
start = time.perf_counter()
history = Trainer(TrainerConfig(epochs=1, device="cpu", seed=0)).fit(model, source)
seconds = time.perf_counter() - start
peak = hwm_mib()
start = time.perf_counter()
for batch in source.iter_epoch(1):  # the data path alone
    pass
read_seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_mib": peak, "rss_before_mib": rss_before,
                   "read_seconds": read_seconds, "peak_after_read_mib": hwm_mib(), "loss": history[-1]["train_loss"]}}))
"""


def write_data(path: Path, n: int, chunk: int = 50_000) -> None:
    """n synthetic uint8 examples of 784 values, written in chunks (never all in memory)."""
    if path.exists() and np.load(path, mmap_mode="r").shape == (n, 784):
        return
    rng = np.random.default_rng(n)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n, 784))
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        # blurry blobs rather than white noise: a little structure for the model to learn
        base = rng.integers(0, 256, size=(stop - start, 49), dtype=np.uint8)
        out[start:stop] = np.repeat(np.repeat(base.reshape(-1, 7, 7), 4, axis=1), 4, axis=2).reshape(-1, 784)
    out.flush()
    del out


def run_child(path: Path, workers: int, threads: int | None) -> dict:
    code = CHILD.format(src=str(_common.ROOT / "src"), path=str(path), workers=workers, threads=threads or 0)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=3)
    p.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated example counts")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (0: read in the training process)")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "vaelab-scaling"), help="where the .npy files go")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    paths = {}
    for n in sizes:
        paths[n] = work / f"synthetic-{n}.npy"
        write_data(paths[n], n)

    results: dict[int, list[dict]] = {n: [] for n in sizes}
    for _ in range(args.repeats):  # interleave sizes, so that load drifts hit all of them
        for n in sizes:
            results[n].append(run_child(paths[n], args.workers, args.threads))
            print(f"n={n:,}: {results[n][-1]}", file=sys.stderr, flush=True)

    rows = []
    base_n = sizes[0]
    base_rate = _common.median([base_n / r["seconds"] for r in results[base_n]])
    for n in sizes:
        secs = [r["seconds"] for r in results[n]]
        peaks = [r["peak_mib"] for r in results[n]]
        rate = _common.median([n / s for s in secs])
        read_rate = _common.median([n / r["read_seconds"] for r in results[n]])
        before = _common.median([r["rss_before_mib"] for r in results[n]])
        rows.append([f"{n:,}", f"{paths[n].stat().st_size / 2**20:,.0f}", f"{4 * 784 * n / 2**20:,.0f}",
                     f"{_common.median(secs):.2f}", _common.spread(secs), f"{rate:,.0f}", f"{rate / base_rate:.2f}",
                     f"{read_rate:,.0f}", f"{before:,.0f}", f"{_common.median(peaks):,.0f}",
                     f"{min(peaks):,.0f}-{max(peaks):,.0f}"])
    print("## Scaling: one epoch over memory-mapped data, MLP VAE 784-512-16, batch 128\n")
    _common.print_machine({"source": "MemmapSource (4 MiB blocks, 8-block windows)" +
                           (f" through LoaderSource, {args.workers} worker(s)" if args.workers else ", read in the training process"),
                           "runs": f"{args.repeats} per size, each in a fresh process, sizes interleaved",
                           "memory": "peak RSS of the training process (VmHWM), including torch and the model"})
    print(_common.markdown_table(
        ["examples", "file (MiB)", "as float32 tensor (MiB)", "epoch time (s, median)", "range", "samples/s",
         f"samples/s vs {base_n:,}", "reading alone (samples/s)", "RSS before training (MiB)",
         "peak RSS (MiB, median)", "peak RSS range"], rows))


if __name__ == "__main__":
    main()
