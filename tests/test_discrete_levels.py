"""Bits per dimension on data of any number of grey levels (the demo's 17-level digits), for models with a density."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA as SkPCA

from vaelab import PCA, VAE, Autoencoder
from vaelab.data import load_digits
from vaelab.metrics.discrete import bits_per_dim, dequantize, grid_levels, model_bits_per_dim


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    x, _ = load_digits()
    return x[:400].reshape(400, 64)


def test_grid_levels_finds_the_grey_levels(digits: np.ndarray) -> None:
    assert grid_levels(torch.from_numpy(digits)) == 17  # k / 16
    assert grid_levels(torch.arange(256.0) / 255) == 256
    assert grid_levels(torch.tensor([0.0, 1.0])) == 2
    assert grid_levels(torch.tensor([0.001, 0.5])) is None and grid_levels(torch.tensor([-1.0, 1.0])) is None


def test_dequantize_on_17_levels_stays_in_each_values_cell(digits: np.ndarray) -> None:
    x = torch.from_numpy(digits)
    y = torch.round(x * 16)
    deq = dequantize(x, levels=17, generator=torch.Generator().manual_seed(0))
    assert ((deq >= y / 17) & (deq < (y + 1) / 17)).all()
    assert bits_per_dim(torch.zeros(3), 64, levels=17) == pytest.approx(math.log2(17))  # uniform density on [0, 1)


def test_pca_bits_per_dim_matches_scikit_learns_density(digits: np.ndarray) -> None:
    x = torch.from_numpy(digits)
    pca = PCA(latent_dim=8).fit(digits)
    bits, note = model_bits_per_dim(pca, x, levels=17, seed=3)
    deq = dequantize(x, levels=17, generator=torch.Generator().manual_seed(3)).double().numpy()
    ll = SkPCA(n_components=8).fit(digits.astype(np.float64)).score_samples(deq)  # Tipping & Bishop's density
    expected = -(ll.mean() - 64 * math.log(17)) / (64 * math.log(2))
    assert bits == pytest.approx(expected, rel=1e-4)
    assert "17 grey levels" in note and "upper bound" in note


def test_only_models_with_a_density_get_a_figure(digits: np.ndarray) -> None:
    x = torch.from_numpy(digits)
    small = {"network": {"kind": "mlp", "hidden_dims": [16]}, "latent_dim": 2, "epochs": 1, "device": "cpu"}
    assert model_bits_per_dim(Autoencoder(**small).fit(digits), x, levels=17) is None
    assert model_bits_per_dim(VAE(likelihood="bernoulli", **small).fit(digits), x, levels=17) is None
    vae = VAE(likelihood="continuous_bernoulli", **small).fit(digits)
    bits, note = model_bits_per_dim(vae, x, levels=17, nll_samples=5)
    assert math.isfinite(bits) and "k = 5" in note
