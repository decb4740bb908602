"""The VAE's options end to end: estimator errors, the two-layer model on MNIST, the post-hoc sampler, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import vaelab
from vaelab import VAE, Autoencoder
from vaelab.errors import InputError
from vaelab.models import AutoencoderConfig, AutoencoderModel
from vaelab.objectives import build_objective
from vaelab.sampling import PosteriorMixtureSampler

NET = {"kind": "mlp", "hidden_dims": [16]}


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((96, 12)) < np.linspace(0.1, 0.9, 12)).astype(np.float32)


def tiny(**options) -> VAE:
    return VAE(**{"latent_dim": 3, "network": NET, "epochs": 2, "batch_size": 32, "device": "cpu", **options})


@pytest.mark.parametrize(
    "options,message",
    [
        (dict(objective="iwae", k=0), "k must be an integer >= 1, got 0"),
        (dict(free_bits=-0.5), "free_bits must be a number >= 0, got -0.5"),
        (dict(kl_schedule="warmup:ten"), "kl_schedule 'warmup:ten': STEPS must be an integer"),
        (dict(prior={"name": "mog", "components": 0}), r"prior\['components'\] must be an integer >= 1, got 0"),
        (dict(prior="gmm"), "unknown prior 'gmm'; valid names are: mog, standard_normal, vamp"),
        (dict(stochastic_layers=3), r"stochastic_layers must be an integer in \[1, 2\], got 3"),
        (dict(objective="iwae", tc_beta=6.0), "tc_beta is an option of objective='elbo'"),
        (dict(objective="vlb"), "objective must be one of 'elbo', 'iwae', got 'vlb'"),
        (dict(gradient="dreg"), "is an option of objective='iwae'"),
    ],
)
def test_bad_options_are_one_clear_error(X, options, message):
    with pytest.raises(InputError, match=message):
        tiny(**options).fit(X)


def test_iwae_and_vamp_need_a_stochastic_encoder():
    ae = AutoencoderModel(AutoencoderConfig(input_shape=(4,), latent_dim=2))
    with pytest.raises(InputError, match="objective 'iwae' needs a model with a stochastic encoder"):
        build_objective("iwae").check_model(ae)
    with pytest.raises(TypeError, match="objective"):
        Autoencoder(objective="iwae")  # the autoencoder has no such option


def test_tc_beta_gets_the_training_set_size(X):
    vae = tiny(tc_beta=6.0).fit(X)
    assert vae.module_.objective.config() == {"name": "elbo", "free_bits": 0.0, "tc_beta": 6.0, "dataset_size": 86}
    assert "train_tc" in vae.history_[-1]


def test_every_option_round_trips_through_save_and_load(X, tmp_path: Path):
    options = dict(
        kl_schedule="cyclical:2:0.5", objective="iwae", k=3, gradient="dreg", prior={"name": "vamp", "components": 7}
    )
    vae = tiny(**options).fit(X)
    vae.save(tmp_path / "m")
    loaded = vaelab.load(tmp_path / "m")
    assert {k: loaded.get_params()[k] for k in options} == options
    assert loaded.module_.objective == vae.module_.objective
    np.testing.assert_array_equal(loaded.transform(X), vae.transform(X))
    np.testing.assert_array_equal(loaded.sample(4, seed=1), vae.sample(4, seed=1))
    assert loaded.score(X) == vae.score(X)


def test_posterior_mixture_sampler_draws_near_the_codes(X):
    vae = tiny(epochs=5).fit(X)
    sampler = PosteriorMixtureSampler(n_components=2, seed=0).fit(vae, X)
    Z = sampler.sample_codes(20_000, seed=3)
    codes = vae.transform(X)
    gm = sampler.mixture_
    mean = gm.weights_ @ gm.means_  # the mixture's moments from its parameters
    second = sum(w * (c + np.outer(m, m)) for w, c, m in zip(gm.weights_, gm.covariances_, gm.means_))
    scale = codes.std(0).max()
    np.testing.assert_allclose(Z.mean(0), mean, atol=0.03 * scale)
    np.testing.assert_allclose(np.cov(Z.T), second - np.outer(mean, mean), atol=0.05 * scale**2)
    np.testing.assert_allclose(mean, codes.mean(0), atol=1e-3 * scale + 1e-4)  # EM keeps the data's mean
    assert sampler.sample(5, seed=1).shape == (5, 12)
    np.testing.assert_array_equal(sampler.sample(5, seed=1), sampler.sample(5, seed=1))
    # the mixture of the codes scores the codes higher than the prior's draws
    prior_draws = np.random.default_rng(0).standard_normal((96, 3)) * 3
    assert sampler.score_codes(codes).mean() > sampler.score_codes(prior_draws).mean()
    for codes_kind in ("sample",):
        assert PosteriorMixtureSampler(2, codes=codes_kind).fit(vae, X).sample(2, seed=0).shape == (2, 12)
    with pytest.raises(InputError, match="codes must be one of mean, sample"):
        PosteriorMixtureSampler(2, codes="mode").fit(vae, X)


def test_posterior_mixture_sampler_round_trips_through_save_and_load(X, tmp_path: Path):
    vae = tiny().fit(X)
    sampler = PosteriorMixtureSampler(3, covariance_type="diag", seed=2).fit(vae, X)
    sampler.save(tmp_path / "mixture")
    assert sorted(p.name for p in (tmp_path / "mixture").iterdir()) == ["config.json", "mixture.safetensors"]
    loaded = PosteriorMixtureSampler.load(tmp_path / "mixture", vae)
    np.testing.assert_array_equal(loaded.sample(6, seed=4), sampler.sample(6, seed=4))
    np.testing.assert_allclose(loaded.score_codes(vae.transform(X)), sampler.score_codes(vae.transform(X)))
    with pytest.raises(FileExistsError):
        sampler.save(tmp_path / "mixture")


def test_posterior_mixture_sampler_makes_an_autoencoder_generative(X):
    ae = Autoencoder(latent_dim=2, network=NET, epochs=2, device="cpu").fit(X)
    assert PosteriorMixtureSampler(3, covariance_type="diag").fit(ae, X).sample(3, seed=0).shape == (3, 12)


def test_two_layer_is_nll_is_finite_and_above_its_elbo_on_mnist(data_dir):
    from vaelab.data import load_mnist
    from vaelab.metrics import elbo_terms, importance_sampled_log_likelihood

    torch.set_num_threads(1)
    x_train, _ = load_mnist(data_dir / "mnist", split="train")
    x_test, _ = load_mnist(data_dir / "mnist", split="test")
    rng = np.random.default_rng(0)
    train = (rng.random((3000, 784)) < x_train[:3000].reshape(-1, 784) / 255).astype(np.float32)
    test = torch.from_numpy((rng.random((200, 784)) < x_test[:200].reshape(-1, 784) / 255).astype(np.float32))
    net = {"kind": "mlp", "hidden_dims": [200, 200], "activation": "tanh"}  # Burda et al.'s, at 20 + 10 units
    vae = VAE(latent_dim=20, network=net, stochastic_layers=2, epochs=3, device="cpu", seed=0).fit(train)
    module = vae.module_
    assert module.prior_latent_dim == 10 and module.config.top_hidden_dims == (100, 100)
    with torch.no_grad():
        g = torch.Generator().manual_seed(0)
        is_ll = importance_sampled_log_likelihood(module, test, k=64, generator=g)
        elbo = elbo_terms(module, test, n_samples=64, generator=g).elbo
    assert torch.isfinite(is_ll).all()
    assert float(is_ll.mean()) > float(elbo.mean())  # the IS bound is tighter: NLL below -ELBO
    assert -200 < float(is_ll.mean()) < -80


def test_the_estimator_trains_under_its_kl_schedule(X):
    class Seen(vaelab.training.Callback):
        betas: list[float] = []

        def on_step_end(self, trainer, output) -> None:
            self.betas.append(trainer.module.beta)

    seen = Seen()
    vae = tiny(kl_schedule="warmup:4", beta=2.0).fit(X, callbacks=[seen])  # 3 steps per epoch, 2 epochs
    assert seen.betas == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.0])
    assert vae.module_.beta == 2.0
