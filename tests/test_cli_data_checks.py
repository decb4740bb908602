"""``--no-verify``: a built-in data set whose contents differ from the published ones, from the command line."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from vaelab.cli import main

TINY = ["--hidden-dims", "8", "--batch-size", "16", "--threads", "1", "--epochs", "1", "--latent-dim", "2", "--quiet"]


def write_idx(folder: Path, n_train: int = 48, n_test: int = 16) -> None:
    """Tiny IDX files with Fashion-MNIST's names (their md5s are not the published ones)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        header = bytes([0, 0, 8, 3]) + np.array([n, 28, 28], ">u4").tobytes()
        pixels = rng.integers(0, 256, size=n * 784, dtype=np.uint8).tobytes()
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + pixels))
        labels = bytes([0, 0, 8, 1]) + np.array([n], ">u4").tobytes() + bytes(i % 10 for i in range(n))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))


def test_no_verify_is_named_and_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_idx(tmp_path / "data" / "fashion-mnist")
    args = ["train", "fashion-mnist", "--data-dir", str(tmp_path / "data"), "--model", "pca", *TINY]
    assert main([*args, "--out", str(tmp_path / "refused")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "checksum mismatch" in err and "--no-verify" in err and "\n" not in err
    assert not (tmp_path / "refused").exists()

    run = tmp_path / "run"
    assert main([*args, "--no-verify", "--out", str(run)]) == 0
    assert "verify = false" in (run / "config.toml").read_text()
    assert main(["evaluate", str(run), "--quiet"]) == 0  # the run's config skips the check


def test_commands_reading_a_run_take_no_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    write_idx(data / "fashion-mnist")
    run = tmp_path / "run"
    assert main(["train", "fashion-mnist", "--data-dir", str(data), "--model", "pca", "--no-verify", *TINY,
                 "--out", str(run)]) == 0
    config = run / "config.toml"
    config.write_text(config.read_text().replace("verify = false", "verify = true"))
    assert main(["evaluate", str(run)]) == 1
    assert "--no-verify" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--no-verify", "--quiet"]) == 0
    assert main(["embed", str(run), "--no-verify", "--quiet", "--out", str(tmp_path / "codes.npy")]) == 0
    assert np.load(tmp_path / "codes.npy").shape == (16, 2)


def test_class_names_of_fashion_mnist_in_embed_and_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv

    from vaelab.report import figures

    write_idx(tmp_path / "data" / "fashion-mnist")
    run = tmp_path / "run"
    assert main(["train", "fashion-mnist", "--data-dir", str(tmp_path / "data"), "--model", "pca", "--no-verify",
                 *TINY, "--out", str(run)]) == 0
    assert main(["embed", str(run), "--quiet", "--out", str(tmp_path / "codes.csv")]) == 0
    with open(tmp_path / "codes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["z0", "z1", "label", "class"]
    names = {int(r["label"]): r["class"] for r in rows}
    assert names[0] == "T-shirt/top" and names[9] == "Ankle boot" and names[5] == "Sandal"

    seen: dict[str, object] = {}
    scatter = figures.latent_scatter

    def spy(*args: object, **kwargs: object) -> bytes:
        seen.update(kwargs)
        return scatter(*args, **kwargs)

    monkeypatch.setattr(figures, "latent_scatter", spy)
    assert main(["report", str(run), "--quiet"]) == 0
    assert seen["class_names"][1] == "Trouser"  # type: ignore[index]


def test_legend_names() -> None:
    from vaelab.report.figures import class_name

    names = ("T-shirt/top", "Trouser")
    assert [class_name(v, names) for v in (0, np.int64(1), 2, 1.5, "x")] == ["T-shirt/top", "Trouser", "2", "1.5", "x"]
    assert class_name(1, None) == "1"
