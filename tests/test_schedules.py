"""KL schedules: values at given steps, parsing, and a resumed run on the same curve."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vaelab.data import InMemorySource
from vaelab.errors import InputError
from vaelab.models import VAEConfig, VAEModel
from vaelab.nn import NetworkConfig
from vaelab.training import Callback, KLScheduleCallback, Trainer, TrainerConfig, parse_kl_schedule


def test_schedule_values_at_given_steps():
    warm = parse_kl_schedule("warmup:100")
    assert [warm.weights(s, 1000, 2.0)[0] for s in (0, 25, 100, 500)] == [0.0, 0.5, 2.0, 2.0]
    cyc = parse_kl_schedule("cyclical:4:0.5")  # 4 cycles of 250 steps; rises over the first 125 of each
    assert [cyc.weights(s, 1000, 1.0)[0] for s in (0, 50, 125, 200, 250, 300, 999)] == pytest.approx(
        [0.0, 0.4, 1.0, 1.0, 0.0, 0.4, 1.0]
    )
    cap = parse_kl_schedule("capacity:25:100000:1000")
    assert cap.weights(0, 10, 1.0) == (1000.0, 0.0)
    assert cap.weights(50_000, 10, 1.0) == (1000.0, 12.5)
    assert cap.weights(200_000, 10, 1.0) == (1000.0, 25.0)
    assert parse_kl_schedule(None).weights(7, 10, 3.0) == (3.0, None)
    assert str(cap) == "capacity:25:100000:1000" and str(cyc) == "cyclical:4:0.5"


@pytest.mark.parametrize(
    "text,message",
    [
        ("warmup", "warmup takes 1 value"),
        ("warmup:abc", "STEPS must be an integer, got 'abc'"),
        ("warmup:0", "STEPS must be >= 1"),
        ("cyclical:4:1.5", r"RATIO in \(0, 1\]"),
        ("linear:10", "unknown kind 'linear'"),
        ("capacity:25:1000", "capacity takes 3 value"),
    ],
)
def test_unparsable_schedules_are_clear_errors(text, message):
    with pytest.raises(InputError, match=message) as info:
        parse_kl_schedule(text)
    assert "kl_schedule" in str(info.value)


class _Record(Callback):
    def __init__(self) -> None:
        self.seen: list[tuple[int, float]] = []

    def on_step_end(self, trainer, output) -> None:
        self.seen.append((trainer.state.step - 1, trainer.module.beta))


class _Crash(Callback):
    def on_step_start(self, trainer) -> None:
        if trainer.state.step == 7:
            raise RuntimeError("simulated crash")


def _vae() -> VAEModel:
    torch.manual_seed(0)
    return VAEModel(VAEConfig(input_shape=(6,), latent_dim=2, network=NetworkConfig("mlp", (8,))))


def test_the_trainer_follows_the_schedule_and_a_resumed_run_matches(tmp_path: Path):
    torch.set_num_threads(1)
    data = InMemorySource(torch.rand(64, 6, generator=torch.Generator().manual_seed(0)).round(), batch_size=16, seed=0)
    config = TrainerConfig(epochs=3, device="cpu", seed=0, checkpoint_every_steps=2)  # 4 steps per epoch, 12 in all
    record, full = _Record(), _vae()
    Trainer(config, [KLScheduleCallback("cyclical:2:0.5"), record]).fit(full, data, checkpoint_dir=tmp_path / "a")
    expected = [min(1.0, (s % 6) / 6 / 0.5) for s in range(12)]
    assert [b for _, b in record.seen] == pytest.approx(expected)
    assert full.beta == 1.0 and full.capacity is None  # restored at the end

    with pytest.raises(RuntimeError, match="simulated"):
        Trainer(config, [KLScheduleCallback("cyclical:2:0.5"), _Crash()]).fit(_vae(), data, checkpoint_dir=tmp_path / "b")
    resumed, record2 = _vae(), _Record()
    Trainer(config, [KLScheduleCallback("cyclical:2:0.5"), record2]).fit(resumed, data, checkpoint_dir=tmp_path / "b", resume=True)
    assert record2.seen == record.seen[6:]  # resumed from the step-6 checkpoint, on the same curve
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_capacity_schedule_drives_the_loss_to_the_target():
    model = _vae()
    x = torch.rand(16, 6, generator=torch.Generator().manual_seed(1)).round()
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    plain = model(x, generator=g())
    model.beta, model.capacity = 1000.0, 3.0
    out = model(x, generator=g())
    torch.testing.assert_close(out.loss, plain.reconstruction + 1000.0 * (plain.kl - 3.0).abs())
