"""``vaelab.metrics.evaluate`` gives what ``vaelab evaluate`` saves: settings, figures, MIG, JSON-able values.

Each case compares the library call with the command line's
``compute_metrics`` on the same tiny model (timings aside), so that the two
cannot drift apart; and the metrics load first in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vaelab import PCA, VAE
from vaelab.data import make_shapes
from vaelab.errors import InputError
from vaelab.metrics import evaluate

SRC = Path(__file__).resolve().parents[1] / "src"
TIMINGS = ("nll_seconds", "nll_samples_per_second")
TINY = {"latent_dim": 2, "network": {"kind": "mlp", "hidden_dims": [8]}, "epochs": 2, "batch_size": 32, "device": "cpu"}


def untimed(metrics: dict) -> dict:
    """``metrics`` without the wall-clock figures, which differ from run to run."""
    return {k: v for k, v in metrics.items() if k not in TIMINGS}


@pytest.fixture(scope="module")
def compute_metrics():
    """The command line's ``compute_metrics`` (imported here: a broken CLI fails these tests only)."""
    from vaelab.runs.evaluation import run_metrics as compute_metrics

    return compute_metrics


@pytest.fixture(scope="module")
def grey() -> np.ndarray:
    return np.random.default_rng(0).random((48, 12)).astype("float32")


def test_a_vae_on_binarized_data_gets_what_the_command_line_saves(compute_metrics, grey: np.ndarray) -> None:
    vae = VAE(**TINY, binarize="dynamic", seed=0).fit(grey)
    cli = compute_metrics(vae, grey, seed=3, nll_samples=4)
    library = evaluate(vae, grey, seed=3, nll_samples=4, binarize_seed="auto")
    assert untimed(library) == untimed(cli) and list(library) == list(cli)
    assert library["n_examples"] == 48 and library["seed"] == 3 and library["binarize_seed"] == 123
    assert library["nll_samples"] == 4 and set(TIMINGS) <= set(library)
    assert json.loads(json.dumps(library, allow_nan=False)) == library
    plain = evaluate(vae, grey, seed=3)  # binarize_seed left out: X scored as given
    assert "binarize_seed" not in plain and "nll" not in plain and plain["elbo"] != library["elbo"]


def test_a_conditional_vae_is_measured_given_its_labels(compute_metrics, grey: np.ndarray) -> None:
    y = np.arange(48) % 3
    cvae = VAE(**TINY, conditional=True, binarize=False, seed=0).fit(grey, y)
    cli = compute_metrics(cvae, grey, y=y, seed=1, nll_samples=3)
    library = evaluate(cvae, grey, y, seed=1, nll_samples=3, binarize_seed="auto")
    assert untimed(library) == untimed(cli) and list(library) == list(cli)
    assert library["n_examples"] == 48 and library["nll_samples"] == 3 and "binarize_seed" not in library
    assert any("conditional model" in note for note in library["notes"])
    with pytest.raises(InputError, match="conditional; pass the labels"):
        evaluate(cvae, grey)
    unconditional = VAE(**TINY, binarize=False, seed=0).fit(grey)
    assert evaluate(unconditional, grey, y, seed=1) == evaluate(unconditional, grey, seed=1)  # y ignored


def test_known_factors_add_the_mutual_information_gap(compute_metrics) -> None:
    x, factors = make_shapes(120, seed=0)
    pca = PCA(latent_dim=3).fit(x)
    cli = compute_metrics(pca, x, factors=factors, seed=0)
    library = evaluate(pca, x, factors=factors)
    assert library == cli
    assert 0.0 <= library["mig"] <= 1.0 and len(library["mig_per_factor"]) == factors.shape[1]
    assert any(note.startswith("mig: Mutual Information Gap") for note in library["notes"])
    one_code = PCA(latent_dim=1).fit(x)
    assert "mig" not in evaluate(one_code, x, factors=factors)  # a gap needs two code dimensions


def test_bad_binarize_seed_is_a_clear_error(grey: np.ndarray) -> None:
    pca = PCA(latent_dim=2).fit(grey)
    with pytest.raises(InputError, match="binarize_seed must be an integer, 'auto' or None; got 'yes'"):
        evaluate(pca, grey, binarize_seed="yes")
    assert "binarize_seed" not in evaluate(pca, grey, binarize_seed="auto")  # PCA is never trained binarized


def test_the_metrics_import_first_in_a_fresh_interpreter_without_the_estimators() -> None:
    code = (
        "import sys\n"
        "from vaelab.metrics import evaluate, importance_sampled_log_likelihood\n"
        "assert 'vaelab.estimators' not in sys.modules, 'the metrics imported the estimators'\n"
        "import numpy as np\n"
        "from vaelab import PCA\n"
        "X = np.random.default_rng(0).random((20, 5))\n"
        "print(sorted(evaluate(PCA(latent_dim=2).fit(X), X)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(SRC)}
    )
    assert out.returncode == 0, out.stderr
    assert "'ppca_log_likelihood'" in out.stdout and "'n_examples'" in out.stdout
