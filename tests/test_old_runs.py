"""Run directories written by vaelab at a5909f1 (before `vaelab.runs`) still load, sample, evaluate and resume.

The runs are in tests/data/runs-a5909f1 (see its README): made by that version's command line, with the
outputs that version gave, so these tests compare today's results with those of then.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file

from vaelab import load
from vaelab.cli import main
from vaelab.runs import RunSpec

OLD = Path(__file__).parent / "data" / "runs-a5909f1"


@pytest.fixture()
def old(tmp_path: Path) -> Path:
    runs = tmp_path / "old"
    shutil.copytree(OLD, runs)
    table = runs / "tabular-complete" / "config.toml"  # the table's path of then: point it at the copy here
    table.write_text(table.read_text().replace("/tmp/oldruns/table.csv", str(runs / "table.csv")))
    return runs


def test_an_old_config_toml_reads_as_todays_spec(old: Path) -> None:
    spec = RunSpec.read(old / "vae-complete" / "config.toml")
    assert spec.estimator == "VAE" and spec.value("data") == "digits" and spec.value("threads") == 1
    assert spec.params["network"] == {"kind": "mlp", "hidden_dims": (16,), "activation": "relu"}
    assert spec.value("gradient") == "standard" and spec.value("patience") is None  # dreg = false, patience = 0
    table = RunSpec.read(old / "tabular-complete" / "config.toml")
    assert table.estimator == "TabularVAE" and table.value("holdout") == 0.2
    assert table.params["network"]["hidden_dims"] == (8,) and table.value("dp_epsilon") is None  # 0.0: no DP


def test_an_old_model_loads_and_samples_as_then(old: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.npy"
    assert main(["sample", str(old / "vae-complete"), "-n", "5", "--seed", "0", "--out", str(out), "--quiet"]) == 0
    np.testing.assert_array_equal(np.load(out), np.load(old / "vae-complete-expected.npy"))
    assert main(["evaluate", str(old / "vae-complete"), "--quiet"]) == 0


def test_an_old_interrupted_run_resumes_to_the_weights_of_an_uninterrupted_one(old: Path) -> None:
    assert main(["resume", str(old / "vae-interrupted"), "--quiet"]) == 0
    now = load_file(old / "vae-interrupted" / "model" / "model.safetensors")
    then = load_file(old / "vae-interrupted-expected.safetensors")
    assert now.keys() == then.keys() and all(bool((now[k] == then[k]).all()) for k in now)


def test_an_old_table_model_samples_the_same_rows(old: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    run = str(old / "tabular-complete")
    assert main(["tabular", "sample", run, "-n", "20", "--seed", "0", "--out", str(out), "--quiet"]) == 0
    assert out.read_bytes() == (old / "tabular-complete-expected.csv").read_bytes()
    assert type(load(run)).__name__ == "TabularVAE"
