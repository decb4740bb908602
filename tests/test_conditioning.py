"""Conditioning core: models with condition_dim > 0, tuple batches in the trainer and the sources."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor

from vaelab.data import InMemorySource, MemmapSource
from vaelab.data.streaming import LoaderSource
from vaelab.errors import InputError
from vaelab.estimators.neural import binarize
from vaelab.models import AutoencoderConfig, AutoencoderModel, VAEConfig, VAEModel
from vaelab.nn import NetworkConfig
from vaelab.training import Callback, Trainer, TrainerConfig


pytestmark = pytest.mark.usefixtures("single_thread")


def _one_hot(labels: Tensor, k: int) -> Tensor:
    return torch.nn.functional.one_hot(labels, k).float()


@pytest.mark.parametrize(
    ("shape", "network"),
    [((10,), NetworkConfig("mlp", (16,))), ((1, 8, 8), NetworkConfig("mlp", (16,))), ((8, 8), NetworkConfig("conv", (4, 8))),
     ((3, 8, 8), NetworkConfig("conv", (4, 8)))],
)
@pytest.mark.parametrize("model_class", [AutoencoderModel, VAEModel])
def test_conditional_shapes(shape, network, model_class) -> None:
    config_class = VAEConfig if model_class is VAEModel else AutoencoderConfig
    model = model_class(config_class(input_shape=shape, latent_dim=3, network=network, condition_dim=4,
                                     likelihood={"name": "bernoulli"}))
    x, c = torch.rand(5, *shape), _one_hot(torch.tensor([0, 1, 2, 3, 0]), 4)
    assert model.encode(x, c).mean.shape == (5, 3)
    assert model.decode(torch.zeros(5, 3), c).shape == (5, *shape)
    assert model.reconstruct(x, c).shape == (5, *shape)
    out = model(x, c)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    # the condition reaches both networks: another c changes the code and the decoded mean
    c2 = _one_hot(torch.tensor([1, 2, 3, 0, 1]), 4)
    assert not torch.allclose(model.encode(x, c).mean, model.encode(x, c2).mean)
    assert not torch.allclose(model.decode_mean(torch.zeros(5, 3), c), model.decode_mean(torch.zeros(5, 3), c2))


def test_missing_or_unexpected_condition_is_an_error() -> None:
    conditional = VAEModel(VAEConfig(input_shape=(6,), latent_dim=2, condition_dim=3))
    plain = VAEModel(VAEConfig(input_shape=(6,), latent_dim=2))
    x = torch.rand(4, 6)
    with pytest.raises(InputError, match=r"conditional \(condition_dim=3\) and needs c"):
        conditional(x)
    with pytest.raises(InputError, match="unconditional"):
        plain(x, torch.zeros(4, 3))
    with pytest.raises(InputError, match=r"c must be a float tensor of shape \(4, 3\)"):
        conditional(x, torch.zeros(4, 2))
    with pytest.raises(InputError, match="c must be a float tensor"):
        conditional(x, torch.zeros(4, 3, dtype=torch.long))
    with pytest.raises(InputError, match="condition_dim must be an int >= 0"):
        VAEConfig(input_shape=(6,), latent_dim=2, condition_dim=-1)
    # an unconditional model's parameters are named as before (old checkpoints still load)
    assert any(k.startswith("encoder.net.0") for k in plain.state_dict())


def _two_class_data(n: int = 200) -> tuple[Tensor, Tensor]:
    """Class 0 lights the first half of 10 pixels, class 1 the second half (plus noise)."""
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % 2
    means = torch.zeros(2, 10)
    means[0, :5], means[1, 5:] = 0.9, 0.9
    x = (means[labels] + 0.05 * torch.rand(n, 10, generator=g)).clamp(0, 1)
    return x, labels


def test_conditional_vae_trains_on_tuple_batches_and_uses_the_condition() -> None:
    x, labels = _two_class_data()
    c = _one_hot(labels, 2)
    torch.manual_seed(0)
    model = VAEModel(VAEConfig(input_shape=(10,), latent_dim=2, network=NetworkConfig("mlp", (32,)), condition_dim=2))
    source = InMemorySource(x, batch_size=32, seed=0, condition=c)
    history = Trainer(TrainerConfig(epochs=15, device="cpu", learning_rate=5e-3)).fit(model, source)
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    model.eval()
    with torch.no_grad():  # decoding the prior mean under each label gives that class's pixels
        z = torch.zeros(2, 2)
        means = model.decode_mean(z, torch.eye(2))
    assert means[0, :5].mean() > 0.7 and means[0, 5:].mean() < 0.3
    assert means[1, 5:].mean() > 0.7 and means[1, :5].mean() < 0.3


def test_transform_applies_to_the_examples_only() -> None:
    seen: list[tuple[Tensor, Tensor]] = []

    class Spy(Callback):
        pass

    class Recorder(VAEModel):
        def forward(self, x, c=None, *, generator=None):
            seen.append((x.clone(), c.clone()))
            return super().forward(x, c, generator=generator)

    x, labels = _two_class_data(40)
    c = _one_hot(labels, 2) * 0.5  # not binary: binarization would change it
    model = Recorder(VAEConfig(input_shape=(10,), latent_dim=2, network=NetworkConfig("mlp", (8,)), condition_dim=2))
    Trainer(TrainerConfig(epochs=1, device="cpu"), [Spy()], transform=binarize).fit(
        model, InMemorySource(x, batch_size=16, seed=0, condition=c)
    )
    assert all(set(xb.unique().tolist()) <= {0.0, 1.0} for xb, _ in seen)  # binarized
    assert all(set(cb.unique().tolist()) <= {0.0, 0.5} for _, cb in seen)  # untouched


def _crash_at(step: int) -> Callback:
    class Crash(Callback):
        def on_step_start(self, trainer: Trainer) -> None:
            if trainer.state.step == step:
                raise RuntimeError("simulated crash")

    return Crash()


def test_conditional_resume_is_bit_identical(tmp_path: Path) -> None:
    x, labels = _two_class_data(150)
    c = _one_hot(labels, 2)
    train = InMemorySource(x, batch_size=32, seed=1, condition=c)
    valid = InMemorySource(x[:40], batch_size=32, seed=1, condition=c[:40])

    def model() -> VAEModel:
        torch.manual_seed(0)
        return VAEModel(VAEConfig(input_shape=(10,), latent_dim=2, network=NetworkConfig("mlp", (16,)), condition_dim=2))

    full = model()
    Trainer(TrainerConfig(epochs=3, device="cpu", seed=1), transform=binarize).fit(full, train, valid)
    config = TrainerConfig(epochs=3, device="cpu", seed=1, checkpoint_every_steps=3)
    with pytest.raises(RuntimeError, match="simulated"):
        Trainer(config, [_crash_at(8)], transform=binarize).fit(model(), train, valid, checkpoint_dir=tmp_path)
    resumed = model()
    torch.manual_seed(999)
    Trainer(config, transform=binarize).fit(resumed, train, valid, checkpoint_dir=tmp_path, resume=True)
    a, b = full.state_dict(), resumed.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_sources_carry_the_condition_row_aligned(tmp_path: Path) -> None:
    n = 37
    rows = np.arange(n, dtype=np.float32).reshape(n, 1)
    cond = np.arange(n, dtype=np.float32).reshape(n, 1) * 10  # c = 10 x, so alignment is checkable
    np.save(tmp_path / "a.npy", rows[:20])
    np.save(tmp_path / "b.npy", rows[20:])
    sources = [
        InMemorySource(rows, batch_size=8, seed=3, condition=cond),
        MemmapSource([tmp_path / "a.npy", tmp_path / "b.npy"], batch_size=8, seed=3, block_size=3, condition=cond),
    ]
    sources.append(LoaderSource(sources[1], num_workers=0))
    for source in sources:
        seen = []
        for xb, cb in source.iter_epoch(2):
            assert torch.equal(cb, xb * 10)
            seen += xb.flatten().tolist()
        assert sorted(seen) == rows.ravel().tolist()
        for xb, cb in source.iter_epoch(1, rank=1, world_size=3):  # a rank's part keeps the pairs together
            assert torch.equal(cb, xb * 10)
    with pytest.raises(InputError, match=r"condition must have shape \(n, K\) with n = 37"):
        InMemorySource(rows, batch_size=8, seed=0, condition=cond[:5])
