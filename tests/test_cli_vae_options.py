"""The VAE's objective, prior, schedule and latent options on the command line and in config.toml."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import vaelab
from vaelab.cli import main
from vaelab.runs import RunSpec
from vaelab.errors import InputError
from vaelab.runs.recipes import RECIPES

TINY = ["--hidden-dims", "16", "--batch-size", "32", "--threads", "1", "--quiet", "--epochs", "2", "--latent-dim", "4"]
OPTIONS = [
    "--objective", "iwae", "--k", "3", "--dreg", "--prior", "vamp", "--components", "6",
    "--kl-schedule", "warmup:20", "--beta", "0.5",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vaelab.data import load_digits

    root = tmp_path_factory.mktemp("vae_options")
    x, _ = load_digits()
    np.save(root / "digits.npy", (x[:200] > 8).astype(np.float32))
    return root


def test_options_reach_the_model_and_config_toml_repeats_the_run(data: Path):
    assert main(["train", "--data", str(data / "digits.npy"), *TINY, *OPTIONS, "--out", str(data / "a")]) == 0
    config = RunSpec.read(data / "a" / "config.toml").params
    assert (config["objective"], config["k"], config["gradient"]) == ("iwae", 3, "dreg")
    assert config["prior"] == {"name": "vamp", "components": 6}
    assert (config["kl_schedule"], config["beta"]) == ("warmup:20", 0.5)
    model = vaelab.load(data / "a" / "model")
    assert model.module_.objective.config() == {"name": "iwae", "k": 3, "gradient": "dreg"}
    assert model.module_.prior.config() == {"name": "vamp", "components": 6}
    assert model.get_params()["kl_schedule"] == "warmup:20"
    # the written config.toml, given back, trains the same model
    assert main(["train", "--config", str(data / "a" / "config.toml"), "--quiet", "--out", str(data / "b")]) == 0
    again = vaelab.load(data / "b" / "model")
    x = np.load(data / "digits.npy")[:20]
    np.testing.assert_array_equal(again.transform(x), model.transform(x))


def test_two_layers_and_tc_beta_from_the_command_line(data: Path):
    argv = ["train", "--data", str(data / "digits.npy"), *TINY, "--stochastic-layers", "2", "--tc-beta", "6",
            "--free-bits", "0.1", "--prior", "mog", "--out", str(data / "c")]
    assert main(argv) == 0
    model = vaelab.load(data / "c" / "model")
    assert type(model.module_).__name__ == "TwoLayerVAEModel"
    assert model.module_.objective.config()["tc_beta"] == 6.0 and model.get_params()["tc_beta"] == 6.0


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--stochastic-layers", "3"], "--stochastic-layers must be an integer in [1, 2], got 3"),
        (["--objective", "iwae", "--k", "0"], "--k must be an integer >= 1, got 0"),
        (["--free-bits", "-1"], "--free-bits must be a number >= 0, got -1.0"),
        (["--kl-schedule", "cyclical:4"], "kl_schedule 'cyclical:4': cyclical takes 2 value"),
        (["--prior", "mog", "--components", "-2"], "--components must be an integer >= 1, got -2"),
        (["--model", "autoencoder", "--objective", "iwae"], "objective is an option of model 'vae'; model 'autoencoder' does not take it"),
        (["--dreg"], "gradient='dreg' is an option of objective='iwae'"),
        (["--gradient", "dreg"], "gradient='dreg' is an option of objective='iwae'"),
        (["--model", "vaegan", "--tc-beta", "6"], "tc_beta is an option of model 'vae'; model 'vaegan' does not take it"),
        (["--recipe", "fastest"], "--recipe must be one of best"),
    ],
)
def test_bad_options_are_one_line_errors_and_leave_nothing(data: Path, capsys, argv, message):
    out = data / "bad"
    assert main(["train", "--data", str(data / "digits.npy"), *TINY, *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists()


def test_the_best_recipe_is_a_valid_config_under_the_command_line():
    spec = RunSpec.from_layers([RECIPES["best"], {"data": "mnist", "epochs": 3}])
    assert spec.value("epochs") == 3 and spec.params["prior"]["name"] == RECIPES["best"]["prior"]
    with pytest.raises(InputError, match="does not take it"):
        RunSpec.from_layers([RECIPES["best"], {"data": "mnist", "model": "pca"}])


def test_the_vaegan_takes_a_learned_prior(data: Path):
    out = data / "vaegan-vamp"
    argv = ["train", "--data", str(data / "digits.npy"), *TINY, "--model", "vaegan", "--prior", "vamp",
            "--components", "4", "--out", str(out)]
    assert main(argv) == 0
    model = vaelab.load(out / "model")
    assert type(model).__name__ == "VAEGAN" and model.module_.config.prior == {"name": "vamp", "components": 4}
