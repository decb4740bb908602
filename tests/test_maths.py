"""Property tests of the maths: each against an independent computation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA as SkPCA
from torch.distributions import Bernoulli, ContinuousBernoulli, Independent, Normal, kl_divergence

from vaelab import PCA, VAE
from vaelab.distributions import DiagonalGaussian
from vaelab.errors import InputError
from vaelab.likelihoods import build_likelihood
from vaelab.priors import StandardNormal


@pytest.fixture
def gaussian() -> DiagonalGaussian:
    g = torch.Generator().manual_seed(0)
    return DiagonalGaussian(torch.randn(7, 4, generator=g), torch.randn(7, 4, generator=g))


def test_kl_matches_torch_distributions(gaussian):
    q = Independent(Normal(gaussian.mean, gaussian.stddev), 1)
    p = Independent(Normal(torch.zeros(7, 4), torch.ones(7, 4)), 1)
    ours = StandardNormal(4).kl(gaussian, gaussian.mean)
    torch.testing.assert_close(ours, kl_divergence(q, p))


def test_monte_carlo_kl_of_the_base_prior_converges_to_the_closed_form(gaussian):
    prior = StandardNormal(4)
    z = gaussian.rsample((20000,), generator=torch.Generator().manual_seed(1))
    mc = (gaussian.log_prob(z) - prior.log_prob(z)).mean(0)  # the generic Prior.kl estimate, averaged
    torch.testing.assert_close(mc, prior.kl(gaussian, z[0]), rtol=0.05, atol=0.05)


def test_posterior_log_prob_matches_torch(gaussian):
    z = gaussian.rsample(generator=torch.Generator().manual_seed(2))
    expected = Independent(Normal(gaussian.mean, gaussian.stddev), 1).log_prob(z)
    torch.testing.assert_close(gaussian.log_prob(z), expected)


def test_rsample_is_reproducible_with_a_generator_and_differentiable(gaussian):
    a = gaussian.rsample((3,), generator=torch.Generator().manual_seed(5))
    b = gaussian.rsample((3,), generator=torch.Generator().manual_seed(5))
    assert a.shape == (3, 7, 4) and torch.equal(a, b)
    mean = gaussian.mean.clone().requires_grad_(True)
    DiagonalGaussian(mean, gaussian.log_var).rsample().sum().backward()
    torch.testing.assert_close(mean.grad, torch.ones_like(mean))  # dz/dmean = 1: the reparameterization trick


@pytest.mark.parametrize(
    "name,reference",
    [
        ("bernoulli", lambda p, x: Independent(Bernoulli(logits=p), 2).log_prob(x)),
        ("continuous_bernoulli", lambda p, x: Independent(ContinuousBernoulli(logits=p), 2).log_prob(x)),
        ("gaussian", lambda p, x: Independent(Normal(p, torch.ones_like(p)), 2).log_prob(x)),
    ],
)
def test_likelihoods_match_torch_distributions(name, reference):
    g = torch.Generator().manual_seed(3)
    params = torch.randn(5, 3, 4, generator=g) * 3
    x = torch.bernoulli(torch.full((5, 3, 4), 0.5), generator=g) if name == "bernoulli" else torch.rand(5, 3, 4, generator=g)
    torch.testing.assert_close(build_likelihood(name).log_prob(x, params), reference(params, x))


def test_bernoulli_log_prob_is_stable_for_extreme_logits():
    lik = build_likelihood("bernoulli")
    params = torch.tensor([[200.0, -200.0]])
    assert torch.isfinite(lik.log_prob(torch.tensor([[0.0, 1.0]]), params)).all()  # sigmoid-then-log would give -inf


def test_continuous_bernoulli_mean_is_not_the_sigmoid():
    lik = build_likelihood("continuous_bernoulli")
    logits = torch.tensor([[2.0]])
    expected = ContinuousBernoulli(logits=logits).mean
    torch.testing.assert_close(lik.mean(logits), expected)
    assert not torch.allclose(lik.mean(logits), torch.sigmoid(logits))


def test_gaussian_with_learned_scale_matches_torch():
    lik = build_likelihood({"name": "gaussian", "scale": 0.3, "learn_scale": True})
    assert any(p.requires_grad for p in lik.parameters())
    x, mu = torch.rand(4, 6), torch.rand(4, 6)
    torch.testing.assert_close(lik.log_prob(x, mu), Independent(Normal(mu, torch.full_like(mu, 0.3)), 1).log_prob(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns when a tensor that requires grad becomes a float
        assert lik.config() == {"name": "gaussian", "scale": pytest.approx(0.3), "learn_scale": True}


def test_unknown_likelihood_name_suggests_the_nearest():
    with pytest.raises(InputError, match=r"unknown likelihood 'bernouli'.*did you mean 'bernoulli'"):
        build_likelihood("bernouli")


def test_bernoulli_rejects_values_outside_the_unit_interval():
    X = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    with pytest.raises(InputError, match=r"needs values in \[0, 1\].*likelihood='gaussian'"):
        VAE(latent_dim=2, epochs=1, device="cpu", likelihood="bernoulli").fit(X)


def test_dynamic_binarization_needs_a_bernoulli_likelihood():
    X = np.random.default_rng(0).random((20, 4), dtype=np.float32)
    with pytest.raises(InputError, match="binarize='dynamic' needs likelihood='bernoulli'"):
        VAE(latent_dim=2, epochs=1, likelihood="gaussian", binarize="dynamic", device="cpu").fit(X)


# ------------------------------------------------------------------- PCA vs scikit-learn


@pytest.fixture(scope="module", params=[(300, 20), (15, 40)], ids=["tall", "wide"])
def pca_data(request):
    n, d = request.param
    rng = np.random.default_rng(4)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)


def test_pca_matches_scikit_learn(pca_data):
    k = 5
    ours, ref = PCA(latent_dim=k).fit(pca_data), SkPCA(n_components=k).fit(pca_data)
    np.testing.assert_allclose(ours.components_, ref.components_, atol=1e-8)  # same signs: svd_flip convention
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-8)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-10)
    X32 = pca_data.astype(np.float32)
    np.testing.assert_allclose(ours.transform(X32), ref.transform(pca_data), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(ours.reconstruct(X32), ref.inverse_transform(ref.transform(pca_data)), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(ours.score_samples(pca_data), ref.score_samples(pca_data), rtol=1e-8)


def test_pca_of_float32_data_matches_the_float64_fit():
    """float32 input: Gram blocks in float32 summed in float64, with a mean far from 0 (no cancellation)."""
    rng = np.random.default_rng(6)
    X = (rng.normal(size=(5000, 30)) * np.linspace(0.1, 3.0, 30) + 1000.0).astype(np.float32)
    k = 4
    ours, ref = PCA(latent_dim=k).fit(X), SkPCA(n_components=k).fit(X.astype(np.float64))
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-5)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=1e-5)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-7)
    np.testing.assert_allclose(np.abs(np.sum(ours.components_ * ref.components_, axis=1)), 1.0, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("offset", [5.0, 100.0], ids=["gram-then-centre", "centred-blocks"])
def test_scatter_matrix_equals_the_direct_one(dtype, offset):
    from vaelab.models import pca

    X = (torch.randn(103, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 + offset).to(dtype)
    mean, scatter = pca._mean_and_scatter(X, block_rows=10)  # 11 blocks where blocked, the last of 3 rows
    X64 = X.to(torch.float64)
    Xc = X64 - X64.mean(0)
    ratio = float((103 * X64.mean(0) ** 2 / (Xc**2).sum(0)).max())
    assert (ratio > pca._MAX_OFFSET_RATIO) == (offset == 100.0)  # each case takes the path it is named after
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(mean, X64.mean(0), rtol=tol, atol=tol)
    torch.testing.assert_close(scatter, Xc.T @ Xc, rtol=tol, atol=tol * 100)


def test_full_rank_pca_inverts_exactly():
    X = np.random.default_rng(5).normal(size=(50, 6))
    pca = PCA(latent_dim=6).fit(X)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), X, atol=1e-5)


@pytest.mark.parametrize("k", [0, 7, -1])
def test_pca_latent_dim_bounds(k):
    with pytest.raises(InputError, match=r"latent_dim must be (between 1 and 6|an integer >= 1)"):
        PCA(latent_dim=k).fit(np.random.default_rng(0).normal(size=(50, 6)))


def test_pca_likelihood_needs_discarded_variance():
    X = np.random.default_rng(5).normal(size=(50, 6))
    with pytest.raises(InputError, match="noise variance is 0"):
        PCA(latent_dim=6).fit(X).score(X)
