"""The VAE's objectives against independent computations: free bits, IWAE, DReG, the TC decomposition."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import torch
from torch.distributions import Bernoulli, Normal

from vaelab.errors import InputError
from vaelab.models import VAEConfig, VAEModel
from vaelab.nn import NetworkConfig
from vaelab.objectives import build_objective, free_bits_kl, kl_decomposition, log_mean_exp, normalized_weights


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _model(objective=None, prior="standard_normal", d: int = 6, latent: int = 2, seed: int = 0) -> VAEModel:
    torch.manual_seed(seed)
    config = VAEConfig(
        input_shape=(d,), latent_dim=latent, network=NetworkConfig("mlp", (8,), "tanh"), prior=prior,
        objective=objective or {"name": "elbo"},
    )
    return VAEModel(config)


def _x(n: int = 5, d: int = 6) -> torch.Tensor:
    return torch.rand(n, d, generator=torch.Generator().manual_seed(3)).round()


def _g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ free bits


def test_free_bits_zero_gradient_below_the_floor_and_unchanged_above():
    kl = torch.tensor([[0.05, 1.0, 0.3], [0.15, 2.0, 0.1]], requires_grad=True)  # batch means 0.1, 1.5, 0.2
    loss = free_bits_kl(kl, floor=0.25)
    assert float(loss.detach()) == pytest.approx(0.25 + 1.5 + 0.25)
    (grad,) = torch.autograd.grad(loss, kl)
    plain = torch.autograd.grad(kl.mean(0).sum(), kl)[0]  # the gradient without the floor: 1/B everywhere
    torch.testing.assert_close(grad[:, 1], plain[:, 1])  # above the floor: unchanged
    assert torch.all(grad[:, [0, 2]] == 0)  # below: zero


def test_free_bits_through_the_model_only_stops_the_collapsed_dimensions():
    model = _model({"name": "elbo", "free_bits": 0.0})
    floored = _model({"name": "elbo", "free_bits": 1e6})  # every dimension below the floor
    x = _x()
    for m in (model, floored):
        m.zero_grad()
        m(x, generator=_g()).loss.backward()
    # with every KL under the floor the loss is reconstruction + const: the decoder's gradient is the same
    rec_only = _model()
    rec_only.zero_grad()
    rec_only(x, generator=_g()).reconstruction.backward()
    for name, p in floored.named_parameters():
        torch.testing.assert_close(p.grad, dict(rec_only.named_parameters())[name].grad)


# ---------------------------------------------------------------------- IWAE


def test_iwae_with_k_1_equals_the_elbo_on_the_same_draws():
    model = _model({"name": "iwae", "k": 1})
    x = _x()
    loss = model(x, generator=_g(7)).loss
    # independent: torch.distributions on the same draw
    q = model.encode(x)
    z = q.rsample((1,), generator=_g(7))[0]
    log_px_z = Bernoulli(logits=model.decode(z)).log_prob(x).sum(-1)
    log_pz = Normal(0.0, 1.0).log_prob(z).sum(-1)
    log_qz = Normal(q.mean, q.stddev).log_prob(z).sum(-1)
    torch.testing.assert_close(loss, -(log_px_z + log_pz - log_qz).mean())


def test_iwae_gradient_equals_explicit_normalized_weights():
    model = _model({"name": "iwae", "k": 7}, prior={"name": "mog", "components": 3})
    x = _x()
    grads = torch.autograd.grad(model(x, generator=_g(1)).loss, list(model.parameters()))
    log_w = model.importance_terms(x, 7, generator=_g(1)).log_w  # (k, B), the same draws
    w = torch.exp(log_w.detach() - log_w.detach().max(0).values)
    w = w / w.sum(0)  # explicit normalized importance weights
    reference = -(w * log_w).sum(0).mean()  # Burda et al. 2016, eq. 14
    for a, b in zip(grads, torch.autograd.grad(reference, list(model.parameters())), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_iwae_bound_is_the_log_mean_exp_of_the_weights():
    values = torch.tensor([[0.0, -1.0], [math.log(3.0), -1.0]])
    torch.testing.assert_close(log_mean_exp(values), torch.tensor([math.log(2.0), -1.0]))
    torch.testing.assert_close(normalized_weights(values)[:, 0], torch.tensor([0.25, 0.75]))


def _two_layer(objective, seed: int = 0):
    from vaelab.models import TwoLayerVAEConfig, TwoLayerVAEModel

    torch.manual_seed(seed)
    config = TwoLayerVAEConfig(
        input_shape=(6,), latent_dim=2, network=NetworkConfig("mlp", (8,), "tanh"), objective=objective,
        top_latent_dim=1, top_hidden_dims=(4,),
    )
    return TwoLayerVAEModel(config)


def _grads(model, x, seed):
    loss = model(x, generator=_g(seed)).loss
    return dict(zip([n for n, _ in model.named_parameters()], torch.autograd.grad(loss, list(model.parameters()))))


@pytest.mark.parametrize("build,tolerance", [(_model, 0.1), (_two_layer, 0.05)], ids=["one layer", "two layers"])
def test_dreg_gradient_has_the_expectation_of_the_iwae_gradient(build, tolerance):
    """Monte Carlo over 160,000 draws (one example repeated), the same draws for both estimators.

    The mean inference-network gradients agree within the tolerance (Monte Carlo error: 5 % for one
    layer, where DReG without its weight hook is 20 % off; 2.5 % for two, where weighting the z2 -> z1
    path twice is 9 % off); the generative side is the same per draw.
    """
    iwae, dreg = build({"name": "iwae", "k": 4}), build({"name": "iwae", "k": 4, "gradient": "dreg"})
    x = _x(1).expand(160_000, -1)
    g_iwae, g_dreg = _grads(iwae, x, 5), _grads(dreg, x, 5)
    inference = [n for n in g_iwae if n.startswith(("encoder", "top_encoder"))]
    for name in set(g_iwae) - set(inference):  # same draws: the generative side gets the same sum of w~ grad log w
        torch.testing.assert_close(g_dreg[name], g_iwae[name], rtol=1e-4, atol=1e-6)
    for group in ("encoder.", "top_encoder."):
        names = [n for n in inference if n.startswith(group)]
        if names:
            a = torch.cat([g_iwae[n].flatten() for n in names])
            b = torch.cat([g_dreg[n].flatten() for n in names])
            assert torch.linalg.vector_norm(a - b) < tolerance * torch.linalg.vector_norm(a), group
    # and the DReG estimate is the one with less variance: over small batches its spread is smaller
    small = _x(1).expand(64, -1)
    spread = {}
    for name, m in (("iwae", iwae), ("dreg", dreg)):
        draws = torch.stack([torch.cat([_grads(m, small, s)[n].flatten() for n in inference]) for s in range(20)])
        spread[name] = float(draws.var(0).sum())
    assert spread["dreg"] < spread["iwae"]


def test_dreg_value_is_the_iwae_bound():
    x = _x()
    a = _model({"name": "iwae", "k": 5})(x, generator=_g(2)).loss
    b = _model({"name": "iwae", "k": 5, "gradient": "dreg"})(x, generator=_g(2)).loss
    torch.testing.assert_close(a, b)


def test_objective_bad_options():
    with pytest.raises(InputError, match=r"k \(importance samples.*>= 1, got 0"):
        build_objective({"name": "iwae", "k": 0})
    with pytest.raises(InputError, match="gradient must be one of standard, dreg"):
        build_objective({"name": "iwae", "gradient": "fast"})
    with pytest.raises(InputError, match="free_bits must be a number of nats >= 0"):
        build_objective({"name": "elbo", "free_bits": -1})
    with pytest.raises(InputError, match="unknown objective 'vlb'"):
        build_objective("vlb")
    with pytest.raises(InputError, match=r"takes the options \['k', 'gradient'\]"):
        build_objective({"name": "iwae", "free_bits": 1})


# ---------------------------------------------------------- TC decomposition


def test_kl_decomposition_is_exact_when_the_batch_is_the_data_set():
    g = _g(4)
    n, d = 5, 3
    mean, log_var = torch.randn(n, d, generator=g, dtype=torch.float64), 0.3 * torch.randn(n, d, generator=g, dtype=torch.float64)
    z = mean + torch.exp(0.5 * log_var) * torch.randn(n, d, generator=g, dtype=torch.float64)
    log_pz = Normal(0.0, 1.0).log_prob(z).sum(-1)
    terms = kl_decomposition(z, mean, log_var, log_pz, dataset_size=n)
    # brute force: the aggregate posterior q(z) = (1/N) sum_j q(z|x_j) and its marginals, by loops
    comp = lambda i, j: Normal(mean[j], torch.exp(0.5 * log_var[j])).log_prob(z[i])  # noqa: E731  (D,)
    for i in range(n):
        log_qz_x = comp(i, i).sum()
        log_qz = torch.logsumexp(torch.stack([comp(i, j).sum() for j in range(n)]), 0) - math.log(n)
        log_prod = sum(
            torch.logsumexp(torch.stack([comp(i, j)[k] for j in range(n)]), 0) - math.log(n) for k in range(d)
        )
        torch.testing.assert_close(terms.mutual_information[i], log_qz_x - log_qz)
        torch.testing.assert_close(terms.total_correlation[i], log_qz - log_prod)
        torch.testing.assert_close(terms.dimensionwise_kl[i], log_prod - log_pz[i])


def test_kl_decomposition_sums_to_the_kl_on_average():
    g = _g(6)
    n, d, draws = 50, 4, 400
    mean, log_var = torch.randn(n, d, generator=g, dtype=torch.float64), 0.5 * torch.randn(n, d, generator=g, dtype=torch.float64)
    q = Normal(mean, torch.exp(0.5 * log_var))
    total = torch.zeros(n, dtype=torch.float64)
    for _ in range(draws):
        z = mean + torch.exp(0.5 * log_var) * torch.randn(n, d, generator=g, dtype=torch.float64)
        t = kl_decomposition(z, mean, log_var, Normal(0.0, 1.0).log_prob(z).sum(-1), dataset_size=10 * n)
        total += t.mutual_information + t.total_correlation + t.dimensionwise_kl
    closed = torch.distributions.kl_divergence(q, Normal(0.0, 1.0)).sum(-1)
    assert abs(float(total.mean() / draws - closed.mean())) < 0.05 * float(closed.mean())


def test_minibatch_weights_sum_to_one():
    from vaelab.objectives.tc import _log_weights

    w = _log_weights(8, 1000, torch.zeros(())).exp()
    torch.testing.assert_close(w.sum(1), torch.ones(8))


def test_tc_beta_adds_the_weighted_tc_to_the_loss():
    x = _x(8)
    plain = _model({"name": "elbo"})(x, generator=_g(1))
    tc = _model({"name": "elbo", "tc_beta": 6.0, "dataset_size": 100})(x, generator=_g(1))
    torch.testing.assert_close(tc.loss, plain.loss + 5.0 * tc.extra["tc"])
