"""The run configuration of the command line: keys, types, precedence, TOML round trip."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from vaelab.cli.config import RunConfig
from vaelab.cli.errors import ConfigError, UsageError
from vaelab.data import Dataset


def config(**values: object) -> RunConfig:
    return RunConfig.from_dict({"data": "digits", **values}, source="test")


def dataset(x: np.ndarray, binary: bool = False) -> Dataset:
    return Dataset(name="d", x_train=x, y_train=None, x_test=None, y_test=None, binary=binary, description="d")


def test_unknown_key_names_it_and_the_nearest_valid_one() -> None:
    with pytest.raises(ConfigError, match=r"run.toml: unknown key 'latent_dims' \(did you mean 'latent_dim'\?\)"):
        RunConfig.from_dict({"data": "digits", "latent_dims": 2}, source="run.toml")


def test_keys_may_use_dashes_and_models_any_case() -> None:
    c = RunConfig.from_dict({"data": "digits", "latent-dim": 3, "model": "Autoencoder"}, source="t")
    assert (c.latent_dim, c.model, c.estimator_name) == (3, "autoencoder", "Autoencoder")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"latent_dim": "two"}, "'latent_dim' must be an integer, got 'two'"),
        ({"epochs": True}, "'epochs' must be an integer"),
        ({"hidden_dims": [64, "x"]}, "'hidden_dims' must be a list of integers"),
        ({"tensorboard": "yes"}, "'tensorboard' must be true or false"),
        ({"model": "vea"}, "did you mean 'vae'"),
        ({"network": "cnn"}, "network must be one of"),
        ({"likelihood": "poisson"}, "likelihood must be one of"),
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"validation_fraction": 1.0}, r"validation_fraction must be in \[0, 1\)"),
        ({"binarize": "dynamic", "likelihood": "gaussian"}, "binarize = 'dynamic' needs likelihood 'bernoulli'"),
        ({"data": ""}, "no data given"),
    ],
)
def test_bad_values_are_usage_errors_with_clear_messages(values: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        config(**values)


def test_floats_accept_integers() -> None:
    assert config(beta=2).beta == 2.0 and isinstance(config(beta=2).beta, float)


def test_command_line_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('data = "digits"\nlatent_dim = 3\nepochs = 7\nhidden_dims = [32, 16]\n')
    c = RunConfig.resolve(path, {"latent_dim": 5, "epochs": None, "model": None})
    assert (c.latent_dim, c.epochs, c.hidden_dims, c.model) == (5, 7, (32, 16), "vae")


def test_malformed_and_missing_files_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("latent_dim = \n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        RunConfig.resolve(bad, {})
    with pytest.raises(ConfigError, match="does not exist"):
        RunConfig.resolve(tmp_path / "missing.toml", {})


def test_toml_round_trip_is_complete(tmp_path: Path) -> None:
    c = config(model="autoencoder", hidden_dims=[8, 4], beta=0.5, patience=3, label_column="3")
    path = tmp_path / "config.toml"
    path.write_text(c.to_toml())
    assert RunConfig.load(path) == c
    assert set(c.to_dict()) == set(RunConfig.keys())


def test_estimator_params_go_only_where_they_apply() -> None:
    pca = config(model="pca", latent_dim=3, epochs=5).build_estimator()
    assert type(pca).__name__ == "PCA" and pca.get_params() == {"latent_dim": 3}
    vae = config(patience=0, binarize="dynamic", hidden_dims=[16], likelihood="bernoulli").build_estimator()
    params = vae.get_params()
    assert params["patience"] is None and params["binarize"] == "dynamic"
    assert params["network"] == {"kind": "mlp", "hidden_dims": [16], "activation": "relu"}


def test_auto_likelihood_follows_the_data() -> None:
    grey = np.random.default_rng(0).random((10, 4)).astype(np.float32)
    assert config(model="vae").resolved(dataset(grey)).likelihood == "bernoulli"
    assert config(model="autoencoder").resolved(dataset(grey)).likelihood == "gaussian"
    assert config(model="autoencoder").resolved(dataset(np.round(grey), binary=True)).likelihood == "bernoulli"
    assert config(model="vae").resolved(dataset(grey * 10 - 5)).likelihood == "gaussian"
    assert config(model="vae").resolved(dataset((grey * 255).astype(np.uint8))).likelihood == "bernoulli"
    assert config(likelihood="continuous_bernoulli").resolved(dataset(grey)).likelihood == "continuous_bernoulli"


def test_resolved_makes_paths_absolute_and_dims_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    c = dataclasses.replace(config(), data="x.npy").resolved(dataset(np.zeros((4, 3), np.float32)))
    assert Path(c.data).is_absolute() and c.data.endswith("x.npy")
    assert c.hidden_dims == (512,)
