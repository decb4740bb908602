"""The trainer: exact resume, early stopping, and every fast path against the plain one.

Tiny models on one thread, so that the suite stays fast and is not at the
mercy of other processes on the machine.
"""

from __future__ import annotations

import math
import os
import select
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from vaelab.data import InMemorySource, MemmapSource
from vaelab.data.streaming import LoaderSource
from vaelab.errors import InputError
from vaelab.estimators.neural import binarize
from vaelab.models import AutoencoderConfig, AutoencoderModel, ModelOutput, VAEConfig, VAEModel
from vaelab.nn import NetworkConfig
from vaelab.training import Callback, Trainer, TrainerConfig, TrainingDiverged, load_checkpoint

D = 10


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _x(n: int = 150, seed: int = 0) -> Tensor:
    return torch.rand(n, D, generator=torch.Generator().manual_seed(seed))


def _vae() -> VAEModel:
    torch.manual_seed(0)
    return VAEModel(VAEConfig(input_shape=(D,), latent_dim=2, network=NetworkConfig("mlp", (16,))))


def _ae() -> AutoencoderModel:
    torch.manual_seed(0)
    return AutoencoderModel(AutoencoderConfig(input_shape=(D,), latent_dim=2, network=NetworkConfig("mlp", (16,))))


def _fit(model: nn.Module, train, valid=None, callbacks=(), transform=binarize, **config) -> list[dict]:
    options = {"epochs": 3, "device": "cpu", "seed": 1, **config}
    return Trainer(TrainerConfig(**options), list(callbacks), transform=transform).fit(model, train, valid, **_fit.kw)


_fit.kw = {}


def _params(model: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _equal(a: dict[str, Tensor], b: dict[str, Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class _Crash(Callback):
    def __init__(self, at_step: int) -> None:
        self.at_step = at_step

    def on_step_start(self, trainer: Trainer) -> None:
        if trainer.state.step == self.at_step:
            raise RuntimeError("simulated crash")


# ------------------------------------------------------------------ resume


def test_cosine_schedule_values() -> None:
    from vaelab.training.config import scheduled_lr

    assert scheduled_lr("constant", 0.1, 7, 10) == 0.1
    assert scheduled_lr("cosine", 0.1, 0, 10) == pytest.approx(0.1)
    assert scheduled_lr("cosine", 0.1, 5, 10) == pytest.approx(0.05)
    assert 0 < scheduled_lr("cosine", 0.1, 9, 10) < 0.003  # the last step still moves
    values = [scheduled_lr("cosine", 0.1, s, 10) for s in range(10)]
    assert values == sorted(values, reverse=True)
    with pytest.raises(InputError, match="lr_schedule must be one of"):
        TrainerConfig(lr_schedule="linear")


def test_cosine_run_resumes_on_the_same_curve(tmp_path: Path) -> None:
    x = _x()
    train = InMemorySource(x, batch_size=32, seed=1)  # 5 steps per epoch, 15 in all
    full = _ae()
    history = _fit(full, train, transform=None, lr_schedule="cosine", learning_rate=0.01)
    lrs = [row["lr"] for row in history]  # the step size of each epoch's last step
    assert lrs == pytest.approx([0.01 * 0.5 * (1 + math.cos(math.pi * s / 15)) for s in (4, 9, 14)])
    constant = _ae()
    _fit(constant, train, transform=None, learning_rate=0.01)
    assert not _equal(_params(full), _params(constant))
    config = TrainerConfig(epochs=3, device="cpu", seed=1, lr_schedule="cosine", learning_rate=0.01)
    with pytest.raises(RuntimeError, match="simulated"):
        Trainer(config, [_Crash(7)]).fit(_ae(), train, checkpoint_dir=tmp_path)
    resumed = _ae()
    Trainer(config).fit(resumed, train, checkpoint_dir=tmp_path, resume=True)
    assert _equal(_params(full), _params(resumed))



@pytest.mark.parametrize("crash_at", [4, 8, 11])  # resumes from step 3 (mid-epoch 1), 6 (mid-epoch 2), 10 (epoch end)
def test_interrupted_and_resumed_run_equals_uninterrupted(tmp_path: Path, crash_at: int) -> None:
    x = _x()
    train, valid = InMemorySource(x, batch_size=32, seed=1), InMemorySource(x[:40], batch_size=32, seed=1)
    full = _vae()  # 5 steps per epoch; noise, binarization and validation all draw random numbers
    history = Trainer(TrainerConfig(epochs=3, device="cpu", seed=1), transform=binarize).fit(full, train, valid)

    config = TrainerConfig(epochs=3, device="cpu", seed=1, checkpoint_every_steps=3)
    with pytest.raises(RuntimeError, match="simulated"):
        Trainer(config, [_Crash(crash_at)], transform=binarize).fit(_vae(), train, valid, checkpoint_dir=tmp_path)
    ckpt = load_checkpoint(tmp_path)
    assert ckpt.state["step"] == max(s for s in (3, 5, 6, 9, 10) if s <= crash_at)  # every 3 steps + epoch ends
    resumed = _vae()
    torch.manual_seed(12345)  # whatever the global RNG holds before: the checkpoint restores it
    history2 = Trainer(config, transform=binarize).fit(resumed, train, valid, checkpoint_dir=tmp_path, resume=True)
    assert _equal(_params(full), _params(resumed))
    for a, b in zip(history, history2, strict=True):
        assert {k: v for k, v in a.items() if k not in ("seconds", "samples_per_s")} == {
            k: v for k, v in b.items() if k not in ("seconds", "samples_per_s")
        }


def test_resume_without_checkpoint_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="resume"):
        Trainer(TrainerConfig(epochs=1, device="cpu")).fit(_vae(), InMemorySource(_x(), batch_size=32, seed=0),
                                                           checkpoint_dir=tmp_path, resume=True)


# --------------------------------------------------------- early stopping


class _Snapshots(Callback):
    def __init__(self) -> None:
        self.weights: list[dict[str, Tensor]] = []
        self.valid: list[float] = []

    def on_epoch_end(self, trainer: Trainer, row: dict) -> None:
        self.weights.append(_params(trainer.module))
        self.valid.append(row["valid_loss"])


def test_early_stopping_restores_the_best_weights() -> None:
    x = _x(200)
    train = InMemorySource(x, batch_size=20, seed=0)
    valid = InMemorySource(1.0 - x[:50] ** 0.25, batch_size=50, seed=0)  # unlike the training data: it gets worse
    snaps = _Snapshots()
    model = _ae()
    history = _fit(model, train, valid, [snaps], transform=None, epochs=40, patience=2, learning_rate=0.05)
    best = int(np.argmin(snaps.valid))
    assert len(history) < 40 and len(history) == best + 3  # stopped after 2 epochs without improvement
    assert _equal(_params(model), snaps.weights[best]) and not _equal(_params(model), snaps.weights[-1])


def test_divergence_is_reported() -> None:
    x = _x()
    x[3, 0] = math.nan
    with pytest.raises(TrainingDiverged, match="learning rate"):
        _fit(_ae(), InMemorySource(x, batch_size=32, seed=0), transform=None, epochs=1)


# ------------------------------------------------- fast paths = plain paths


def test_fused_and_plain_optimizer_give_close_parameters() -> None:
    train = InMemorySource(_x(), batch_size=16, seed=0)
    fused, plain = _vae(), _vae()
    _fit(fused, train, fused=True)
    _fit(plain, train, fused=False)
    a, b = _params(fused), _params(plain)
    assert all(torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-6) for k in a)


class _PerExampleSource:
    """The textbook path: a per-example Dataset and a DataLoader, in the same order as ``source``."""

    def __init__(self, source: InMemorySource) -> None:
        self.source, self.num_examples, self.batch_size = source, source.num_examples, source.batch_size

    def __len__(self) -> int:
        return len(self.source)

    def iter_epoch(self, epoch: int, *, start_batch: int = 0, rank: int = 0, world_size: int = 1):
        order = self.source.permutation(epoch).tolist()
        b = self.batch_size
        batches = [order[i : i + b] for i in range(0, len(order), b)][start_batch:]
        dataset = torch.utils.data.TensorDataset(self.source.tensor)
        # a generator of its own: by default a DataLoader draws its base seed from the global RNG
        loader = torch.utils.data.DataLoader(dataset, batch_sampler=batches, generator=torch.Generator())
        return (xb for (xb,) in loader)


def test_lean_loop_equals_the_per_example_dataloader_loop() -> None:
    source = InMemorySource(_x(), batch_size=16, seed=0)
    lean, plain = _vae(), _vae()
    h1 = _fit(lean, source)
    h2 = _fit(plain, _PerExampleSource(source))
    assert _equal(_params(lean), _params(plain))
    assert [r["train_loss"] for r in h1] == [r["train_loss"] for r in h2]


@pytest.mark.parametrize("workers", [0, 2])
def test_worker_loader_path_equals_in_process_path(tmp_path: Path, workers: int) -> None:
    rows = (_x(150).numpy() * 255).astype(np.uint8)
    np.save(tmp_path / "x.npy", rows)
    sources = {
        "memory": InMemorySource(rows, batch_size=16, seed=0),
        "memmap": MemmapSource(tmp_path / "x.npy", batch_size=16, seed=0, block_size=20, window_blocks=2),
    }
    for name, source in sources.items():
        direct, loaded = _vae(), _vae()
        _fit(direct, source, epochs=2)
        _fit(loaded, LoaderSource(source, num_workers=workers, prefetch_factor=2), epochs=2)
        assert _equal(_params(direct), _params(loaded)), name


def test_epoch_terms_are_the_example_weighted_mean_of_the_step_terms() -> None:
    class Steps(Callback):
        def __init__(self) -> None:
            self.terms: list[tuple[float, float]] = []

        def on_step_end(self, trainer: Trainer, output: ModelOutput) -> None:
            self.terms.append((float(output.loss.detach()), float(output.kl.detach())))

    steps = Steps()
    history = _fit(_vae(), InMemorySource(_x(70), batch_size=32, seed=0), callbacks=[steps], epochs=1)
    sizes = [32, 32, 6]
    expected = sum(n * loss for n, (loss, _) in zip(sizes, steps.terms)) / 70
    assert history[0]["train_loss"] == pytest.approx(expected, rel=1e-6)
    assert history[0]["train_kl"] == pytest.approx(sum(n * kl for n, (_, kl) in zip(sizes, steps.terms)) / 70, rel=1e-6)


class _Recorder(nn.Module):
    """A model that remembers which examples it saw (column 0 holds the example's id)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))
        self.seen: list[int] = []

    def forward(self, x: Tensor, *, generator=None) -> ModelOutput:
        self.seen += x[:, 0].round().long().tolist()
        loss = ((x - self.w) ** 2).mean()
        return ModelOutput(loss=loss, reconstruction=loss)


def test_memmap_training_sees_every_example_once_per_epoch(tmp_path: Path) -> None:
    n, epochs = 1000, 3
    rows = np.repeat(np.arange(n, dtype=np.float32)[:, None], 4, axis=1)
    for i, part in enumerate(np.array_split(rows, 3)):
        np.save(tmp_path / f"shard{i}.npy", part)
    source = MemmapSource(sorted(tmp_path.glob("shard*.npy")), batch_size=64, seed=2, block_size=50, window_blocks=3)
    for train in (source, LoaderSource(source, num_workers=2)):
        model = _Recorder()
        _fit(model, train, transform=None, epochs=epochs)
        per_epoch = [model.seen[e * n : (e + 1) * n] for e in range(epochs)]
        assert len(model.seen) == n * epochs
        assert all(sorted(ids) == list(range(n)) for ids in per_epoch)
        assert per_epoch[0] != per_epoch[1] != per_epoch[2] and per_epoch[0] != list(range(n))  # reshuffled


def test_trainer_config_checks() -> None:
    with pytest.raises(InputError, match="epochs"):
        TrainerConfig(epochs=0)
    with pytest.raises(InputError, match="checkpoint_every_steps"):
        TrainerConfig(checkpoint_every_steps=0)


# ----------------------------------------------------------------- progress


def test_progress_bar_draws_on_a_terminal_without_a_size() -> None:
    """A fresh pseudo-terminal reports 0 columns, as some CI consoles do: the bar still draws, at 100."""
    import pty

    from vaelab.training import ProgressBar

    leader, follower = pty.openpty()
    received = b""
    with os.fdopen(follower, "w") as stream:
        assert stream.isatty() and os.get_terminal_size(follower).columns == 0
        bar = ProgressBar(refresh_every=1, stream=stream)
        _fit(_ae(), InMemorySource(_x(), batch_size=32, seed=1), callbacks=[bar], transform=None, epochs=2)
        stream.flush()
        while select.select([leader], [], [], 0.2)[0]:
            received += os.read(leader, 65536)
    os.close(leader)
    text = received.decode()
    assert "epoch 1/2:" in text and "/5 [" in text  # tqdm's bar
    assert "epoch 2/2 train_loss=" in text and "samples/s" in text  # the line per epoch


# ------------------------------------------------------------------ denormals


class _FlushSeen(Callback):
    def __init__(self) -> None:
        self.seen: list[bool] = []

    def on_step_end(self, trainer: Trainer, output: ModelOutput) -> None:
        from vaelab._runtime import flushing_denormals

        self.seen.append(flushing_denormals())


@pytest.mark.skipif(not torch.set_flush_denormal(False), reason="this CPU cannot flush denormals")  # False: the default
@pytest.mark.parametrize("flush", [True, False])
def test_training_flushes_denormals_and_restores_the_setting(flush: bool) -> None:
    from vaelab._runtime import flushing_denormals

    torch.set_flush_denormal(False)
    seen = _FlushSeen()
    _fit(_vae(), InMemorySource(_x(), batch_size=50, seed=0), callbacks=[seen], epochs=1, flush_denormal=flush)
    assert seen.seen == [flush] * 3  # every step of the fit ran with denormals flushed, or none did
    assert not flushing_denormals()  # the caller's setting is back
    denormal = torch.tensor(1e-39, dtype=torch.float32)
    assert float(denormal * 1.0) > 0.0  # and denormals are arithmetic again


def test_denormals_flushed_leaves_a_flushing_caller_flushing() -> None:
    from vaelab._runtime import denormals_flushed, flushing_denormals

    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush denormals")
    try:
        with denormals_flushed():
            assert flushing_denormals()
        assert flushing_denormals()  # it was on before the block: the block does not turn it off
    finally:
        torch.set_flush_denormal(False)
