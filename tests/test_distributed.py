"""Data-parallel training: 2 gloo processes on this machine against 1 process.

One ``torchrun`` launch (through :func:`vaelab.training.distributed.launch`)
runs this file as the worker, on localhost only; the workers write their
results to a folder and the test compares them with runs made here.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch

from vaelab.data import InMemorySource
from vaelab.estimators.neural import binarize
from vaelab.models import AutoencoderConfig, AutoencoderModel, VAEConfig, VAEModel
from vaelab.serialization import load_tensors, save_tensors
from vaelab.training import Callback, Trainer, TrainerConfig, distributed

N, D, BATCH, EPOCHS = 203, 12, 32, 2  # 7 global batches, the last of 11 rows (split 5 + 6)
STOP_AT, EVERY = 10, 3  # interrupted in epoch 2, resumed from the step-9 checkpoint


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is faster, and immune to other busy processes
    yield
    torch.set_num_threads(threads)


def _data() -> torch.Tensor:
    return torch.rand(N, D, generator=torch.Generator().manual_seed(0))


def _model(kind: str) -> torch.nn.Module:
    torch.manual_seed(0)
    if kind == "ae":
        return AutoencoderModel(AutoencoderConfig(input_shape=(D,), latent_dim=3))
    return VAEModel(VAEConfig(input_shape=(D,), latent_dim=3))


class _Crash(Callback):
    def on_step_start(self, trainer: Trainer) -> None:
        if trainer.state.step == STOP_AT:
            raise RuntimeError("simulated crash")


def _train(
    kind: str, checkpoint_dir: Path, *, crash: bool = False, resume: bool = False
) -> tuple[torch.nn.Module, list]:
    model = _model(kind)
    x = _data()
    config = TrainerConfig(epochs=EPOCHS, device="cpu", seed=3, checkpoint_every_steps=EVERY)
    trainer = Trainer(config, [_Crash()] if crash else [], transform=binarize if kind == "vae" else None)
    history = trainer.fit(
        model,
        InMemorySource(x, batch_size=BATCH, seed=3),
        InMemorySource(x[:50], batch_size=BATCH, seed=3),
        checkpoint_dir=checkpoint_dir,
        resume=resume,
    )
    return model, history


def _worker(out: Path) -> None:
    """Run under torchrun: each model uninterrupted, then crashed and resumed."""
    import time

    started = time.perf_counter()
    rank, world = distributed.rank_and_world() if distributed.init_from_env("cpu") else (0, 1)
    results = {"world_size": world}
    for kind in ("ae", "vae"):
        model, history = _train(kind, out / f"{kind}-full")
        try:
            _train(kind, out / f"{kind}-resumed", crash=True)
        except RuntimeError:
            pass
        resumed, resumed_history = _train(kind, out / f"{kind}-resumed", resume=True)
        if rank == 0:
            save_tensors(out / f"{kind}-full.safetensors", model.state_dict())
            save_tensors(out / f"{kind}-resumed.safetensors", resumed.state_dict())
            results[kind] = {"full": history, "resumed": resumed_history}
    if rank == 0:
        results["worker_seconds"] = time.perf_counter() - started
        (out / "results.json").write_text(json.dumps(results))


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ddp")
    src = str(Path(__file__).parents[1] / "src")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    code = distributed.launch([__file__, str(out)], 2, env=env)
    assert code == 0, f"torchrun exited with {code}"
    return out


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], **tol: float) -> bool:
    close = (lambda u, v: torch.allclose(u, v, **tol)) if tol else torch.equal
    return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)


def test_two_processes_match_one_with_the_same_global_batch(two_process_run: Path, tmp_path: Path) -> None:
    results = json.loads((two_process_run / "results.json").read_text())
    assert results["world_size"] == 2
    one, history = _train("ae", tmp_path / "one")  # the deterministic autoencoder: equal up to rounding
    two = load_tensors(two_process_run / "ae-full.safetensors")
    assert _same(one.state_dict(), two, rtol=1e-4, atol=1e-6)
    for row1, row2 in zip(history, results["ae"]["full"], strict=True):
        assert row1["step"] == row2["step"] == row1["epoch"] * 7  # every rank took every global step
        for key in ("train_loss", "valid_loss"):
            assert row2[key] == pytest.approx(row1[key], rel=1e-5)


def test_two_process_run_resumes_exactly(two_process_run: Path) -> None:
    results = json.loads((two_process_run / "results.json").read_text())
    for kind in ("ae", "vae"):  # the VAE's noise and binarization differ by rank; each rank's RNG is restored
        full = load_tensors(two_process_run / f"{kind}-full.safetensors")
        resumed = load_tensors(two_process_run / f"{kind}-resumed.safetensors")
        assert _same(full, resumed), kind
        # the epoch's running sums were all-reduced at the checkpoint: the same sum in another order
        full_loss, resumed_loss = results[kind]["full"][-1]["train_loss"], results[kind]["resumed"][-1]["train_loss"]
        assert resumed_loss == pytest.approx(full_loss, rel=1e-6)
    # the checkpoints were written by rank 0 alone, into one folder
    assert (two_process_run / "vae-resumed" / "latest").is_file()


def test_launch_checks_its_arguments() -> None:
    from vaelab.errors import InputError

    with pytest.raises(InputError, match="nproc"):
        distributed.launch(["x.py"], 0)
    with pytest.raises(InputError, match="argv"):
        distributed.launch([], 2)
    assert distributed.rank_and_world() == (0, 1) and distributed.is_main_process()


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
