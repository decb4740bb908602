"""``vaelab train --nnodes 2 --node-rank R --rdzv-endpoint HOST:PORT``: two "nodes" on 127.0.0.1.

Two launcher processes (each a node with one training process) train the
same autoencoder as one process with the same global batch, in a run
directory both see (the shared-folder setup the README asks for). Then the
bad inputs: each is one line naming the option, and an unreachable endpoint
fails after --rdzv-timeout instead of hanging.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vaelab.cli import main
from vaelab.serialization import load_tensors

SRC = Path(__file__).resolve().parents[1] / "src"
EPOCHS = 2


def env() -> dict[str, str]:
    values = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    values.pop("WORLD_SIZE", None)
    values["OMP_NUM_THREADS"] = "1"
    return values


def start(*argv: object, cwd: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "vaelab", *map(str, argv)]
    return subprocess.Popen(command, cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vaelab.data import load_digits

    root = tmp_path_factory.mktemp("multinode")
    x, _ = load_digits()
    np.save(root / "digits.npy", x[:300])
    common = ["--data", root / "digits.npy", "--model", "autoencoder", "--latent-dim", 3, "--epochs", EPOCHS,
              "--hidden-dims", 16, "--batch-size", 32, "--threads", 1, "--seed", 4]
    assert main([str(a) for a in ["train", *common, "--out", root / "one", "--quiet"]]) == 0
    nodes = ["--nnodes", 2, "--rdzv-endpoint", f"127.0.0.1:{free_port()}", "--rdzv-timeout", 120, "--out", root / "two"]
    procs = [start("train", *common, *nodes, "--node-rank", rank, cwd=root) for rank in (0, 1)]
    for rank, proc in enumerate(procs):
        out, err = proc.communicate(timeout=400)
        (root / f"node{rank}.stdout").write_text(out)
        (root / f"node{rank}.stderr").write_text(err)
        assert proc.returncode == 0, err
    return root


def history(run: Path) -> list[dict[str, str]]:
    with open(run / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_two_nodes_match_one_process_with_the_same_global_batch(runs: Path) -> None:
    a, b = (load_tensors(runs / name / "model" / "model.safetensors") for name in ("one", "two"))
    assert a.keys() == b.keys()
    for name in a:  # the deterministic autoencoder: equal up to the rounding of the gradient all-reduce
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-5, msg=name)
    h1, h2 = history(runs / "one"), history(runs / "two")
    assert [r["step"] for r in h2] == [r["step"] for r in h1] and len(h2) == EPOCHS
    for r1, r2 in zip(h1, h2):
        assert float(r2["train_loss"]) == pytest.approx(float(r1["train_loss"]), rel=1e-5)


def test_rank_0_of_node_0_alone_writes_and_reports(runs: Path) -> None:
    assert (runs / "node0.stdout").read_text().count("run directory:") == 1
    assert "run directory:" not in (runs / "node1.stdout").read_text()
    assert "node 1 of 2" in (runs / "node1.stderr").read_text()
    assert (runs / "two" / "train.log").read_text().count(f"epoch {EPOCHS}/{EPOCHS}") == 1
    assert "rank 1 of 2" in (runs / "node1.stderr").read_text()  # node 1's process joined the group as rank 1


def test_a_cut_two_node_run_resumes_on_two_nodes_to_the_same_weights(runs: Path, cut_run) -> None:
    """What a crash in the last epoch leaves, resumed with ``vaelab resume RUN --nnodes 2 ...`` on both nodes."""
    cut = runs / "cut"
    assert len(cut_run(runs / "two", cut)) == EPOCHS
    nodes = ["--nnodes", 2, "--rdzv-endpoint", f"127.0.0.1:{free_port()}", "--rdzv-timeout", 120, "--quiet"]
    procs = [start("resume", cut, *nodes, "--node-rank", rank, cwd=runs) for rank in (0, 1)]
    for proc in procs:
        _, err = proc.communicate(timeout=400)
        assert proc.returncode == 0, err
    full, resumed = (load_tensors(run / "model" / "model.safetensors") for run in (runs / "two", cut))
    assert full.keys() == resumed.keys() and all(torch.equal(full[k], resumed[k]) for k in full)
    assert [r["train_loss"] for r in history(cut)] == [r["train_loss"] for r in history(runs / "two")]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--nnodes", "0"], "--nnodes"),
        (["--nnodes", "2", "--node-rank", "2", "--rdzv-endpoint", "127.0.0.1:29500"], "--node-rank"),
        (["--nnodes", "2", "--node-rank", "0", "--rdzv-endpoint", "localhost"], "--rdzv-endpoint"),
        (["--nnodes", "2", "--node-rank", "0", "--rdzv-endpoint", "host:99999"], "--rdzv-endpoint"),
        (["--nnodes", "2", "--node-rank", "0"], "--rdzv-endpoint"),
        (["--nnodes", "2", "--rdzv-endpoint", "127.0.0.1:29500"], "--node-rank"),
        (["--node-rank", "1"], "--nnodes"),
    ],
)
def test_bad_multinode_options_are_one_line_naming_the_option(
    options: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["train", "digits", "--model", "autoencoder", "--epochs", "1", "--out", str(tmp_path / "r"), *options])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and named in err and "\n" not in err
    assert not (tmp_path / "r").exists()
    assert main(["resume", str(tmp_path / "r"), *options]) == 2
    assert named in capsys.readouterr().err


def test_an_unreachable_endpoint_times_out_with_one_line(tmp_path: Path) -> None:
    """Node 1 with nobody at the endpoint, and node 0 whose other node never comes: both fail after the timeout."""
    common = ["train", "digits", "--model", "autoencoder", "--epochs", "1", "--threads", "1", "--nnodes", "2",
              "--rdzv-endpoint", f"127.0.0.1:{free_port()}", "--rdzv-timeout", "3"]
    for rank in (1, 0):
        proc = start(*common, "--node-rank", rank, "--out", tmp_path / f"r{rank}", cwd=tmp_path)
        _, err = proc.communicate(timeout=120)  # a guard: the launcher gives up after --rdzv-timeout
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert proc.returncode == 1 and len(lines) == 1, err
        assert "--rdzv-endpoint" in lines[0] and "--rdzv-timeout" in lines[0] and "within 3 s" in lines[0]
        assert not (tmp_path / f"r{rank}").exists()  # node 0 removed the run it had created


def test_the_timeout_default_is_the_librarys() -> None:
    from vaelab.cli.multinode import DEFAULT_TIMEOUT
    from vaelab.training.distributed import DEFAULT_RDZV_TIMEOUT

    assert DEFAULT_TIMEOUT == DEFAULT_RDZV_TIMEOUT


def test_debug_and_no_verify_reach_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vaelab.training import distributed

    seen: list[list[str]] = []
    monkeypatch.setattr(distributed, "launch", lambda argv, nproc, **kwargs: seen.append(list(argv)) or 0)
    code = main(["train", "digits", "--model", "autoencoder", "--epochs", "1", "--nproc", "2", "--no-verify",
                 "--debug", "--quiet", "--out", str(tmp_path / "r")])
    assert code == 0 and "--debug" in seen[0] and "--no-verify" in seen[0] and "--worker" in seen[0]
    seen.clear()
    assert main(["resume", str(tmp_path / "r"), "--quiet"]) == 0
    assert "--debug" not in seen[0]
