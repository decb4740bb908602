"""The ``shapes`` data set (deterministic, every factor visible) and the Mutual Information Gap."""

from __future__ import annotations

import numpy as np
import pytest

from vaelab import PCA
from vaelab.data import load_dataset, make_shapes
from vaelab.data.shapes import FACTOR_GRIDS, FACTOR_NAMES, render
from vaelab.errors import InputError
from vaelab.metrics import mig, mutual_information_gap
from vaelab.metrics.mig import entropy, mutual_information


def test_shapes_are_deterministic_for_a_seed() -> None:
    a, fa = make_shapes(50, seed=7)
    b, fb = make_shapes(50, seed=7)
    c, _ = make_shapes(50, seed=8)
    assert np.array_equal(a, b) and np.array_equal(fa, fb)
    assert not np.array_equal(a, c)
    assert a.dtype == np.float32 and set(np.unique(a)) == {0.0, 1.0}
    big, _ = make_shapes(3, size=64, seed=7)
    assert big.shape == (3, 64, 64)


def test_each_factor_changes_the_image() -> None:
    base = np.array([[2.0, 0.8, FACTOR_GRIDS["rotation"][3], 0.5, 0.5]])  # a heart: no rotational symmetry
    image = render(base)[0]
    assert 20 < image.sum() < 28 * 28 / 2  # a shape, inside the image
    for k, name in enumerate(FACTOR_NAMES):
        changed = base.copy()
        changed[0, k] = {"shape": 0.0, "scale": 0.5, "rotation": FACTOR_GRIDS["rotation"][13], "x": 0.9, "y": 0.1}[name]
        assert not np.array_equal(render(changed)[0], image), name
    # x moves the shape right, y moves it down
    cols = np.nonzero(render(np.array([[0, 0.6, 0, 0.9, 0.5]]))[0].sum(0))[0]
    rows = np.nonzero(render(np.array([[0, 0.6, 0, 0.5, 0.9]]))[0].sum(1))[0]
    assert cols.mean() > 18 and rows.mean() > 18


def test_shapes_is_a_registered_data_set_with_factors() -> None:
    ds = load_dataset("shapes")
    assert ds.x_train.shape == (20000, 28, 28) and ds.x_test.shape == (5000, 28, 28) and ds.binary
    assert ds.factors_test.shape == (5000, 5) and ds.factor_names == FACTOR_NAMES
    assert np.array_equal(ds.y_test, ds.factors_test[:, 0].astype(int))
    with pytest.raises(InputError, match=r"size must be one of \(28, 64\)"):
        make_shapes(2, size=30)


def test_plug_in_information_against_closed_forms() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 4000)
    p = np.bincount(a) / len(a)
    assert entropy(a) == pytest.approx(-(p * np.log(p)).sum() + 3 / 8000)  # plug-in + (B - 1) / 2n
    assert entropy(a) == pytest.approx(np.log(4), abs=0.01)
    assert mutual_information(a, a) == pytest.approx(entropy(a))
    assert mutual_information(a, a // 2) == pytest.approx(entropy(a // 2))  # b a function of a: I = H(b)
    # independent: the plug-in estimate is about 9 / 8000 nats too high; the corrected one is near 0
    independent = [mutual_information(a, rng.integers(0, 4, 4000)) for _ in range(20)]
    assert np.mean(independent) < 5e-4


def test_mig_of_a_perfect_encoder_is_one_and_of_a_random_one_near_zero() -> None:
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, 3, 5000), rng.choice(FACTOR_GRIDS["x"], 5000), rng.random(5000)], 1)
    perfect = mutual_information_gap(factors, factors)
    assert perfect["mig"] == pytest.approx(1.0, abs=0.005)  # 1 up to the sampling noise of the runner-up's MI
    assert perfect["mig_per_factor"] == pytest.approx([1.0, 1.0, 1.0], abs=0.01)
    shuffled = factors[:, [2, 0, 1]] * np.array([3.0, -1.0, 0.5]) + 7  # permuted, rescaled, shifted: still 1
    assert mutual_information_gap(shuffled, factors)["mig"] == pytest.approx(perfect["mig"])
    random = mutual_information_gap(rng.normal(size=(5000, 6)), factors)
    assert 0 <= random["mig"] < 0.01
    # entangled: two dimensions carry the same factor equally -> gap 0 for it
    doubled = np.concatenate([factors[:, :1], factors[:, :1], rng.normal(size=(5000, 2))], 1)
    assert mutual_information_gap(doubled, factors[:, :1])["mig"] == pytest.approx(0.0, abs=1e-9)


def test_mig_of_an_estimator_and_bad_factor_shapes() -> None:
    x, f = make_shapes(600, seed=0)
    pca = PCA(latent_dim=4).fit(x)
    value = mig(pca, x, f)
    assert 0.0 <= value <= 1.0
    with pytest.raises(InputError, match=r"factors must have shape \(n, n_factors\) with n = 600"):
        mig(pca, x, f[:-1])
    with pytest.raises(InputError, match="factors must have shape"):
        mig(pca, x, f[:, :, None])
    with pytest.raises(InputError, match="every factor is constant"):
        mutual_information_gap(np.random.default_rng(0).normal(size=(10, 2)), np.ones((10, 2)))


def test_train_and_evaluate_on_shapes_report_the_mig(tmp_path) -> None:
    import json

    from vaelab.cli import main

    run = tmp_path / "shapes-pca"
    assert main(["train", "shapes", "--model", "pca", "--latent-dim", "5", "--out", str(run), "--quiet"]) == 0
    test = json.loads((run / "metrics.json").read_text())["test"]
    assert 0.0 <= test["mig"] <= 1.0 and len(test["mig_per_factor"]) == 5
    assert main(["evaluate", str(run), "--split", "train", "--quiet"]) == 0
    assert "mig" in json.loads((run / "metrics.json").read_text())["train"]
