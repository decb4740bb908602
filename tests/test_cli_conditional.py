"""``vaelab train --conditional``, ``vaelab sample --label``, evaluate and report of a conditional run, on tiny digits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vaelab.cli import main

TINY = ["--hidden-dims", "16", "--batch-size", "32", "--threads", "1", "--quiet", "--latent-dim", "2"]


def vaelab(*argv: object) -> int:
    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vaelab.data import load_digits

    root = tmp_path_factory.mktemp("cvae")
    x, y = load_digits()
    np.savez(root / "digits.npz", x=x[:300], y=y[:300])
    np.save(root / "unlabelled.npy", x[:100])
    assert vaelab("train", root / "digits.npz", "--conditional", "--epochs", 2, "--out", root / "cvae", *TINY) == 0
    return root


def test_conditional_run_is_saved_and_evaluated_with_labels(work: Path) -> None:
    config = json.loads((work / "cvae" / "model" / "config.json").read_text())
    assert config["params"]["conditional"] is True
    assert config["fitted"]["condition"] == {"kind": "classes", "dim": 10, "classes": list(range(10))}
    assert "conditional = true" in (work / "cvae" / "config.toml").read_text()
    test = json.loads((work / "cvae" / "metrics.json").read_text())["test"]
    assert np.isfinite(test["elbo"]) and 0 <= test["mse"]
    assert vaelab("evaluate", work / "cvae", "--quiet") == 0


def test_conditional_runs_get_the_importance_sampled_nll_and_the_binarized_test_set(work: Path, tmp_path: Path) -> None:
    run = tmp_path / "cvae"
    shutil.copytree(work / "cvae", run)
    assert vaelab("evaluate", run, "--nll-samples", 8, "--quiet") == 0
    metrics = json.loads((run / "metrics.json").read_text())["test"]
    assert metrics["nll_samples"] == 8 and np.isfinite(metrics["nll"]) and metrics["nll_stderr"] > 0
    assert metrics["nll"] <= -metrics["elbo"] + 2.0  # the k-sample bound is at least about as tight as the ELBO
    run = tmp_path / "bin"
    assert vaelab("train", work / "digits.npz", "--conditional", "--binarize", "dynamic", "--likelihood", "bernoulli",
                  "--epochs", 1, "--out", run, *TINY) == 0
    test = json.loads((run / "metrics.json").read_text())["test"]
    assert test["binarize_seed"] == 123 and "bce" in test  # scored on the test images binarized once
    assert any("binarized once" in note for note in test["notes"])


def test_sample_with_a_label_and_a_row_per_class(work: Path) -> None:
    assert vaelab("sample", work / "cvae", "--label", 7, "-n", 5, "--out", work / "sevens.npy", "--quiet") == 0
    assert np.load(work / "sevens.npy").shape == (5, 8, 8)
    assert vaelab("sample", work / "cvae", "-n", 30, "--out", work / "grid.png", "--quiet") == 0
    with Image.open(work / "grid.png") as img:
        assert img.height > img.width  # 10 rows (classes) of 3 samples


def test_reconstruct_and_embed_use_the_labels(work: Path) -> None:
    assert vaelab("reconstruct", work / "cvae", "-n", 4, "--out", work / "recon.npy", "--quiet") == 0
    assert np.load(work / "recon.npy").shape == (4, 8, 8)
    assert vaelab("embed", work / "cvae", "--out", work / "codes.csv", "--quiet") == 0
    header = (work / "codes.csv").read_text().splitlines()[0]
    assert header.split(",") == ["z0", "z1", "label"]


def test_interpolate_and_traverse_a_conditional_model(work: Path, tmp_path: Path, capsys) -> None:
    assert vaelab("interpolate", work / "cvae", "--from", 0, "--to", 1, "--steps", 5, "--out", tmp_path / "i.npy",
                  "--quiet") == 0
    path = np.load(tmp_path / "i.npy")
    assert path.shape == (5, 8, 8) and np.isfinite(path).all()
    # under another class the same codes decode to other images
    assert vaelab("interpolate", work / "cvae", "--from", 0, "--to", 1, "--steps", 5, "--label", 3,
                  "--out", tmp_path / "i3.npy", "--quiet") == 0
    assert not np.allclose(np.load(tmp_path / "i3.npy"), path)
    np.save(tmp_path / "one.npy", np.load(work / "digits.npz")["x"][5] / 16.0)
    assert vaelab("interpolate", work / "cvae", "--from", tmp_path / "one.npy", "--to", 1, "--out", tmp_path / "f.npy") == 2
    assert "give --label" in capsys.readouterr().err
    assert vaelab("interpolate", work / "cvae", "--from", tmp_path / "one.npy", "--to", 1, "--label", 5,
                  "--out", tmp_path / "f.npy", "--quiet") == 0
    assert vaelab("traverse", work / "cvae", "--label", 7, "--steps", 3, "--out", tmp_path / "t.npy", "--quiet") == 0
    assert np.load(tmp_path / "t.npy").shape == (2, 3, 8, 8)  # a row per latent dimension (2)
    assert vaelab("traverse", work / "cvae", "--index", 4, "--steps", 3, "--out", tmp_path / "t4.npy", "--quiet") == 0
    assert vaelab("traverse", work / "cvae", "--out", tmp_path / "t0.npy") == 2  # neither --label nor --index
    assert vaelab("traverse", work / "cvae", "--label", 12, "--out", tmp_path / "t0.npy") == 2


def test_compare_a_conditional_and_an_unconditional_run(work: Path, tmp_path: Path) -> None:
    plain = tmp_path / "vae"
    assert vaelab("train", work / "digits.npz", "--epochs", 1, "--out", plain, *TINY) == 0
    assert vaelab("compare", work / "cvae", plain, "--out", tmp_path / "cmp", "--quiet") == 0
    html = (tmp_path / "cmp" / "report.html").read_text()
    assert "given the classes in turn" in html and (tmp_path / "cmp" / "samples_1.png").is_file()


def test_report_shows_samples_per_class(work: Path) -> None:
    assert vaelab("report", work / "cvae", "--quiet") == 0
    html = (work / "cvae" / "report" / "report.html").read_text()
    assert "Samples per class" in html and (work / "cvae" / "report" / "samples_per_class.png").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sample", "{cvae}", "--label", "12"], "--label 12 is not a class of this model; its 10 classes are [0, 1,"),
        (["train", "{unlabelled}", "--conditional"], "conditional needs labels, but the data"),
        (["train", "{digits}", "--conditional", "--model", "autoencoder"], "conditional is an option of model 'vae'; model 'autoencoder' does not take it"),
    ],
)
def test_bad_conditional_input_is_one_clear_line(work: Path, argv, message, capsys) -> None:
    args = [a.format(cvae=work / "cvae", unlabelled=work / "unlabelled.npy", digits=work / "digits.npz") for a in argv]
    assert vaelab(*args, "--out", work / "never", "--quiet") != 0 if args[0] == "train" else vaelab(*args) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0], err
    assert not (work / "never").exists()


def test_conditional_on_a_table_with_a_label_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    kind = np.where(rng.random(120) < 0.5, 3, 5)  # a numeric table (load_csv reads numbers only)
    values = rng.random((120, 4)) + (kind == 5)[:, None] * 2.0
    lines = ["a,b,c,d,kind"] + [",".join(f"{v:.4f}" for v in row) + f",{k}" for row, k in zip(values, kind)]
    (tmp_path / "table.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    assert vaelab("train", "--data", tmp_path / "table.csv", "--label-column", "kind", "--conditional",
                  "--epochs", 1, "--out", out, *TINY) == 0
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["fitted"]["condition"]["classes"] == [3, 5]
    assert vaelab("sample", out, "--label", "5", "-n", 3, "--out", tmp_path / "s.npy", "--quiet") == 0
    assert np.load(tmp_path / "s.npy").shape == (3, 4)
