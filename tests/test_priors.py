"""Learned priors against independent densities: the mixture of Gaussians and the VampPrior."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from vaelab.distributions import DiagonalGaussian
from vaelab.errors import InputError
from vaelab.models import VAEConfig, VAEModel
from vaelab.priors import MixtureOfGaussians, VampPrior, build_prior


def test_mixture_log_prob_equals_mixture_same_family():
    torch.manual_seed(0)
    prior = MixtureOfGaussians(3, components=4)
    with torch.no_grad():
        prior.log_vars.normal_(0, 0.5)
        prior.logits.normal_()
    reference = MixtureSameFamily(
        Categorical(logits=prior.logits), Independent(Normal(prior.means, torch.exp(0.5 * prior.log_vars)), 1)
    )
    z = 2 * torch.randn(7, 5, 3)
    torch.testing.assert_close(prior.log_prob(z), reference.log_prob(z), rtol=1e-5, atol=1e-5)


def test_component_log_probs_are_the_joint_of_component_and_code():
    torch.manual_seed(0)
    prior = MixtureOfGaussians(3, components=4)
    with torch.no_grad():
        prior.logits.normal_()
    reference = Normal(prior.means, torch.exp(0.5 * prior.log_vars))  # (K, D)
    z = 2 * torch.randn(7, 5, 3)
    joint = prior.component_log_probs(z)  # (7, 5, K)
    expected = reference.log_prob(z[..., None, :]).sum(-1) + prior.logits.log_softmax(-1)
    torch.testing.assert_close(joint, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(joint.logsumexp(-1), prior.log_prob(z))


def test_mixture_samples_follow_the_mixture():
    torch.manual_seed(1)
    prior = MixtureOfGaussians(2, components=3)
    with torch.no_grad():
        prior.means.copy_(torch.tensor([[-4.0, 0.0], [0.0, 4.0], [4.0, 0.0]]))
        prior.logits.copy_(torch.tensor([0.0, math.log(2.0), math.log(3.0)]))
    z = prior.sample(60_000, generator=torch.Generator().manual_seed(0))
    share = torch.stack([(z[:, 0] < -2).float().mean(), (z[:, 1] > 2).float().mean(), (z[:, 0] > 2).float().mean()])
    torch.testing.assert_close(share, torch.tensor([1 / 6, 2 / 6, 3 / 6]), atol=0.01, rtol=0)


class _OneDimModel:
    """A stand-in with an encoder of 1-D inputs: q(z|u) = N(2u, 0.3^2)."""

    input_shape = (1,)

    def prior_posterior(self, u):
        return DiagonalGaussian(2 * u, torch.full_like(u, math.log(0.09)))


def test_vamp_kl_monte_carlo_converges_to_numerical_integration():
    torch.manual_seed(2)
    prior = VampPrior(1, components=3)
    prior.bind(_OneDimModel())
    q = DiagonalGaussian(torch.tensor([[0.4]]), torch.tensor([[math.log(0.25)]]))  # N(0.4, 0.5^2)
    with torch.no_grad():
        grid = torch.linspace(-8, 8, 40_001, dtype=torch.float64).view(-1, 1)
        u = prior.pseudo_inputs.double().view(-1)
        p = sum(Normal(2 * u[k], 0.3).log_prob(grid).exp() for k in range(3)) / 3  # (G, 1)
        qd = Normal(0.4, 0.5).log_prob(grid).exp()
        integrand = qd * (torch.log(qd) - torch.log(p))
        exact = float(torch.trapezoid(integrand.view(-1), grid.view(-1)))
        z = q.rsample((200_000,), generator=torch.Generator().manual_seed(1))  # (S, 1, 1)
        mc = float(prior.kl(q, z).mean())
    assert exact > 0.1  # a non-trivial case
    assert mc == pytest.approx(exact, abs=0.01)


def test_vamp_prior_runs_the_model_encoder_on_its_pseudo_inputs():
    torch.manual_seed(3)
    model = VAEModel(VAEConfig(input_shape=(4,), latent_dim=2, prior={"name": "vamp", "components": 5}))
    q = model.encode(model.prior.pseudo_inputs)
    reference = MixtureSameFamily(Categorical(logits=torch.zeros(5)), Independent(Normal(q.mean, q.stddev), 1))
    z = torch.randn(6, 2)
    torch.testing.assert_close(model.prior.log_prob(z), reference.log_prob(z), rtol=1e-5, atol=1e-5)
    assert "prior.pseudo_inputs" in model.state_dict()  # saved with the weights
    assert not any(name.startswith("prior.encoder") for name in model.state_dict())  # no copy of the encoder


def test_prior_bad_options():
    with pytest.raises(InputError, match=r"components \(of the 'mog' prior\) must be an integer >= 1, got 0"):
        build_prior({"name": "mog", "components": 0}, 2)
    with pytest.raises(InputError, match="unknown prior 'gmm'"):
        build_prior("gmm", 2)
    with pytest.raises(InputError, match="prior 'vamp' needs a model with an encoder"):
        build_prior({"name": "vamp", "components": 2}, 2).bind(object())
