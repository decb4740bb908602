"""Deterministic VAE scores: per-example noise keyed by the row's content and a seed."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from vaelab import VAE
from vaelab.metrics.bounds import importance_sampled_log_likelihood
from vaelab.metrics.example_noise import ExampleNoise, splitmix64

MASK = 2**64 - 1


def splitmix64_reference(seed: int, n: int) -> list[int]:
    """Vigna's splitmix64.c, one output at a time, in Python integers."""
    out, x = [], seed
    for _ in range(n):
        x = (x + 0x9E3779B97F4A7C15) & MASK
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        out.append(z ^ (z >> 31))
    return out


def test_splitmix64_matches_the_reference_generator():
    keys = np.array([0, 1234567, MASK], dtype=np.uint64)
    got = splitmix64(keys[:, None], np.arange(6, dtype=np.uint64)[None, :])
    for key, row in zip(keys, got):
        assert [int(v) for v in row] == splitmix64_reference(int(key), 6)
    # the published first outputs of splitmix64 seeded with 1234567
    assert [int(v) for v in got[1, :3]] == [6457827717110365317, 3203168211198807973, 9817491932198370423]


def test_noise_does_not_depend_on_chunking_neighbours_or_order():
    x = torch.rand(7, 5, generator=torch.Generator().manual_seed(0))
    noise = ExampleNoise(3)
    keys = noise.keys(x)
    whole = noise.standard_normal(keys, first=0, count=6, dim=4)
    chunks = torch.cat([noise.standard_normal(keys, first=f, count=c, dim=4) for f, c in [(0, 2), (2, 1), (3, 3)]])
    assert torch.equal(whole, chunks)
    order = [4, 0, 6]
    assert torch.equal(noise.standard_normal(noise.keys(x[order]), first=0, count=6, dim=4), whole[:, order])
    other = ExampleNoise(4)
    assert not torch.equal(other.standard_normal(other.keys(x), first=0, count=6, dim=4), whole)
    assert not torch.equal(noise.standard_normal(noise.keys(x + 1e-3), first=0, count=6, dim=4), whole)


def test_noise_is_standard_normal_and_independent_across_rows():
    x = torch.rand(400, 3, generator=torch.Generator().manual_seed(1))
    noise = ExampleNoise(0)
    eps = noise.standard_normal(noise.keys(x), first=0, count=50, dim=8).double()  # (50, 400, 8)
    flat = eps.flatten().numpy()
    assert stats.kstest(flat, "norm").pvalue > 1e-3
    assert abs(flat.mean()) < 4 / math.sqrt(flat.size) and abs(flat.std() - 1) < 0.01
    rows = eps.permute(1, 0, 2).reshape(400, -1).numpy()  # one row of 400 normals per example
    corr = np.corrcoef(rows)[np.triu_indices(400, 1)]
    assert np.abs(corr).max() < 5 / math.sqrt(rows.shape[1])  # ~ N(0, 1/400) if independent


@pytest.fixture(scope="module")
def vae_and_data():
    rng = np.random.default_rng(0)
    prototypes = rng.random((4, 12)) > 0.5
    X = (prototypes[rng.integers(0, 4, 300)] ^ (rng.random((300, 12)) < 0.1)).astype(np.float32)
    vae = VAE(latent_dim=2, epochs=15, batch_size=32, network={"kind": "mlp", "hidden_dims": [32]}, device="cpu", seed=0)
    return vae.fit(X), X


def test_repeated_calls_give_the_same_scores(vae_and_data):
    vae, X = vae_and_data
    a = vae.score_samples(X)
    assert np.array_equal(a, vae.score_samples(X))
    assert vae.score(X) == vae.score(X)
    assert not np.array_equal(a, vae.score_samples(X, seed=1))


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_a_rows_score_does_not_depend_on_the_other_rows(vae_and_data, dtype, rtol):
    vae, X = vae_and_data
    X = X[:60].astype(dtype)
    full = vae.score_samples(X, n_samples=5)
    order = np.random.default_rng(1).permutation(60)
    np.testing.assert_allclose(vae.score_samples(X[order], n_samples=5), full[order], rtol=rtol)
    np.testing.assert_allclose(vae.score_samples(X[7:9], n_samples=5), full[7:9], rtol=rtol)
    np.testing.assert_allclose([vae.score_samples(X[i : i + 1], n_samples=5)[0] for i in (0, 33)], full[[0, 33]], rtol=rtol)


def test_score_is_the_importance_weighted_bound_with_k_n_samples(vae_and_data):
    vae, X = vae_and_data
    x = torch.from_numpy(X[:20])
    with torch.no_grad():
        bound = importance_sampled_log_likelihood(vae.module_.eval(), x, 8, generator=ExampleNoise(5))
        # L_1 by hand: log p(x|z) + log p(z) - log q(z|x) at z = mean + std * eps
        q = vae.module_.encode(x)
        z = ExampleNoise(5).rsample(q, ExampleNoise(5).keys(x), first=0, count=1)[0]
        by_hand = vae.module_.likelihood.log_prob(x, vae.module_.decode(z)) + vae.module_.prior.log_prob(z) - q.log_prob(z)
    np.testing.assert_allclose(vae.score_samples(X[:20], n_samples=8, seed=5), bound.numpy(), rtol=1e-6)
    np.testing.assert_allclose(vae.score_samples(X[:20], n_samples=1, seed=5), by_hand.numpy(), rtol=1e-5)


def test_more_samples_give_a_tighter_steadier_score(vae_and_data):
    vae, X = vae_and_data
    x = X[:40]
    by_k = {k: np.stack([vae.score_samples(x, n_samples=k, seed=s) for s in range(12)]) for k in (1, 32)}
    spread = {k: v.std(axis=0).mean() for k, v in by_k.items()}  # seed-to-seed spread per row
    assert spread[32] < 0.5 * spread[1]
    assert by_k[32].mean() > by_k[1].mean()  # E[L_k] rises with k (Burda et al. 2016, Theorem 1)


def test_n_samples_must_be_a_positive_integer(vae_and_data):
    vae, X = vae_and_data
    with pytest.raises(ValueError, match="n_samples must be >= 1, got 0"):
        vae.score_samples(X, n_samples=0)
