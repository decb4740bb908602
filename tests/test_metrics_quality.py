"""Tests of the latent diagnostics, the Fréchet distance, precision/recall and the digit classifier.

Independent computations: ``torch.distributions.kl_divergence``, numerical
integration on a grid, the closed-form mutual information of a linear-Gaussian
model, ``scipy.linalg.sqrtm`` and brute-force loops.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vaelab import VAE
from vaelab.errors import InputError
from vaelab.metrics import (
    active_units,
    aggregate_posterior_terms,
    collapse_warnings,
    evaluate,
    frechet_distance,
    frechet_distance_from_moments,
    kl_per_dim,
    precision_recall,
)
from vaelab.metrics import features
from vaelab.priors import StandardNormal


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_kl_per_dim_matches_torch_distributions():
    mean = torch.randn(50, 4, generator=gen(0), dtype=torch.float64)
    log_var = torch.randn(50, 4, generator=gen(1), dtype=torch.float64)
    q = torch.distributions.Normal(mean, torch.exp(0.5 * log_var))
    expected = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).mean(0)
    assert torch.allclose(kl_per_dim(mean, log_var), expected)


def test_active_units_and_kl_find_deliberately_dead_dimensions():
    """Dimensions 1 and 3 are N(0, 1) for every x: inactive, zero KL, and reported as collapsed."""
    mean = torch.randn(200, 4, generator=gen(0))
    log_var = torch.full((200, 4), -2.0)
    mean[:, [1, 3]], log_var[:, [1, 3]] = 0.0, 0.0
    mean[:, 2] *= 0.05  # variance 0.0025 < 0.01: informative but inactive by Burda et al.'s threshold
    assert active_units(mean).tolist() == [True, False, False, False]
    kl = kl_per_dim(mean, log_var)
    assert kl[1] == 0.0 and kl[3] == 0.0 and kl[0] > 0.5
    text = collapse_warnings(kl, active_units(mean))
    assert len(text) == 1 and "3 of 4 latent dimensions are inactive" in text[0] and "2 of 4 carry" in text[0]
    assert "partial posterior collapse" in text[0]
    assert "total posterior collapse" in collapse_warnings(kl, torch.zeros(4, dtype=torch.bool))[0]
    assert collapse_warnings(kl, torch.ones(4, dtype=torch.bool)) == []


def test_mutual_information_of_a_linear_gaussian_model_matches_closed_form():
    """z ~ N(0, I), x = W z + noise: the exact posterior has var_d = 1 / (1 + w_d^2 / s2) whatever x,
    so I(x; z) = H(z) - H(z|x) = 0.5 sum_d log(1 + w_d^2 / s2), and q(z) = p(z) (aggregate KL 0)."""
    w2_over_s2 = torch.tensor([3.0, 0.5], dtype=torch.float64)
    var = 1.0 / (1.0 + w2_over_s2)
    z = torch.randn(3000, 2, generator=gen(0), dtype=torch.float64)
    # posterior mean given x is distributed N(0, 1 - var) when z ~ N(0, 1)
    mean = z * (1 - var).sqrt()
    log_var = var.log().expand(3000, 2)
    est = aggregate_posterior_terms(mean, log_var, StandardNormal(2).log_prob, n_samples=2, generator=gen(1))
    assert est.mutual_information == pytest.approx(0.5 * float(torch.log1p(w2_over_s2).sum()), abs=0.05)
    assert abs(est.aggregate_kl) < 0.05
    kl_mean = float(kl_per_dim(mean, log_var).sum())
    assert est.mean_kl == pytest.approx(kl_mean, abs=0.05)  # E_x KL = I + KL(q(z) || p(z))


def test_aggregate_kl_of_a_bimodal_aggregate_posterior_matches_numerical_integration():
    mean = torch.cat([torch.full((500, 1), -2.0), torch.full((500, 1), 2.0)]).double()
    log_var = torch.full((1000, 1), math.log(0.04), dtype=torch.float64)
    est = aggregate_posterior_terms(mean, log_var, StandardNormal(1).log_prob, n_samples=20, generator=gen(0))
    grid = torch.linspace(-8, 8, 200_001, dtype=torch.float64)
    normal = lambda m, s: torch.exp(-0.5 * ((grid - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))  # noqa: E731
    q = 0.5 * normal(-2.0, 0.2) + 0.5 * normal(2.0, 0.2)
    p = normal(0.0, 1.0)
    integrand = torch.where(q > 0, q * (torch.log(q) - torch.log(p)), torch.zeros_like(q))
    exact = float(torch.trapezoid(integrand, grid))
    assert est.aggregate_kl == pytest.approx(exact, abs=0.05)
    assert est.mutual_information == pytest.approx(math.log(2), abs=0.05)  # the mode tells one bit about x
    prior = StandardNormal(1).log_prob
    sub = aggregate_posterior_terms(mean, log_var, prior, max_draw_examples=100, n_samples=20, generator=gen(1))
    assert sub.n_draw_examples == 100 and sub.aggregate_kl == pytest.approx(exact, abs=0.1)


def test_frechet_distance_matches_scipy_sqrtm_and_the_1d_closed_form():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    g = np.random.default_rng(0)
    a, b = g.normal(size=(6, 6)), g.normal(size=(6, 6))
    c1, c2 = a @ a.T, b @ b.T + 0.1 * np.eye(6)
    m1, m2 = g.normal(size=6), g.normal(size=6)
    covmean = scipy_linalg.sqrtm(c1 @ c2).real
    expected = ((m1 - m2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * np.trace(covmean)
    t = torch.from_numpy
    assert frechet_distance_from_moments(t(m1), t(c1), t(m2), t(c2)) == pytest.approx(expected, rel=1e-6)
    one = lambda v: torch.tensor([v], dtype=torch.float64)  # noqa: E731
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    d2 = frechet_distance_from_moments(one(1.0), one(4.0)[:, None], one(-1.0), one(9.0)[:, None])
    assert d2 == pytest.approx(5.0)


def test_frechet_distance_of_a_set_to_itself_is_zero_and_grows_with_noise():
    f = torch.randn(2000, 16, generator=gen(0)) @ torch.randn(16, 16, generator=gen(1))
    assert frechet_distance(f, f) < 1e-6
    noise = torch.randn(f.shape, generator=gen(2))
    distances = [frechet_distance(f, f + s * noise) for s in (0.1, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in zip(distances, distances[1:])) and distances[0] > 0
    with pytest.raises(InputError):
        frechet_distance(f, f[:, :3])


def test_precision_recall_matches_a_brute_force_loop():
    real = torch.randn(60, 3, generator=gen(0), dtype=torch.float64)
    fake = torch.randn(50, 3, generator=gen(1), dtype=torch.float64) * 1.5 + 0.5

    def radii(points, k):
        out = []
        for i in range(len(points)):
            d = sorted(math.dist(points[i].tolist(), points[j].tolist()) for j in range(len(points)) if j != i)
            out.append(d[k - 1])
        return out

    def share_covered(points, centres, k):
        r = radii(centres, k)
        inside = [any(math.dist(p.tolist(), c.tolist()) <= rc for c, rc in zip(centres, r)) for p in points]
        return float(np.mean(inside))

    precision, recall = share_covered(fake, real, 3), share_covered(real, fake, 3)
    assert precision_recall(real, fake, k=3) == pytest.approx((precision, recall))
    assert precision_recall(real, real, k=3) == (1.0, 1.0)
    assert precision_recall(real, real + 100.0, k=3) == (0.0, 0.0)


def test_digit_classifier_network_shapes():
    net = features.DigitClassifier().eval()
    for shape in [(3, 784), (3, 28, 28), (3, 1, 28, 28)]:
        assert net.features(torch.rand(shape)).shape == (3, 128)
    assert net(torch.rand(3, 784)).shape == (3, 10)
    with pytest.raises(InputError, match="28x28"):
        net.features(torch.rand(3, 10, 10))


needs_classifier = pytest.mark.skipif(not features.has_digit_classifier(), reason="digit classifier not installed")


@needs_classifier
def test_shipped_classifier_is_small_documented_and_accurate(data_dir):
    from vaelab.data import load_mnist

    info = features.digit_classifier_info()
    assert info["mnist_test_accuracy"] > 0.98 and "not Inception FID" in info["name"]
    assert info["fdd_floor_train_vs_test"] > 0 and "train_feature_classifier.py" in info["training"]["command"]
    x, y = load_mnist(data_dir / "mnist", "test")
    model = features.load_digit_classifier()
    with torch.no_grad():
        pred = model(torch.from_numpy(x[:1000]).float() / 255).argmax(1)
    assert float((pred == torch.from_numpy(y[:1000])).float().mean()) > 0.97


@needs_classifier
def test_evaluate_reports_frechet_digit_distance_for_28x28_images(data_dir):
    from vaelab.data import load_mnist

    x, _ = load_mnist(data_dir / "mnist", "test")
    x = (x[:300] > 127).astype(np.float32)  # binary digits
    vae = VAE(latent_dim=4, network={"kind": "mlp", "hidden_dims": [32]}, epochs=1, batch_size=50, device="cpu").fit(x)
    result = evaluate(vae, x, n_generated=200, mi_examples=100, features="digits")
    assert result["frechet_digit_distance"] > result["frechet_digit_distance_floor"] > 0
    assert 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    assert any("not Inception FID" in note for note in result["notes"])
    assert not any("FID" in key.upper() for key in result)


def test_evaluate_flags_a_vae_with_dead_latent_dimensions():
    """Zeroing the encoder's outputs for dimensions 1 and 2 makes q(z_d|x) = N(0, 1) for every x."""
    x = (np.random.default_rng(0).random((80, 12)) > 0.5).astype(np.float32)
    vae = VAE(latent_dim=3, network={"kind": "mlp", "hidden_dims": [16]}, epochs=1, device="cpu").fit(x)
    last = vae.module_.encoder.net[-1]  # (16 -> 6): means of z_0..z_2, then log-variances
    with torch.no_grad():
        last.weight[[1, 2, 4, 5]] = 0.0
        last.bias[[1, 2, 4, 5]] = 0.0
        last.weight[0] = torch.linspace(-3, 3, 16)  # dimension 0 clearly active
    result = evaluate(vae, x, mi_examples=80)
    assert result["active_units"] == 1 and result["latent_dim"] == 3
    assert result["kl_per_dim"][1] == 0.0 and result["kl_per_dim"][2] == 0.0 and result["kl_per_dim"][0] > 0.1
    assert any("2 of 3 latent dimensions are inactive" in w for w in result["warnings"])
    assert 0.0 < result["mutual_information"] <= math.log(80) + 1e-9
