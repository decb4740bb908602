"""``vaelab train --nproc N`` and ``vaelab resume``: data-parallel runs from the command line.

Two launches of 2 gloo processes on this machine (a few seconds each): a run
trained on 2 processes matches one trained on 1, and a 2-process run that
was cut after an epoch resumes, on 2 processes again, to the same weights.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vaelab.cli import main
from vaelab.serialization import load_tensors

SRC = Path(__file__).resolve().parents[1] / "src"
EPOCHS = 3


def cli(*argv: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m vaelab ARGV`` in a fresh process (the launcher owns signals and child processes)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    env.pop("WORLD_SIZE", None)
    return subprocess.run(
        [sys.executable, "-m", "vaelab", *map(str, argv)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same autoencoder run trained on 1 process (in this process) and on 2."""
    from vaelab.data import load_digits

    root = tmp_path_factory.mktemp("cli-ddp")
    x, _ = load_digits()
    np.save(root / "digits.npy", x[:300])
    common = ["--data", root / "digits.npy", "--model", "autoencoder", "--latent-dim", 3, "--epochs", EPOCHS,
              "--hidden-dims", 16, "--batch-size", 32, "--threads", 1, "--seed", 4]
    assert main([str(a) for a in ["train", *common, "--out", root / "one", "--quiet"]]) == 0
    done = cli("train", *common, "--nproc", 2, "--out", root / "two", cwd=root)
    assert done.returncode == 0, done.stderr
    (root / "two.stderr").write_text(done.stderr)
    (root / "two.stdout").write_text(done.stdout)
    return root


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_tensors(run / "model" / "model.safetensors")


def history(run: Path) -> list[dict[str, str]]:
    with open(run / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_two_process_run_matches_one_process_run(runs: Path) -> None:
    one, two = runs / "one", runs / "two"
    assert "nproc = 2" in (two / "config.toml").read_text()
    a, b = weights(one), weights(two)
    assert a.keys() == b.keys()
    for name in a:  # the deterministic autoencoder: equal up to the rounding of the gradient all-reduce
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-5, msg=name)
    h1, h2 = history(one), history(two)
    assert [r["step"] for r in h2] == [r["step"] for r in h1] and len(h2) == EPOCHS
    for r1, r2 in zip(h1, h2):
        assert float(r2["train_loss"]) == pytest.approx(float(r1["train_loss"]), rel=1e-5)
    # rank 0 alone reported: one results table on stdout, one line per epoch in the log
    assert (runs / "two.stdout").read_text().count("run directory:") == 1
    assert "training on 2 processes" in (runs / "two.stderr").read_text()
    log = (two / "train.log").read_text()
    assert log.count(f"epoch {EPOCHS}/{EPOCHS}") == 1
    assert "test" in (two / "metrics.json").read_text()


def test_cut_two_process_run_resumes_to_the_same_weights(runs: Path, cut_run) -> None:
    cut = runs / "cut"
    # what a crash in the last epoch leaves: no model, the checkpoint of epoch EPOCHS - 1 as the latest
    assert len(cut_run(runs / "two", cut)) == 2
    done = cli("resume", cut, "--quiet", cwd=runs)  # nproc = 2 from config.toml
    assert done.returncode == 0, done.stderr
    assert "run directory:" in done.stdout
    full, resumed = weights(runs / "two"), weights(cut)
    assert all(torch.equal(full[k], resumed[k]) for k in full)
    assert [r["train_loss"] for r in history(cut)] == [r["train_loss"] for r in history(runs / "two")]


def test_a_conditional_vae_trains_on_two_processes(runs: Path) -> None:
    """The labels travel with the examples: each rank trains on its part of every (x, y) batch."""
    from vaelab.data import load_digits

    x, y = load_digits()
    np.savez(runs / "labelled.npz", x=x[:300], y=y[:300])
    done = cli("train", "--data", runs / "labelled.npz", "--model", "vae", "--conditional", "--latent-dim", 2,
               "--epochs", 2, "--hidden-dims", 16, "--batch-size", 32, "--threads", 1, "--nproc", 2, "--quiet",
               "--out", runs / "cvae2", cwd=runs)
    assert done.returncode == 0, done.stderr
    config = (runs / "cvae2" / "config.toml").read_text()
    assert "nproc = 2" in config and "conditional = true" in config
    assert len(history(runs / "cvae2")) == 2
    sampled = cli("sample", runs / "cvae2", "--label", 3, "-n", 4, "--out", runs / "threes.npy", "--quiet", cwd=runs)
    assert sampled.returncode == 0, sampled.stderr
    assert np.load(runs / "threes.npy").shape == (4, 8, 8)


def test_nproc_errors_are_one_readable_line(tmp_path: Path) -> None:
    done = cli("train", "digits", "--model", "pca", "--nproc", 2, "--out", tmp_path / "pca", cwd=tmp_path)
    assert done.returncode != 0
    assert "nproc" in done.stderr and "PCA" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "pca").exists()
    env_run = subprocess.run(
        [sys.executable, "-m", "vaelab", "train", "digits", "--epochs", "1", "--out", str(tmp_path / "t")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=dict(os.environ, WORLD_SIZE="2", PYTHONPATH=str(SRC)),
    )
    assert env_run.returncode != 0 and "--nproc" in env_run.stderr and "Traceback" not in env_run.stderr
    assert not (tmp_path / "t").exists()
