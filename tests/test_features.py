"""Feature classifiers: `vaelab features train`, --features on train/evaluate/report, figures only in their domain.

The data are 300 MNIST digits saved as an ordinary labelled .npz file: for
vaelab they are "other 28x28 images", so no digit figures are reported for
them unless a classifier is passed. Training is one epoch on a few hundred images.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch

from vaelab.cli import main
from vaelab.metrics.features import load_feature_classifier

TINY = ["--hidden-dims", "16", "--batch-size", "32", "--threads", "1", "--epochs", "1", "--latent-dim", "2", "--quiet"]
QUALITY = ("frechet", "precision", "recall")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    from vaelab.data import load_mnist

    root = tmp_path_factory.mktemp("features")
    x, y = load_mnist(data_dir / "mnist", "test")
    np.savez(root / "shapes.npz", x=x[:300], y=y[:300])
    code = main(["features", "train", str(root / "shapes.npz"), "--out", str(root / "feat"), "--epochs", "2",
                 "--batch-size", "16", "--limit", "300", "--threads", "1", "--quiet"])
    assert code == 0
    return root


def independent_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)), with scipy's matrix square root."""
    mu = a.mean(0) - b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(sa @ sb).real
    return float(mu @ mu + np.trace(sa + sb - 2 * root))


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # 30 test images, 128 features: singular covariances
def test_features_train_writes_the_classifier_with_its_floor(work: Path) -> None:
    info = json.loads((work / "feat" / "config.json").read_text())
    assert info["format"] == "vaelab.feature_classifier" and info["name"] == "shapes-cnn"
    assert info["n_train"] + info["n_test"] == 300 and "vaelab features train" in info["training"]["command"]
    assert info["test_accuracy"] > 0.2  # ten classes: chance is 0.1
    classifier = load_feature_classifier(work / "feat")
    from vaelab.runs.data import split_test  # the seeded 10 % test split the command made
    from vaelab.data import load_dataset

    ds = split_test(load_dataset(str(work / "shapes.npz")), 0.1, 0)
    f_train = classifier.features(torch.from_numpy(ds.x_train).float() / 255).double().numpy()
    f_test = classifier.features(torch.from_numpy(ds.x_test).float() / 255).double().numpy()
    expected = independent_frechet(f_train, f_test)
    assert info["floor"]["frechet_distance"] == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_figures_are_named_after_the_classifier(work: Path) -> None:
    run = work / "with"
    args = ["train", str(work / "shapes.npz"), "--model", "vae", *TINY]
    assert main([*args, "--features", str(work / "feat"), "--out", str(run)]) == 0
    test = json.loads((run / "metrics.json").read_text())["test"]
    assert test["frechet_distance[shapes-cnn]"] > 0 and "frechet_distance_floor[shapes-cnn]" in test
    assert 0 <= test["precision[shapes-cnn]"] <= 1 and 0 <= test["recall[shapes-cnn]"] <= 1
    assert "frechet_digit_distance" not in test and "precision" not in test

    assert main([*args, "--out", str(work / "without")]) == 0
    plain = json.loads((work / "without" / "metrics.json").read_text())["test"]
    assert not [k for k in plain if k.startswith(QUALITY)]
    assert any("vaelab features train" in note for note in plain["notes"])

    assert main(["evaluate", str(work / "without"), "--features", str(work / "feat"), "--quiet"]) == 0
    again = json.loads((work / "without" / "metrics.json").read_text())["test"]
    assert "frechet_distance[shapes-cnn]" in again


def bad(tmp: Path, kind: str, feat: Path) -> Path:
    target = tmp / kind
    target.mkdir()
    if kind == "foreign":
        (target / "config.json").write_text('{"architectures": ["BertModel"]}')
    elif kind in ("corrupt", "shape"):
        for f in feat.iterdir():
            (target / f.name).write_bytes(f.read_bytes())
        if kind == "corrupt":
            data = (target / "model.safetensors").read_bytes()
            (target / "model.safetensors").write_bytes(data[: len(data) // 3])
        else:
            info = json.loads((target / "config.json").read_text())
            info["config"]["feature_dim"] = 64  # the weights no longer fit
            (target / "config.json").write_text(json.dumps(info))
    return target


@pytest.mark.parametrize("kind", ["missing", "foreign", "corrupt", "shape"])
def test_a_bad_features_folder_is_one_line_naming_the_option(
    work: Path, tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad(tmp_path, kind, work / "feat") if kind != "missing" else tmp_path / "nowhere"
    out = tmp_path / "run"
    args = ["train", str(work / "shapes.npz"), "--model", "vae", *TINY, "--features", str(path)]
    code = main([*args, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: --features ") and "\n" not in err
    assert not out.exists()  # nothing half-made
    assert main(["evaluate", str(work / "with"), "--features", str(path)]) == 2
    assert "--features" in capsys.readouterr().err


def test_features_for_images_of_another_shape_are_refused(work: Path, tmp_path: Path, capsys) -> None:
    from vaelab.data import load_digits

    x, y = load_digits()
    np.savez(tmp_path / "small.npz", x=x[:100], y=y[:100])
    code = main(["train", str(tmp_path / "small.npz"), "--model", "vae", *TINY, "--features", str(work / "feat"),
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "--features" in err and "28x28" in err and not (tmp_path / "run").exists()


def test_the_digit_classifier_is_chosen_for_digit_data_only() -> None:
    from vaelab.runs import RunSpec
    from vaelab.runs.evaluation import feature_choice

    names = ("mnist", "binarized-mnist", "fashion-mnist", "digits")
    choice = {name: feature_choice(RunSpec.from_layers([{"data": name}])) for name in names}
    assert choice == {"mnist": "digits", "binarized-mnist": "digits", "fashion-mnist": None, "digits": None}
