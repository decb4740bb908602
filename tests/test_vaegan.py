"""The VAE-GAN: its pure losses, three optimizers in the model-agnostic trainer, exact resume, save/load, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from vaelab import load
from vaelab.data import InMemorySource
from vaelab.errors import InputError
from vaelab.estimators import VAEGAN
from vaelab.estimators.neural import binarize
from vaelab.models import VAEGANConfig, VAEGANModel, config_from_dict, config_to_dict
from vaelab.nn import NetworkConfig
from vaelab.models.vaegan import discriminator_loss, feature_reconstruction, generator_loss
from vaelab.training import Callback, Trainer, TrainerConfig, load_checkpoint
from vaelab.training.optimizers import OptimizerSet


pytestmark = pytest.mark.usefixtures("single_thread")


def test_losses_against_their_formulas() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 7, generator=g), torch.randn(5, 7, generator=g)
    expected = torch.tensor([0.5 * sum((a[i, f] - b[i, f]).item() ** 2 for f in range(7)) for i in range(5)])
    torch.testing.assert_close(feature_reconstruction(a, b), expected)
    real, fake1, fake2 = torch.randn(3, 4, generator=g)
    d = torch.sigmoid
    dis = -(torch.log(d(real)) + torch.log(1 - d(fake1)) + torch.log(1 - d(fake2)))
    torch.testing.assert_close(discriminator_loss(real, fake1, fake2), dis)
    torch.testing.assert_close(generator_loss(fake1, fake2), -(torch.log(d(fake1)) + torch.log(d(fake2))))


def _model(shape=(1, 8, 8)) -> VAEGANModel:
    torch.manual_seed(0)
    return VAEGANModel(VAEGANConfig(input_shape=shape, latent_dim=3, network=NetworkConfig("conv", (4, 8)),
                                    discriminator_dims=(4, 8), feature_dim=16))


def _images(n: int = 96) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    x = torch.zeros(n, 1, 8, 8)
    x[: n // 2, :, 2:6, 2:6] = 0.9  # squares
    x[n // 2 :, :, :, 3:5] = 0.9  # bars
    return (x + 0.05 * torch.rand(n, 1, 8, 8, generator=g)).clamp(0, 1)


def test_each_player_moves_only_by_its_own_loss() -> None:
    model = _model()
    groups = model.optimizer_groups()
    assert list(groups) == ["encoder", "decoder", "discriminator"]
    opt = OptimizerSet(groups, lambda ps: torch.optim.SGD(ps, lr=1.0), 1.0)
    out = model(_images(8))
    dis, enc = groups["discriminator"]["params"], groups["encoder"]["params"]
    expected_dis = torch.autograd.grad(out.extra["discriminator_loss"], dis, retain_graph=True)
    expected_enc = torch.autograd.grad(out.extra["encoder_loss"], enc, retain_graph=True)
    everything = out.loss + out.extra["decoder_loss"] + out.extra["discriminator_loss"]
    total = torch.autograd.grad(everything, dis[:1], retain_graph=True)
    opt.backward(model.group_losses(out))
    # each player's gradient is that of its own loss alone, not of the total
    assert all(torch.equal(p.grad, e) for p, e in zip(dis, expected_dis))
    assert all(torch.equal(p.grad, e) for p, e in zip(enc, expected_enc))
    assert not torch.equal(total[0], dis[0].grad)
    # a group left out of the losses pauses: no gradient, and its weights do not move
    before = [p.detach().clone() for p in dis]
    opt.zero_grad()
    out = model(_images(8))
    opt.backward({"encoder": out.extra["encoder_loss"], "decoder": out.extra["decoder_loss"]})
    opt.step()
    assert all(p.grad is None for p in dis) and all(torch.equal(p, b) for p, b in zip(dis, before))


def test_short_run_moves_both_gan_losses_without_nan() -> None:
    model = _model()
    steps: list[dict[str, float]] = []

    class Record(Callback):
        def on_step_end(self, trainer, out) -> None:
            steps.append({k: float(v.detach()) for k, v in out.terms().items()})

    source = InMemorySource(_images(), batch_size=16, seed=0)
    Trainer(TrainerConfig(epochs=4, device="cpu", learning_rate=2e-3), [Record()], transform=binarize).fit(model, source)
    assert all(math.isfinite(v) for row in steps for v in row.values())
    dis = [row["discriminator_gan"] for row in steps]
    gen = [row["generator_gan"] for row in steps]
    assert np.std(dis) > 0.01 and np.std(gen) > 0.01
    assert abs(dis[-1] - dis[0]) > 0.05 and abs(gen[-1] - gen[0]) > 0.05


def _crash_at(step: int) -> Callback:
    class Crash(Callback):
        def on_step_start(self, trainer) -> None:
            if trainer.state.step == step:
                raise RuntimeError("simulated crash")

    return Crash()


def test_checkpoint_holds_every_optimizer_and_resumes_bit_identically(tmp_path: Path) -> None:
    source = InMemorySource(_images(), batch_size=32, seed=1)  # 3 steps per epoch
    full = _model()
    Trainer(TrainerConfig(epochs=3, device="cpu", seed=1), transform=binarize).fit(full, source)
    config = TrainerConfig(epochs=3, device="cpu", seed=1, checkpoint_every_steps=2, lr_schedule="cosine")
    full_cosine = _model()
    Trainer(config, transform=binarize).fit(full_cosine, source)
    with pytest.raises(RuntimeError, match="simulated"):
        Trainer(config, [_crash_at(5)], transform=binarize).fit(_model(), source, checkpoint_dir=tmp_path)
    ckpt = load_checkpoint(tmp_path)
    assert {g["optimizer"] for g in ckpt.optimizer["param_groups"]} == {"encoder", "decoder", "discriminator"}
    assert len(ckpt.optimizer["state"]) == sum(1 for p in full.parameters())  # Adam moments of every parameter
    resumed = _model()
    torch.manual_seed(77)
    Trainer(config, transform=binarize).fit(resumed, source, checkpoint_dir=tmp_path, resume=True)
    a, b = full_cosine.state_dict(), resumed.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_config_and_estimator_round_trip(tmp_path: Path) -> None:
    config = _model().config
    assert config_from_dict(VAEGANConfig, json.loads(json.dumps(config_to_dict(config)))) == config
    x = _images(64).numpy()
    gan = VAEGAN(latent_dim=2, network={"kind": "conv", "hidden_dims": [4, 8]}, discriminator_dims=(4, 8),
                 feature_dim=8, epochs=1, batch_size=16, device="cpu").fit(x)
    gan.save(tmp_path / "m")
    back = load(tmp_path / "m")
    assert isinstance(back, VAEGAN) and back.discriminator_dims == (4, 8) and back.pixel_weight == 1.0
    np.testing.assert_array_equal(back.sample(4, seed=0), gan.sample(4, seed=0))
    with pytest.raises(TypeError, match="unexpected keyword argument 'conditional'"):  # not its parameter
        VAEGAN(conditional=True, epochs=1, device="cpu")


def test_cli_trains_a_vaegan(tmp_path: Path) -> None:
    from vaelab.cli import main
    from vaelab.data import load_digits

    x, _ = load_digits()
    np.save(tmp_path / "digits.npy", x[:200])
    out = tmp_path / "run"
    argv = ["train", str(tmp_path / "digits.npy"), "--model", "vaegan", "--network", "conv", "--hidden-dims", "4,8",
            "--epochs", "1", "--batch-size", "32", "--latent-dim", "2", "--threads", "1", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    assert json.loads((out / "model" / "config.json").read_text())["class_name"] == "VAEGAN"
    assert "generator_gan" in (out / "history.csv").read_text()


def test_balance_pauses_the_winning_player() -> None:
    from vaelab.models.vaegan import balance

    assert balance(0.7, 0.7, 0.68, 0.35) == (True, True)  # near chance: both train
    assert balance(0.1, 0.7, 0.68, 0.35) == (False, True)  # the discriminator wins on the data: it pauses
    assert balance(0.7, 1.2, 0.68, 0.35) == (True, False)  # it loses on the fakes: the GAN term pauses
    assert balance(0.1, 1.2, 0.68, 0.35) == (True, True)  # both would pause: both train


def test_adversarial_weight_scales_only_the_decoders_gan_term() -> None:
    """The decoder's loss is gamma * feature + pixel_weight * pixel + a * GAN; the encoder's does not change."""
    x = _images(8)
    outputs = {}
    for a in (1.0, 7.0):
        torch.manual_seed(0)  # the same weights for both
        model = VAEGANModel(VAEGANConfig(input_shape=(1, 8, 8), latent_dim=3, network=NetworkConfig("conv", (4, 8)),
                                         discriminator_dims=(4, 8), feature_dim=16, balance=False,
                                         adversarial_weight=a))
        outputs[a] = model(x, generator=torch.Generator().manual_seed(3))
    one, seven = outputs[1.0], outputs[7.0]
    torch.testing.assert_close(seven.extra["generator_gan"], one.extra["generator_gan"])
    torch.testing.assert_close(seven.extra["decoder_loss"] - one.extra["decoder_loss"], 6.0 * one.extra["generator_gan"])
    torch.testing.assert_close(seven.extra["encoder_loss"], one.extra["encoder_loss"])
    with pytest.raises(InputError, match="adversarial_weight"):
        VAEGANConfig(input_shape=(1, 8, 8), latent_dim=3, adversarial_weight=-1.0)
    assert VAEGAN(adversarial_weight=5.0).get_params()["adversarial_weight"] == 5.0


def test_a_learned_prior_trains_with_the_encoder() -> None:
    # the VampPrior's pseudo-inputs enter the KL term, so they move with the encoder (they were once in no group)
    torch.manual_seed(0)
    model = VAEGANModel(VAEGANConfig(input_shape=(1, 8, 8), latent_dim=3, network=NetworkConfig("conv", (4, 8)),
                                     discriminator_dims=(4, 8), feature_dim=16,
                                     prior={"name": "vamp", "components": 5}))
    prior = list(model.prior.parameters())
    assert prior and all(any(p is q for q in model.optimizer_groups()["encoder"]["params"]) for p in prior)
    before = [p.detach().clone() for p in prior]
    source = InMemorySource(_images(), batch_size=16, seed=0)
    Trainer(TrainerConfig(epochs=1, device="cpu"), transform=binarize).fit(model, source)
    assert all(not torch.equal(p, b) for p, b in zip(model.prior.parameters(), before))


def test_optimizer_groups_must_cover_every_trainable_parameter() -> None:
    model = _model()
    groups = model.optimizer_groups()
    del groups["discriminator"]
    with pytest.raises(InputError, match="never train: discriminator"):
        OptimizerSet(groups, lambda ps: torch.optim.SGD(ps, lr=1.0), 1.0, model)


def test_critic_input_draw_shows_binary_draws_with_the_means_gradient() -> None:
    torch.manual_seed(0)
    cfg = VAEGANConfig(input_shape=(1, 8, 8), latent_dim=3, network=NetworkConfig("conv", (4, 8)),
                       discriminator_dims=(4, 8), feature_dim=16, critic_input="draw")
    model = VAEGANModel(cfg)
    logits = torch.randn(6, 1, 8, 8, requires_grad=True)
    view = model._critic_view(logits, torch.Generator().manual_seed(0))
    assert set(view.detach().unique().tolist()) <= {0.0, 1.0}  # binary, like binarized data
    (view * torch.arange(64.0).view(1, 1, 8, 8)).sum().backward()
    mean = torch.sigmoid(logits.detach())
    torch.testing.assert_close(logits.grad, (mean * (1 - mean)) * torch.arange(64.0).view(1, 1, 8, 8))
    out = model(_images(8), generator=torch.Generator().manual_seed(0))
    assert all(math.isfinite(float(v.detach())) for v in out.terms().values())
    with pytest.raises(InputError, match="critic_input"):
        VAEGANConfig(input_shape=(1, 8, 8), latent_dim=3, critic_input="sample")


def test_critic_input_auto_draws_on_binary_data_only() -> None:
    grey = _images(32).reshape(32, -1).numpy()
    small = dict(latent_dim=2, discriminator_dims=(8,), feature_dim=4, epochs=1, device="cpu", batch_size=16)
    assert VAEGAN(**small).fit(grey).module_.config.critic_input == "mean"
    assert VAEGAN(binarize="dynamic", **small).fit(grey).module_.config.critic_input == "draw"
    assert VAEGAN(**small).fit((grey > 0.5).astype("float32")).module_.config.critic_input == "draw"
    assert VAEGAN(critic_input="mean", binarize="dynamic", **small).fit(grey).module_.config.critic_input == "mean"
    with pytest.raises(InputError, match="critic_input must be"):
        VAEGAN(critic_input="samples", **small).fit(grey)


@pytest.mark.parametrize("option", [{"free_bits": 0.5}, {"tc_beta": 6.0}])
def test_elbo_options_the_vaegan_does_not_use_are_refused(option) -> None:
    with pytest.raises(TypeError, match="VAEGAN\\(\\) got an unexpected keyword argument"):  # not its parameters
        VAEGAN(latent_dim=2, epochs=1, device="cpu", **option)
