"""A run's options: names, values, precedence of the layers, and config.toml's round trip (vaelab.runs.spec)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vaelab.errors import InputError, OptionError
from vaelab.runs.spec import RunSpec, legacy_layer, read_layer


def spec(**values: object) -> RunSpec:
    return RunSpec.from_layers([{"data": "digits", **values}], sources=["test"])


def test_unknown_key_names_it_and_the_nearest_valid_one() -> None:
    with pytest.raises(OptionError, match=r"run.toml: unknown option 'latent_dims' \(did you mean 'latent_dim'\?\)"):
        RunSpec.from_layers([{"data": "digits", "latent_dims": 2}], sources=["run.toml"])


def test_keys_may_use_dashes_and_models_any_case() -> None:
    s = RunSpec.from_layers([{"data": "digits", "latent-dim": 3, "model": "Autoencoder"}])
    assert (s.value("latent_dim"), s.model, s.estimator) == (3, "autoencoder", "Autoencoder")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"latent_dim": "two"}, "latent_dim must be an integer >= 1, got 'two'"),
        ({"epochs": True}, "epochs must be an integer >= 1"),
        ({"hidden_dims": [64, "x"]}, "hidden_dims must be a list of integers"),
        ({"tensorboard": "yes"}, "tensorboard must be true or false"),
        ({"model": "vea"}, "did you mean 'vae'"),
        ({"activation": "rleu"}, "did you mean 'relu'"),
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"validation_fraction": 1.0}, r"validation_fraction must be a number in \[0, 1\), got 1.0"),
        ({"model": "pca", "free_bits": 3}, "free_bits is an option of model 'vae'; model 'pca' does not take it"),
    ],
)
def test_bad_values_are_option_errors_with_clear_messages(values: dict, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        spec(**values)


def test_the_estimator_checks_what_goes_together() -> None:
    with pytest.raises(OptionError, match="binarize='dynamic' needs likelihood='bernoulli'"):
        spec(binarize="dynamic", likelihood="gaussian").build_estimator()
    with pytest.raises(InputError, match="unknown network 'cnn'"):
        spec(network="cnn").build_estimator()


def test_floats_accept_integers() -> None:
    assert spec(beta=2).params["beta"] == 2.0 and isinstance(spec(beta=2).params["beta"], float)


def test_later_layers_override_earlier_ones(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('data = "digits"\nlatent_dim = 3\nepochs = 7\nhidden_dims = [32, 16]\n')
    s = RunSpec.from_layers([read_layer(path), {"latent_dim": 5, "epochs": None, "model": None}])
    assert (s.value("latent_dim"), s.value("epochs"), s.params["network"]["hidden_dims"], s.model) == (
        5, 7, (32, 16), "vae")


def test_malformed_and_missing_files_are_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("latent_dim = \n")
    with pytest.raises(InputError, match="is not valid TOML"):
        read_layer(bad)
    with pytest.raises(InputError, match="does not exist"):
        read_layer(tmp_path / "missing.toml")


def test_toml_round_trip_is_complete(tmp_path: Path) -> None:
    s = spec(model="autoencoder", hidden_dims=[8, 4], patience=3, label_column="3", likelihood="gaussian")
    path = tmp_path / "config.toml"
    path.write_text(s.to_toml())
    again = RunSpec.read(path)
    assert again.estimator == s.estimator
    for name in ("latent_dim", "network", "patience", "label_column", "likelihood", "epochs", "test_fraction"):
        assert again.value(name) == s.value(name), name


def test_the_estimator_table_has_the_form_of_config_json(tmp_path: Path) -> None:
    import tomllib

    document = tomllib.loads(spec(latent_dim=3).to_toml())
    assert document["format_version"] == 2 and document["estimator"]["class_name"] == "VAE"
    assert document["estimator"]["params"]["latent_dim"] == 3 and "patience" not in document["estimator"]["params"]


def test_params_go_only_to_the_estimator_that_takes_them() -> None:
    pca = spec(model="pca", latent_dim=3).build_estimator()
    assert type(pca).__name__ == "PCA" and pca.get_params() == {"latent_dim": 3}
    vae = spec(binarize="dynamic", hidden_dims=[16], likelihood="bernoulli").build_estimator()
    params = vae.get_params()
    assert params["patience"] is None and params["binarize"] == "dynamic"
    assert params["network"] == {"kind": "mlp", "hidden_dims": (16,)}


def test_the_spellings_of_earlier_versions_still_read() -> None:
    layer = legacy_layer({"dreg": True, "patience": 0, "kl_schedule": "", "components": 0, "binarize": "none"})
    assert layer == {"gradient": "dreg", "binarize": "none"}
    assert spec(binarize=False).params["binarize"] == "none"  # the Python value of earlier versions


def test_auto_likelihood_follows_the_data() -> None:
    from vaelab import VAE, Autoencoder

    grey = np.random.default_rng(0).random((64, 4)).astype(np.float32)
    tiny = {"latent_dim": 1, "epochs": 1, "device": "cpu", "network": {"kind": "mlp", "hidden_dims": [4]}}
    assert VAE(**tiny).fit(grey).likelihood_ == "bernoulli"
    assert Autoencoder(**tiny).fit(grey).likelihood_ == "gaussian"
    assert Autoencoder(**tiny).fit(np.round(grey)).likelihood_ == "bernoulli"
    assert VAE(**tiny).fit(grey * 10 - 5).likelihood_ == "gaussian"
    assert VAE(**tiny).fit((grey * 255).astype(np.uint8)).likelihood_ == "bernoulli"
    assert VAE(likelihood="continuous_bernoulli", **tiny).fit(grey).likelihood_ == "continuous_bernoulli"
