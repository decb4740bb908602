"""Tests of vaelab.metrics: the bounds, reconstruction figures, bits per dimension and ``evaluate``.

Every estimator is checked against an independent computation: the
importance-sampled bound of a linear-Gaussian VAE (whose marginal is the
probabilistic-PCA density, known in closed form) against ``PCAModel.log_likelihood``
and ``torch.distributions.MultivariateNormal``; KL terms against
``torch.distributions.kl_divergence``; reconstruction figures against scikit-learn.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import r2_score

from vaelab import PCA, VAE, Autoencoder
from vaelab.errors import InputError
from vaelab.metrics import (
    binary_cross_entropy,
    bits_per_dim,
    dequantize,
    elbo_terms,
    evaluate,
    explained_variance,
    importance_sampled_log_likelihood,
    log_mean_exp,
    mean_squared_error,
)
from vaelab.metrics.bounds import chunk_sizes
from vaelab.metrics.discrete import is_8bit, is_binary
from vaelab.models import PCAConfig, PCAModel, VAEConfig, VAEModel
from vaelab.nn import NetworkConfig

D_X, D_Z = 5, 2


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def ppca_data() -> torch.Tensor:
    """300 draws from a 2-factor linear-Gaussian model in 5 dimensions (float64)."""
    g = gen(0)
    w = torch.randn(D_X, D_Z, generator=g, dtype=torch.float64) * 1.5
    z = torch.randn(300, D_Z, generator=g, dtype=torch.float64)
    return z @ w.T + 0.5 * torch.randn(300, D_X, generator=g, dtype=torch.float64) + 0.3


@pytest.fixture(scope="module")
def pca(ppca_data: torch.Tensor) -> PCAModel:
    return PCAModel(PCAConfig(input_shape=(D_X,), latent_dim=D_Z)).fit(ppca_data)


def linear_gaussian_vae(pca: PCAModel, *, mean_scale: float = 1.0, extra_log_var: float = 0.0) -> VAEModel:
    """A VAEModel with linear encoder and decoder equal to probabilistic PCA.

    Decoder x = W z + mu with W = U^T diag(w), w_d = sqrt(lambda_d - s2), noise s2 (Tipping & Bishop 1999).
    The exact posterior is diagonal: var_d = s2 / lambda_d, mean_d = (w_d / lambda_d) u_d^T (x - mu).
    ``mean_scale`` != 1 or ``extra_log_var`` != 0 make the encoder approximate (not exact).
    """
    s2 = float(pca.noise_variance)
    lam = pca.explained_variance
    w = torch.sqrt(lam - s2)
    config = VAEConfig(
        input_shape=(D_X,), latent_dim=D_Z, network=NetworkConfig(kind="mlp", hidden_dims=()),
        likelihood={"name": "gaussian", "scale": math.sqrt(s2)},
    )
    model = VAEModel(config).double().eval()
    enc, dec = model.encoder.net[0], model.decoder.net[0]
    coef = (w / lam)[:, None] * pca.components * mean_scale  # (D, d)
    with torch.no_grad():
        dec.weight.copy_(pca.components.T * w)  # (d, D)
        dec.bias.copy_(pca.mean)
        enc.weight.copy_(torch.cat([coef, torch.zeros_like(coef)]))
        enc.bias.copy_(torch.cat([-coef @ pca.mean, torch.log(s2 / lam) + extra_log_var]))
    return model


def test_linear_gaussian_vae_marginal_is_ppca(pca, ppca_data):
    """The closed forms agree: PCAModel.log_likelihood == MultivariateNormal(mu, W W^T + s2 I)."""
    model = linear_gaussian_vae(pca)
    W = model.decoder.net[0].weight
    cov = W @ W.T + float(pca.noise_variance) * torch.eye(D_X, dtype=torch.float64)
    exact = torch.distributions.MultivariateNormal(pca.mean, cov).log_prob(ppca_data)
    assert torch.allclose(pca.log_likelihood(ppca_data), exact, atol=1e-9)


def test_is_bound_with_exact_posterior_is_exact_for_any_k_and_chunking(pca, ppca_data):
    model = linear_gaussian_vae(pca)
    exact = pca.log_likelihood(ppca_data)
    for k, budget in [(1, 32.0), (7, 1e-4), (300, 0.01)]:  # 1e-4 MB: one example and one sample per call
        est = importance_sampled_log_likelihood(model, ppca_data, k, memory_budget_mb=budget, generator=gen(k))
        assert est.shape == (300,)
        assert torch.allclose(est, exact, atol=1e-8), k


def test_is_bound_converges_to_ppca_marginal_and_increases_with_k(pca, ppca_data):
    model = linear_gaussian_vae(pca, mean_scale=0.85, extra_log_var=1.0)  # a poor encoder: ELBO gap ~2.5 nats
    exact = float(pca.log_likelihood(ppca_data).mean())
    ks = (1, 10, 100, 5000)
    estimates = {k: importance_sampled_log_likelihood(model, ppca_data, k, generator=gen(k)) for k in ks}
    means = {k: float(v.mean()) for k, v in estimates.items()}
    with torch.no_grad():
        elbo = float(elbo_terms(model, ppca_data, n_samples=2000, generator=gen(1)).elbo.mean())
    assert exact - elbo > 0.2  # the encoder is far enough from exact for the test to mean something
    stderr_1 = float(estimates[1].std()) / math.sqrt(len(ppca_data))
    assert abs(means[1] - elbo) < 4 * stderr_1  # L_1 is a one-draw estimate of the ELBO
    assert means[1] < means[10] < means[100] < means[5000]
    assert means[5000] <= exact + 0.01
    assert exact - means[5000] < 0.01


def test_is_bound_is_stable_on_high_dimensional_bernoulli():
    """784 Bernoulli dims give log-weights around -500: nothing may underflow."""
    torch.manual_seed(0)
    model = VAEModel(VAEConfig(input_shape=(784,), latent_dim=4, network=NetworkConfig("mlp", (8,)))).eval()
    x = torch.bernoulli(torch.full((6, 784), 0.5), generator=gen(0))
    ll = importance_sampled_log_likelihood(model, x, 2000, generator=gen(1))
    with torch.no_grad():
        elbo = elbo_terms(model, x, n_samples=200, generator=gen(2)).elbo
    assert torch.isfinite(ll).all() and (ll < -100).all()
    assert float(ll.mean()) >= float(elbo.mean()) - 0.05


def test_is_bound_rejects_bad_k_and_deterministic_models(pca, ppca_data):
    model = linear_gaussian_vae(pca)
    for k in (0, -1, 2.5, True):
        with pytest.raises(InputError, match="importance samples"):
            importance_sampled_log_likelihood(model, ppca_data, k)
    with pytest.raises(InputError, match="Gaussian posterior"):
        importance_sampled_log_likelihood(pca, ppca_data, 10)


def test_chunk_sizes_respect_the_budget():
    block, k_chunk = chunk_sizes(10_000, 5000, floats_per_row=1000, memory_budget_mb=40.0)
    assert block * k_chunk * 1000 * 4 <= 40 * 2**20 and block == 10_000 and k_chunk == 1
    block, k_chunk = chunk_sizes(10, 5000, floats_per_row=1000, memory_budget_mb=40.0)
    assert block == 10 and k_chunk == 1048 and block * k_chunk * 4000 <= 40 * 2**20
    assert chunk_sizes(10, 5, floats_per_row=1000, memory_budget_mb=40.0) == (10, 5)


def test_log_mean_exp_matches_direct_computation():
    v = torch.randn(50, 3, dtype=torch.float64, generator=gen(0))
    assert torch.allclose(log_mean_exp(v), torch.log(torch.exp(v).mean(0)))
    assert torch.isfinite(log_mean_exp(v - 2000.0)).all()  # exp underflows; logsumexp does not


def test_elbo_terms_match_independent_computation():
    torch.manual_seed(0)
    model = VAEModel(VAEConfig(input_shape=(6,), latent_dim=3, network=NetworkConfig("mlp", (8,)))).eval()
    x = torch.bernoulli(torch.full((5, 6), 0.4), generator=gen(0))
    terms = elbo_terms(model, x, n_samples=4, generator=gen(3))
    q = model.encode(x)
    normal = torch.distributions.Normal(q.mean, q.stddev)
    kl = torch.distributions.kl_divergence(normal, torch.distributions.Normal(0.0, 1.0)).sum(-1)
    eps = torch.randn((4, 5, 3), generator=gen(3))  # the same draws
    bernoulli = torch.distributions.Bernoulli
    rec = torch.stack([bernoulli(logits=model.decode(q.mean + q.stddev * e)).log_prob(x).sum(-1) for e in eps]).mean(0)
    assert torch.allclose(terms.kl, kl, atol=1e-5)
    assert torch.allclose(terms.reconstruction, rec, atol=1e-4)
    assert torch.allclose(terms.elbo, rec - kl, atol=1e-4)


def test_reconstruction_figures_match_sklearn_and_torch():
    g = np.random.default_rng(0)
    x = g.random((30, 7))
    r = x + 0.1 * g.normal(size=x.shape)
    xt, rt = torch.from_numpy(x), torch.from_numpy(r)
    assert mean_squared_error(xt, rt) == pytest.approx(((x - r) ** 2).mean())
    assert explained_variance(xt, rt) == pytest.approx(r2_score(x, r, multioutput="variance_weighted"))
    assert explained_variance(xt, xt) == 1.0
    xb = (x > 0.5).astype(float)
    p = np.clip(r, 0.05, 0.95)
    bce = torch.nn.functional.binary_cross_entropy
    expected = bce(torch.from_numpy(p), torch.from_numpy(xb), reduction="none").sum(1)
    assert torch.allclose(binary_cross_entropy(torch.from_numpy(xb), torch.from_numpy(p)), expected)


def test_bits_per_dim_of_the_uniform_density_is_eight():
    """log p = 0 on [0, 1]^D makes every 8-bit image equally likely: 256^-D, i.e. 8 bits per dimension."""
    assert bits_per_dim(torch.zeros(10), 784) == pytest.approx(8.0)
    assert bits_per_dim(torch.full((3,), -784 * math.log(2)), 784, dequantized=False) == pytest.approx(1.0)


def test_dequantize_stays_in_the_pixel_cube():
    y = torch.randint(0, 256, (20, 16), generator=gen(0)).double()
    x = dequantize(y / 255.0, generator=gen(1))
    assert ((x >= y / 256) & (x < (y + 1) / 256)).all()
    assert is_8bit((y / 255.0).float()) and not is_8bit(x) and is_binary(torch.tensor([0.0, 1.0]))


# ---------------------------------------------------------------- evaluate


@pytest.fixture(scope="module")
def pixels() -> np.ndarray:
    """64 8-bit 'images' of 6x6 with low-rank structure, uint8."""
    g = np.random.default_rng(1)
    low = 1 / (1 + np.exp(-(g.normal(size=(64, 2)) @ g.normal(size=(2, 36)))))
    return np.clip(low * 255 + g.normal(scale=8, size=low.shape), 0, 255).astype(np.uint8).reshape(64, 6, 6)


def test_evaluate_pca_reports_ppca_nll_and_bits_per_dim(pixels):
    pca = PCA(latent_dim=2).fit(pixels)
    result = evaluate(pca, pixels, seed=0)
    assert result["nll"] == pytest.approx(-result["ppca_log_likelihood"])
    assert result["ppca_log_likelihood"] == pytest.approx(pca.score(pixels), rel=1e-6)
    assert 0 < result["explained_variance"] < 1 and result["mse"] > 0
    assert 0 < result["bits_per_dim"] < 8 and any("256" in note for note in result["notes"])
    assert result["warnings"] == []


def test_evaluate_linear_vae_and_pca_agree_on_one_scale(pca, ppca_data):
    """A VAE estimator holding the exact linear-Gaussian model reports PCA's nll."""
    vae = VAE(latent_dim=D_Z, network={"kind": "mlp", "hidden_dims": []}, likelihood="gaussian", epochs=1, device="cpu")
    vae.fit(ppca_data.float().numpy())
    vae.module_ = linear_gaussian_vae(pca).float()
    est = PCA(latent_dim=D_Z).fit(ppca_data.numpy())
    r_vae = evaluate(vae, ppca_data.float().numpy(), nll_samples=50)
    r_pca = evaluate(est, ppca_data.float().numpy())
    assert r_vae["nll"] == pytest.approx(r_pca["nll"], abs=1e-3)
    assert r_vae["mse"] == pytest.approx(r_pca["mse"], rel=0.5)  # posterior-mean reconstructions shrink
    assert r_vae["active_units"] == 2 and r_vae["warnings"] == []


def test_evaluate_vae_reports_bounds_diagnostics_and_warnings(pixels):
    vae = VAE(latent_dim=3, network={"kind": "mlp", "hidden_dims": [16]}, epochs=2, batch_size=16, device="cpu")
    vae.fit(pixels)
    result = evaluate(vae, pixels, nll_samples=100, mi_examples=64)
    assert result["elbo"] == pytest.approx(-(result["reconstruction_nll"] + result["kl"]))
    assert result["nll"] <= -result["elbo"] + 3 * result["nll_stderr"]
    assert len(result["kl_per_dim"]) == 3 and sum(result["kl_per_dim"]) == pytest.approx(result["kl"], rel=1e-4)
    assert result["nll_samples_per_second"] > 0 and "bits_per_dim" not in result  # Bernoulli: not a density
    assert any("Bernoulli likelihood on grey levels" in w for w in result["warnings"])
    settings = {"n_examples": 64, "seed": 0, "nll_samples": 100.0}  # the figures follow the settings
    assert {k: result[k] for k in settings} == settings
    assert all(isinstance(v, (float, list)) for k, v in result.items() if k not in ("n_examples", "seed"))


def test_evaluate_gaussian_vae_on_8bit_data_reports_bits_per_dim(pixels):
    vae = VAE(latent_dim=2, network={"kind": "mlp", "hidden_dims": [16]}, likelihood={"name": "gaussian", "scale": 0.1},
              epochs=2, batch_size=16, device="cpu").fit(pixels)
    result = evaluate(vae, pixels, nll_samples=20)
    assert result["bits_per_dim"] > 0 and any("dequantized" in n for n in result["notes"])


def test_evaluate_autoencoder_and_binary_data():
    x = (np.random.default_rng(0).random((40, 12)) > 0.5).astype(np.float32)
    ae = Autoencoder(latent_dim=2, network={"kind": "mlp", "hidden_dims": [8]}, epochs=2, device="cpu").fit(x)
    result = evaluate(ae, x)
    assert {"mse", "explained_variance", "bce", "reconstruction_log_likelihood"} <= set(result)
    assert "nll" not in result and result["bce"] > 0
    with pytest.raises(InputError, match="nll_samples"):
        evaluate(ae, x, nll_samples=-1)
