"""Shared fixtures: where the real data lives, and small deterministic arrays."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """$VAELAB_DATA, else ../shared/data beside the repository."""
    return Path(os.environ.get("VAELAB_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = shared_data_dir()
    if not (path / "mnist").is_dir():
        pytest.skip(f"real data not found in {path}; set VAELAB_DATA to the shared data folder")
    return path


@pytest.fixture
def single_thread():
    """One torch thread for the test (tiny models: fastest, and steady on a shared machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def unit_images(rng: np.random.Generator) -> np.ndarray:
    """40 random 8x8 'images' in [0, 1], float32."""
    return rng.random((40, 8, 8), dtype=np.float32)


@pytest.fixture
def cut_run():
    """``cut(src, dst)``: copy the finished run ``src`` to ``dst`` as a crash in its last epoch leaves it.

    No model and no metrics, and the latest checkpoint moved back to the first epoch's. Returns the
    names of ``src``'s epoch checkpoints.
    """
    import shutil

    def cut(src: Path, dst: Path) -> list[str]:
        shutil.copytree(src, dst)
        shutil.rmtree(dst / "model")
        (dst / "metrics.json").unlink()
        checkpoints = sorted(p.name for p in (dst / "checkpoints").iterdir() if p.is_dir())
        shutil.rmtree(dst / "checkpoints" / checkpoints[-1])
        (dst / "checkpoints" / "latest").write_text(checkpoints[0])
        return checkpoints

    return cut
