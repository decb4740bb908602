"""The ``vaelab`` command line end to end, on tiny data: every subcommand, its files, its errors.

Runs go through ``vaelab.cli.main(argv)`` in-process (the console script's
entry point), and a few through ``python -m vaelab`` in a subprocess. Models
are tiny (8x8 digits, 16 hidden units, 1-2 epochs, one torch thread).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vaelab.cli import main
from vaelab import load as vaelab_load
from vaelab.runs import RunSpec
from vaelab.runs.pipeline import resume, run as start_run
from vaelab.cli.console import Console
from vaelab.report.images import ImageLayout, grid_size
from vaelab.training import Callback

SRC = Path(__file__).resolve().parents[1] / "src"
TINY = ["--hidden-dims", "16", "--batch-size", "32", "--threads", "1", "--quiet"]
DIGIT = ImageLayout(8, 8, 1)  # 8x8 grey, shown at scale 4


def vaelab(*argv: object) -> int:
    return main([str(a) for a in argv])


def png_size(path: Path) -> tuple[int, int]:
    """(height, width) of a real PNG file."""
    with Image.open(path) as img:
        assert img.format == "PNG"
        img.load()
        return img.height, img.width


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with tiny data (240 8x8 digits with labels, as .npz) and three trained runs."""
    from vaelab.data import load_digits

    root = tmp_path_factory.mktemp("cli")
    x, y = load_digits()
    np.savez(root / "digits.npz", x=x[:240], y=y[:240])
    common = ["--data", root / "digits.npz", "--epochs", 2, *TINY]
    assert vaelab("train", "--model", "vae", "--latent-dim", 2, "--out", root / "vae", *common) == 0
    assert vaelab("train", "--model", "autoencoder", "--latent-dim", 3, "--out", root / "ae", *common) == 0
    assert vaelab("train", "--model", "pca", "--latent-dim", 3, "--out", root / "pca", *common) == 0
    return root


# ---------------------------------------------------------------- help


@pytest.mark.parametrize(
    "command",
    [
        "",
        "demo",
        "train",
        "resume",
        "evaluate",
        "sample",
        "reconstruct",
        "interpolate",
        "traverse",
        "embed",
        "report",
        "compare",
        "attribute",
        "neighbours",
        "explore",
    ],
)
def test_help_everywhere(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert vaelab(*([command] if command else []), "--help") == 0
    out = capsys.readouterr().out
    assert "Usage: vaelab" in out
    assert "Example" in out or command in ("",)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert vaelab("--version") == 0
    assert capsys.readouterr().out.startswith("vaelab ")


# --------------------------------------------------------------- train


def test_train_writes_a_complete_run_directory(work: Path) -> None:
    run = work / "vae"
    spec = RunSpec.read(run / "config.toml")
    assert spec.estimator == "VAE" and spec.params["network"]["hidden_dims"] == (16,)
    assert Path(spec.value("data")).is_absolute()
    assert vaelab_load(run).likelihood_ == "bernoulli"  # likelihood "auto", decided from the data
    assert (run / "model" / "config.json").is_file() and (run / "model" / "model.safetensors").is_file()
    with (run / "history.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and "train_kl" in rows[0]
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"mse", "elbo", "n_examples"} <= set(metrics["test"]) and metrics["test"]["n_examples"] == 24
    assert metrics["training"]["epochs"] == 2
    assert (run / "checkpoints" / "latest").is_file()
    assert "epoch 2/2" in (run / "train.log").read_text()
    assert not (work / "pca" / "checkpoints").exists()  # PCA is fitted in closed form


def test_config_file_with_command_line_override(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = work / "run.toml"
    toml.write_text(f'model = "autoencoder"\ndata = "{work / "digits.npz"}"\nlatent_dim = 5\nepochs = 1\n')
    assert vaelab("train", "--config", toml, "--latent-dim", 2, "--out", work / "from-file", *TINY) == 0
    spec = RunSpec.read(work / "from-file" / "config.toml")
    assert (spec.model, spec.value("latent_dim"), spec.value("epochs")) == ("autoencoder", 2, 1)
    assert "run directory:" in capsys.readouterr().out


def test_progress_lines_when_not_a_terminal(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--data", work / "digits.npz", "--epochs", 2, "--hidden-dims", 8, "--threads", 1, "--model", "autoencoder"]
    assert vaelab("train", *args, "--out", work / "loud") == 0
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "samples/s" in err and "\r" not in err
    assert vaelab("train", *args, "--out", work / "hushed", "--quiet") == 0
    assert "epoch" not in capsys.readouterr().err


def test_interrupted_run_resumes_to_identical_weights(work: Path) -> None:
    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, trainer, row):  # type: ignore[no-untyped-def]
            if row["epoch"] == 1:
                raise KeyboardInterrupt

    options = {
        "data": str(work / "digits.npz"),
        "model": "vae",
        "latent_dim": 2,
        "hidden_dims": [16],
        "epochs": 2,
        "batch_size": 32,
        "threads": 1,
    }
    quiet = Console(quiet=True)
    start_run(RunSpec.from_layers([options]), work / "whole", reporter=quiet)
    with pytest.raises(KeyboardInterrupt):
        start_run(RunSpec.from_layers([options]), work / "cut", reporter=quiet, callbacks=[StopAfterFirstEpoch()])
    cut = work / "cut"
    assert (cut / "config.toml").is_file() and (cut / "checkpoints" / "latest").is_file()
    assert not (cut / "model").exists()
    assert (cut / "history.csv").read_text().count("\n") == 2  # header + epoch 1
    assert vaelab("resume", cut, "--quiet") == 0

    def digest(run: Path) -> str:
        return hashlib.sha256((run / "model" / "model.safetensors").read_bytes()).hexdigest()

    assert digest(cut) == digest(work / "whole")
    assert (cut / "history.csv").read_text().count("\n") == 3
    with pytest.raises(ValueError, match="is complete"):
        resume(cut, reporter=quiet)


# -------------------------------------------------------- after training


def test_evaluate_prints_and_saves(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vaelab("evaluate", work / "ae", "--split", "train") == 0
    out = capsys.readouterr().out
    assert re.search(r"^mse\s+\d", out, re.M) and "reconstruction_log_likelihood" in out
    metrics = json.loads((work / "ae" / "metrics.json").read_text())
    assert {"test", "train", "training"} <= set(metrics) and metrics["train"]["n_examples"] == 216
    assert vaelab("evaluate", work / "vae", "--nll-samples", 4, "--quiet") == 0
    test = json.loads((work / "vae" / "metrics.json").read_text())["test"]
    assert test["nll_samples"] == 4 and test["nll"] >= -test["elbo"] - 1.0  # the IS bound is at least as tight


def test_evaluate_threads_apply_to_the_command_only(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from vaelab.cli.commands import evaluate as evaluate_module

    before, real, seen = torch.get_num_threads(), evaluate_module.run_metrics, []

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluate_module, "run_metrics", spy)
    wanted = 1 if before != 1 else 2
    assert vaelab("evaluate", work / "ae", "--threads", wanted, "--quiet") == 0
    assert seen == [wanted] and torch.get_num_threads() == before
    assert vaelab("evaluate", work / "ae", "--threads", -1) == 2


def test_sample_png_and_npy(work: Path) -> None:
    png, npy = work / "samples.png", work / "samples.npy"
    assert vaelab("sample", work / "vae", "-n", 12, "--seed", 0, "--cols", 4, "--out", png) == 0
    assert png_size(png) == grid_size(DIGIT, rows=3, cols=4)
    assert vaelab("sample", work / "vae", "-n", 5, "--seed", 0, "--out", npy) == 0
    first = np.load(npy)
    assert vaelab("sample", work / "vae", "-n", 5, "--seed", 0, "--out", npy, "--force") == 0
    assert first.shape == (5, 8, 8) and np.array_equal(first, np.load(npy))


def test_reconstruct_interpolate_traverse(work: Path) -> None:
    vae = work / "vae"
    assert vaelab("reconstruct", vae, "-n", 6, "--cols", 3, "--out", work / "rec.png") == 0
    assert png_size(work / "rec.png") == grid_size(DIGIT, rows=4, cols=3)  # original row, reconstruction row, twice
    assert vaelab("reconstruct", vae, "-n", 6, "--out", work / "rec.csv") == 0
    assert len((work / "rec.csv").read_text().splitlines()) == 7

    assert vaelab("interpolate", vae, "--from", 3, "--to", 7, "--steps", 10) == 0
    assert png_size(vae / "figures" / "interpolate-3-7.png") == grid_size(DIGIT, rows=1, cols=12)
    np.save(work / "one.npy", np.load(work / "digits.npz")["x"][0])
    assert vaelab("interpolate", vae, "--from", work / "one.npy", "--to", 5, "--steps", 4, "--out", work / "i.npy") == 0
    assert np.load(work / "i.npy").shape == (4, 8, 8)

    assert vaelab("traverse", vae, "--steps", 5) == 0
    assert png_size(vae / "figures" / "traversals.png") == grid_size(DIGIT, rows=2, cols=5)
    assert vaelab("traverse", work / "pca", "--dims", "0,2", "--steps", 3, "--index", 1, "--out", work / "t.npy") == 0
    assert np.load(work / "t.npy").shape == (2, 3, 8, 8)


def test_embed_csv_with_labels_and_npy(work: Path) -> None:
    assert vaelab("embed", work / "ae", "--out", work / "codes.csv") == 0
    with (work / "codes.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["z0", "z1", "z2", "label"] and len(rows) == 25
    assert vaelab("embed", work / "ae", "--split", "train") == 0
    assert np.load(work / "ae" / "embeddings" / "train.npy").shape == (216, 3)
    np.save(work / "few.npy", np.load(work / "digits.npz")["x"][:7])
    assert vaelab("embed", work / "ae", "--input", work / "few.npy") == 0
    assert np.load(work / "ae" / "embeddings" / "few.npy").shape == (7, 3)
    assert vaelab("reconstruct", work / "ae", "--input", work / "few.npy", "--out", work / "few-rec.npy") == 0
    assert np.load(work / "few-rec.npy").shape == (7, 8, 8)


def test_report_is_self_contained_with_real_pngs(work: Path) -> None:
    assert vaelab("report", work / "vae", "--quiet") == 0
    folder = work / "vae" / "report"
    html = (folder / "report.html").read_text()
    expected = {
        "training_curves.png": (320, 1200),  # 3 panels of 4 x 3.2 inches at 100 dpi
        "reconstructions.png": grid_size(DIGIT, rows=2, cols=16),
        "samples.png": grid_size(DIGIT, rows=8, cols=8),
        "interpolations.png": grid_size(DIGIT, rows=4, cols=12),
        "traversals.png": grid_size(DIGIT, rows=2, cols=10),
        "latent_scatter.png": (500, 600),
        "manifold.png": grid_size(DIGIT, rows=15, cols=15),  # the latent space is 2-D
        "attributes.png": grid_size(DIGIT, rows=4, cols=8),  # 4 class pairs: the example + 7 strengths
    }
    for name, size in expected.items():
        assert png_size(folder / name) == size, name
        assert f'data-file="{name}"' in html
    assert html.count('src="data:image/png;base64,') == len(expected)
    assert "the model&#x27;s own 2-D latent space" in html and "coloured by label" in html
    assert "likelihood = &quot;auto&quot;" in html  # the exact config
    assert re.search(r"<td>elbo</td><td class=\"num\">-?\d", html)
    assert vaelab("report", work / "vae") == 1  # exists: needs --force
    assert vaelab("report", work / "vae", "--force", "--projection", "pca", "--quiet") == 0


def test_report_of_a_linear_model_projects_its_codes(work: Path) -> None:
    assert vaelab("report", work / "pca", "--out", work / "pca-report", "--quiet") == 0
    html = (work / "pca-report" / "report.html").read_text()
    assert "a PCA projection of the 3-D latent codes" in html and "has no prior" in html
    assert not (work / "pca-report" / "manifold.png").exists() and not (work / "pca-report" / "samples.png").exists()


def test_compare_runs(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vaelab("compare", work / "pca", work / "ae", work / "vae", "--out", work / "cmp") == 0
    assert capsys.readouterr().out.strip().endswith("report.html")
    html = (work / "cmp" / "report.html").read_text()
    for name in ("<td>pca</td>", "<td>ae</td>", "<td>vae</td>", "<th>elbo</th>", "<th>fit_seconds</th>"):
        assert name in html
    assert png_size(work / "cmp" / "reconstructions.png") == grid_size(DIGIT, rows=4, cols=12)


def test_vector_data_degrades_gracefully(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    table = np.column_stack([rng.normal(size=(120, 5)), rng.integers(0, 2, 120)])
    np.savetxt(tmp_path / "t.csv", table, delimiter=",", header="a,b,c,d,e,label", comments="", fmt="%.5f")
    run = tmp_path / "run"
    assert (
        vaelab(
            "train",
            "--data",
            tmp_path / "t.csv",
            "--label-column",
            "label",
            "--model",
            "vae",
            "--latent-dim",
            2,
            "--epochs",
            1,
            "--out",
            run,
            *TINY,
        )
        == 0
    )
    assert vaelab_load(run).likelihood_ == "gaussian"
    assert vaelab("report", run, "--quiet") == 0
    html = (run / "report" / "report.html").read_text()
    assert "Skipped: the examples are not images" in html
    assert png_size(run / "report" / "reconstructions.png") == (300, 1600)  # 4 feature panels
    assert not (run / "report" / "interpolations.png").exists()
    assert vaelab("sample", run, "--out", tmp_path / "s.png") == 1
    assert vaelab("sample", run, "-n", 3) == 0 and np.load(run / "figures" / "samples.npy").shape == (3, 5)


def test_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert vaelab("demo", "--out", out, "--epochs", 1, "--quiet") == 0
    text = capsys.readouterr().out
    assert "comparison report:" in text and "autoencoder" in text and "bits/dim (17 levels)" in text
    names = (["pca"], ["vae"], ["autoencoder"])
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.split()[:1] in names}
    assert rows["autoencoder"][3] == "n/a" and float(rows["pca"][3]) > 0 and float(rows["vae"][3]) > 0
    assert "score (nats)" not in text and "elbo" not in text  # one likelihood on one scale, nothing else
    assert (out / "comparison" / "report.html").is_file()
    for name in ("pca", "autoencoder", "vae"):
        assert (out / name / "report" / "report.html").is_file()
    assert vaelab("demo", "--out", out, "--epochs", 1, "--quiet") == 1  # not the default folder: needs --force
    (out / "vaelab-demo.txt").unlink()
    assert vaelab("demo", "--out", out, "--epochs", 1, "--quiet", "--force") == 1  # not a demo folder: never deleted


# -------------------------------------------------------------- errors


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The error message: the last line on stderr, the only one starting with "error:" (no traceback)."""
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: "), err
    assert sum(line.startswith("error:") for line in err) == 1 and not any("Traceback" in line for line in err), err
    return err[-1]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["train", "--data", "missing.npy", "--out", "x"], 1, "missing.npy: no such file"),
        (["train", "--data", "mnist", "--data-dir", "nowhere", "--out", "x"], 1, "MNIST .*files not found"),
        (["train", "--data", "digitz"], 1, "(?i)did you mean 'digits'"),
        (["train", "--out", "x"], 2, "no data given"),
        (
            ["train", "--data", "digits", "--model", "pca", "--latent-dim", "100", "--out", "x"],
            1,
            "latent_dim must be between 1 and 64",
        ),
        (["train", "--data", "digits", "--epochs", "many"], 2, "--epochs"),
        (["train", "--data", "digits", "--latent-dims", "3"], 2, "No such option: --latent-dims"),
        (["train", "--data", "digits", "--hidden-dims", "a,b"], 2, "--hidden-dims must be comma-separated"),
        (["train", "--data", "digits", "--binarize", "always"], 2, "--binarize must be one of 'none', 'dynamic', got 'always'"),
        (["trian"], 2, "Did you mean 'train'"),
        (["evaluate", "no-such-run"], 1, "does not exist"),
        (["sample", "."], 1, "not a vaelab run directory"),
    ],
)
def test_bad_input_gives_one_line(
    argv: list[str],
    code: int,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert vaelab(*argv) == code
    assert re.search(message, error_line(capsys))
    assert not (tmp_path / "x").exists()  # nothing half-written


def test_malformed_config_and_unknown_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.toml").write_text("latent_dim = [\n")
    assert vaelab("train", "--config", tmp_path / "bad.toml", "--data", "digits") == 2
    assert "is not valid TOML" in error_line(capsys)
    (tmp_path / "typo.toml").write_text('data = "digits"\nepoch = 3\n')
    assert vaelab("train", "--config", tmp_path / "typo.toml") == 2
    assert "unknown option 'epoch' (did you mean 'epochs'?)" in error_line(capsys)


def test_existing_output_is_not_overwritten(work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vaelab("train", "--data", "digits", "--out", work / "vae") == 1
    assert "already holds a run; pass --force" in error_line(capsys)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    assert vaelab("train", "--data", "digits", "--out", tmp_path / "notes", "--force") == 1
    assert "is not a vaelab run directory" in error_line(capsys)
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
    (tmp_path / "s.png").write_bytes(b"old")
    assert vaelab("sample", work / "vae", "--out", tmp_path / "s.png") == 1
    assert "already exists; pass --force" in error_line(capsys)


def test_sample_from_a_mixture_of_the_training_codes(work: Path, tmp_path: Path) -> None:
    """An autoencoder samples through a mixture by default; it is fitted once, kept, and refitted for new weights."""
    run = tmp_path / "ae"
    shutil.copytree(work / "ae", run)
    out = tmp_path / "s.npy"
    assert vaelab("sample", run, "-n", 6, "--components", 3, "--seed", 1, "--out", out, "--quiet") == 0
    first = np.load(out)
    assert first.shape == (6, 8, 8) and np.isfinite(first).all()
    kept = run / "samplers" / "mixture-3"
    assert sorted(p.name for p in kept.iterdir()) == ["config.json", "mixture.safetensors", "model-stamp.json"]
    fitted_at = (kept / "mixture.safetensors").stat().st_mtime_ns
    assert vaelab("sample", run, "-n", 6, "--components", 3, "--seed", 1, "--out", out, "--force", "--quiet") == 0
    assert np.array_equal(np.load(out), first)  # the kept mixture, the same draws
    assert (kept / "mixture.safetensors").stat().st_mtime_ns == fitted_at
    weights = next((run / "model").glob("*.safetensors"))
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))  # as if retrained
    assert vaelab("sample", run, "-n", 6, "--components", 3, "--seed", 1, "--out", out, "--force", "--quiet") == 0
    assert (kept / "mixture.safetensors").stat().st_mtime_ns != fitted_at
    # a VAE samples from its prior unless asked; PCA through the mixture
    assert vaelab("sample", work / "vae", "--sampler", "mixture", "-n", 4, "--out", tmp_path / "v.npy", "--quiet") == 0
    assert vaelab("sample", work / "pca", "-n", 4, "--out", tmp_path / "p.npy", "--quiet") == 0
    assert np.load(tmp_path / "p.npy").shape == (4, 8, 8)
    assert vaelab("sample", run, "--sampler", "gan", "--out", tmp_path / "x.npy") == 2
    assert vaelab("sample", run, "--components", 100000, "--out", tmp_path / "x.npy") != 0


def test_a_run_directory_of_another_model(work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vaelab("sample", work / "pca", "--sampler", "prior") == 1
    line = error_line(capsys)
    assert "needs a model with a prior" in line and "--sampler mixture" in line
    mixed = tmp_path / "mixed"
    shutil.copytree(work / "vae", mixed)
    shutil.rmtree(mixed / "model")
    shutil.copytree(work / "ae" / "model", mixed / "model")
    assert vaelab("evaluate", mixed) == 1
    assert "holds a Autoencoder but" in error_line(capsys) or "holds an Autoencoder" in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        vaelab("evaluate", tmp_path / "nowhere", "--debug")


def test_tensorboard_without_the_package(work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        assert vaelab("train", "--data", work / "digits.npz", "--tensorboard", "--out", tmp_path / "tb", *TINY) == 1
        assert "pip install 'vaelab[tensorboard]'" in error_line(capsys)
        assert not (tmp_path / "tb").exists()
    else:
        assert (
            vaelab(
                "train", "--data", work / "digits.npz", "--epochs", 1, "--tensorboard", "--out", tmp_path / "tb", *TINY
            )
            == 0
        )
        assert any((tmp_path / "tb" / "tensorboard").iterdir())


# ---------------------------------------------------------- subprocess


def run_module(*argv: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "vaelab", *map(str, argv)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_python_m_vaelab_end_to_end(work: Path, tmp_path: Path) -> None:
    done = run_module(
        "train",
        work / "digits.npz",
        "--model",
        "autoencoder",
        "--latent-dim",
        2,
        "--epochs",
        1,
        "--out",
        "runs/sub",
        *TINY,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "run directory: runs/sub" in done.stdout
    assert (tmp_path / "runs" / "sub" / "model" / "model.safetensors").is_file()
    usage = run_module("train", "--epochs", "x", cwd=tmp_path)
    assert usage.returncode == 2 and usage.stderr.startswith("error: ") and len(usage.stderr.strip().splitlines()) == 1


# ------------------------------------------------- latent-space commands


def test_attribute_grid_from_labels_and_from_example_sets(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vae = work / "vae"
    args = ["--from", 3, "--to", 8, "--strength", "0..2", "--steps", 9, "--examples", "0,1,2"]
    assert vaelab("attribute", vae, *args) == 0
    out = capsys.readouterr()
    path = Path(out.out.strip())
    assert path == vae / "figures" / "attribute-3-8.png"
    assert png_size(path) == grid_size(DIGIT, rows=3, cols=10)  # each example, then 9 strengths
    assert "vector 3 -> 8" in out.err and "strengths 0, 0.25, 0.5" in out.err
    npy = work / "attr.npy"
    assert vaelab("attribute", work / "pca", "--from-examples", "0,1", "--to-examples", "2", "--steps", 3,
                  "--strength", "1", "--examples", "5", "--out", npy, "--quiet") == 0
    grid = np.load(npy)
    assert grid.shape == (1, 3, 8, 8)
    assert np.allclose(grid[0, 0], grid[0, 2])  # one strength repeated: the same picture


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", 3], "give either --from and --to"),
        (["--from", 3, "--to", 8, "--from-examples", "1"], "give either --from and --to"),
        (["--from", 3, "--to", 8, "--strength", "a..b"], "--strength must be a number or a range"),
        (["--from", 3, "--to", 99], "target label 99 has no examples"),
        (["--from", 3, "--to", 8, "--examples", "100000"], "out of range"),
    ],
)
def test_attribute_bad_options(
    work: Path, args: list[object], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert vaelab("attribute", work / "vae", *args, "--out", work / "never.png") != 0
    assert message in capsys.readouterr().err
    assert not (work / "never.png").exists()


def test_neighbours_of_samples_and_of_examples(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vaelab("neighbours", work / "vae", "--samples", 4, "--k", 3) == 0
    out = capsys.readouterr()
    assert png_size(Path(out.out.strip())) == grid_size(DIGIT, rows=4, cols=4)
    assert "4 prior samples (seed 0), each followed by its 3 nearest" in out.err
    # a training example's nearest training example is itself, at distance 0
    npy = work / "nn.npy"
    assert vaelab("neighbours", work / "pca", "--examples", "0", "--split", "train", "--k", 1, "--out", npy) == 0
    rows = np.load(npy)
    assert rows.shape == (1, 2, 8, 8) and np.allclose(rows[0, 0], rows[0, 1])
    assert "median distance to the nearest: 0.000" in capsys.readouterr().err
    assert vaelab("neighbours", work / "pca", "--out", work / "never.png") == 2  # no prior, no --examples
    assert "give --examples" in capsys.readouterr().err


def test_interpolate_slerp(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert vaelab("interpolate", work / "vae", "--from", 0, "--to", 1, "--steps", 5, "--method", "slerp") == 0
    assert Path(capsys.readouterr().out.strip()).name == "interpolate-0-1-slerp.png"
    assert vaelab("interpolate", work / "vae", "--method", "cubic") == 2
    assert "--method must be one of lerp, slerp" in capsys.readouterr().err


def test_explore_serves_the_run_and_names_the_extra_when_missing(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("fastapi", reason="the explore extra is not installed")
    import urllib.request

    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "vaelab", "explore", str(work / "vae"), "--port", "0", "--no-browser"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("vaelab explore: serving") and "http://127.0.0.1:" in line
        url = line.split(" at ")[1].split()[0]
        with urllib.request.urlopen(url + "api/info", timeout=30) as response:
            info = json.load(response)
        assert info["latent_dim"] == 2 and info["kind"] == "image" and info["n_test"] == 24 and info["n_train"] == 216
        with urllib.request.urlopen(url + "api/map", timeout=30) as response:
            assert "own 2-D latent space" in json.load(response)["about"]
    finally:
        server.terminate()
        server.wait(30)
    from vaelab.cli.commands import explore

    monkeypatch.setattr(explore, "EXTRA_MODULES", ("fastapi", "vaelab_no_such_module"))
    assert vaelab("explore", work / "vae", "--no-browser") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "install the explore extra, pip install 'vaelab[explore]'" in err


def test_explore_off_loopback_warns_and_requires_a_token() -> None:
    pytest.importorskip("uvicorn", reason="the explore extra is not installed")
    from vaelab.explore.server import is_loopback, prepare

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    warnings, tokens = [], []
    server, url = prepare(lambda token: tokens.append(token) or object(), "0.0.0.0", 0, warn=warnings.append)
    server.sock.close()
    assert len(warnings) == 1 and "not on loopback" in warnings[0]
    assert tokens[0] and url.endswith(f"/?token={tokens[0]}")
    server, url = prepare(lambda token: tokens.append(token) or object(), "127.0.0.1", 0, warn=warnings.append)
    server.sock.close()
    assert tokens[-1] is None and "token" not in url and len(warnings) == 1
