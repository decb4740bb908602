"""The explorer's latency: a slider move (POST /api/decode of one code) round trip on loopback.

The model is the 28x28 MLP VAE (784-512-16 encoder, 16-512-784 decoder,
Bernoulli likelihood), fitted for one epoch on 2,000 MNIST images (the
decoder's speed does not depend on how well it is trained); the explorer
holds the 10,000 MNIST test images (2,000 on the map) and the 60,000 training
images (neighbours). Without MNIST, random 28x28 data of the same sizes.

The server runs in its own process (``--serve``), as ``vaelab explore`` does;
each client is a separate process with one keep-alive HTTP connection that
moves one slider (one coordinate changes per request) and sets TCP_NODELAY
as browsers do, so the clients do not
share a GIL with each other or with the server. Reported: p50 and p99 of the
round trip, requests per second over all clients, the server's peak resident
memory (VmHWM), and the page's time to interactive in headless Chromium
(``performance.now()`` when the page has built its sliders, map and first
output), median of 3 loads.

    python benchmarks/explorer.py --requests 400 --threads 1
"""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common
import numpy as np

HERE = Path(__file__).resolve()


def build_explorer(data_dir: str, threads: int | None):  # type: ignore[no-untyped-def]
    import torch

    from vaelab import VAE
    from vaelab.explore.session import Explorer

    if threads:
        torch.set_num_threads(threads)
    try:
        from vaelab.data import load_mnist

        x_train, y_train = load_mnist(Path(data_dir) / "mnist", split="train")
        x_test, y_test = load_mnist(Path(data_dir) / "mnist", split="test")
        source = "MNIST"
    except Exception:  # noqa: BLE001 - the benchmark still runs on random data
        rng = np.random.default_rng(0)
        x_train, x_test = (
            rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
            rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
        )
        y_train, y_test = rng.integers(0, 10, 60000), rng.integers(0, 10, 10000)
        source = "random 28x28 data (MNIST not found)"
    vae = VAE(
        latent_dim=16,
        network={"kind": "mlp", "hidden_dims": [512]},
        likelihood="bernoulli",
        epochs=1,
        batch_size=128,
        device="cpu",
        seed=0,
    )
    vae.fit(x_train[:2000].astype(np.float32) / 255.0)
    return Explorer(vae, x_test, y_test, x_train, y_train, max_test=2000), source


def serve(args) -> None:  # type: ignore[no-untyped-def]
    from vaelab.explore.app import create_app
    from vaelab.explore.server import LOOPBACK, Server, bind

    explorer, source = build_explorer(args.data_dir, args.threads)
    server = Server(create_app(explorer, max_queue=64), bind(LOOPBACK, 0))
    print(json.dumps({"port": server.port, "source": source}), flush=True)
    server.run()


def client(port: int, n: int, seed: int, out: mp.Queue) -> None:
    rng = np.random.default_rng(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.connect()
    # http.client writes headers and body in two send() calls: without TCP_NODELAY, Nagle's algorithm holds the
    # body until the server's delayed ACK (~40 ms). Browsers set TCP_NODELAY, so this client does too.
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    code = np.zeros(16)
    times = []
    for i in range(n):
        code[i % 16] = float(rng.uniform(-3, 3))  # one slider moves
        body = json.dumps({"code": code.round(4).tolist()})
        start = time.perf_counter()
        conn.request("POST", "/api/decode", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        if response.status != 200:
            out.put(("error", response.status))
            return
    conn.close()
    out.put(("ok", times))


def load(port: int, clients: int, per_client: int) -> tuple[list[float], float]:
    ctx = mp.get_context("fork")
    out: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=client, args=(port, per_client, c, out)) for c in range(clients)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    wall = time.perf_counter() - start
    for p in procs:
        p.join()
    bad = [r for r in results if r[0] != "ok"]
    if bad:
        raise SystemExit(f"requests failed: {bad}")
    times = [t for _, ts in results for t in ts[5:]]  # the first few warm the connection
    return times, clients * per_client / wall


def time_to_interactive(port: int) -> str:
    from vaelab.explore import browser

    why = browser.missing()
    if why:
        return f"n/a ({why})"
    values = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as profile, browser.chromium_page(Path(profile)) as page:
            page.goto(f"http://127.0.0.1:{port}/")
            values.append(browser.wait_ready(page))
    return f"{_common.median(values):.0f} ms (runs: {', '.join(f'{v:.0f}' for v in values)})"


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=400, help="requests per client (default 400)")
    p.add_argument("--serve", action="store_true", help=argparse_hidden())
    args = p.parse_args()
    if args.serve:
        serve(args)
        return
    command = [sys.executable, str(HERE), "--serve", "--data-dir", args.data_dir] + (
        ["--threads", str(args.threads)] if args.threads else []
    )
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        hello = json.loads(server.stdout.readline())  # type: ignore[union-attr]
        port = hello["port"]
        rows = []
        for clients in (1, 8):
            times, rate = load(port, clients, args.requests)
            ms = np.asarray(times) * 1000
            rows.append(
                [clients, len(ms), f"{np.percentile(ms, 50):.1f}", f"{np.percentile(ms, 99):.1f}", f"{rate:.0f}"]
            )
        tti = time_to_interactive(port)
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    finally:
        server.terminate()
        server.wait(30)
    print(
        f"`python benchmarks/explorer.py --requests {args.requests}"
        + (f" --threads {args.threads}`" if args.threads else "`")
    )
    print()
    _common.print_machine({"data": hello["source"], "server torch threads": args.threads or "torch's choice"})
    print(_common.markdown_table(["clients", "requests", "p50 ms", "p99 ms", "requests/s"], rows))
    print()
    print(f"Server peak memory (VmHWM): {int(peak) / 1024:.0f} MiB. Time to interactive in Chromium: {tti}.")
    print("Measured on a machine shared with other jobs (the load average above); figures vary with the load.")


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
