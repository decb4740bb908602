"""Models trained on binarized data are scored on data binarized once with a recorded seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vaelab import VAE
from vaelab.cli import main
from vaelab.metrics import evaluate
from vaelab.metrics.discrete import BINARIZE_SEED, binarize_once

GREY_WARNING = "Bernoulli likelihood on grey levels"


@pytest.fixture(scope="module")
def grey() -> np.ndarray:
    from vaelab.data import load_digits

    x, _ = load_digits()
    return np.asarray(x[:200], dtype=np.float32)


def test_binarize_once_is_one_fixed_draw(grey):
    x = torch.from_numpy(grey)
    a = binarize_once(x, 7)
    assert torch.equal(a, binarize_once(x, 7)) and not torch.equal(a, binarize_once(x, 8))
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(a, torch.bernoulli(x, generator=torch.Generator().manual_seed(7)))  # each value ~ Bernoulli(x)
    assert abs(float(a.mean()) - float(x.mean())) < 0.01


def test_evaluate_with_binarize_seed_scores_the_binarized_data(grey):
    vae = VAE(latent_dim=2, epochs=1, network={"kind": "mlp", "hidden_dims": [16]}, binarize="dynamic", device="cpu")
    vae.fit(grey)
    plain = evaluate(vae, grey, sample_quality=False)
    assert any(GREY_WARNING in w for w in plain["warnings"])
    ours = evaluate(vae, grey, sample_quality=False, binarize_seed=5)
    by_hand = evaluate(vae, binarize_once(torch.from_numpy(grey), 5), sample_quality=False)
    assert not any(GREY_WARNING in w for w in ours["warnings"])
    assert ours["elbo"] == by_hand["elbo"] and ours["bce"] == by_hand["bce"]
    assert "drawn with seed 5 (binarize_seed)" in ours["notes"][0]
    with pytest.raises(ValueError, match=r"binarize_seed needs X with grey levels in \[0, 1\]"):
        evaluate(vae, grey * 2.0, binarize_seed=5)


def test_cli_run_trained_with_dynamic_binarization(grey, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    np.savez(tmp_path / "digits.npz", x=grey, y=np.zeros(len(grey), dtype=np.int64))
    run = tmp_path / "run"
    argv = ["train", "--data", tmp_path / "digits.npz", "--model", "vae", "--binarize", "dynamic", "--latent-dim", 2,
            "--epochs", 1, "--hidden-dims", 16, "--threads", 1, "--out", run]
    assert main([str(a) for a in argv]) == 0
    assert main(["evaluate", str(run), "--threads", "1"]) == 0
    out = capsys.readouterr()
    assert GREY_WARNING not in out.out + out.err
    assert out.out.count("binarize_seed") == 2  # in the tables of train and evaluate
    test = json.loads((run / "metrics.json").read_text())["test"]
    assert test["binarize_seed"] == BINARIZE_SEED
    assert f"drawn with seed {BINARIZE_SEED} (binarize_seed)" in test["notes"][0]
    assert not any(GREY_WARNING in w for w in test["warnings"])
