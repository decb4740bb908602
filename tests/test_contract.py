"""One contract suite over every registered model (tiny configs).

A new model registered in ``ESTIMATORS`` must add a tiny configuration to
``TINY``; ``test_every_registered_model_has_a_tiny_config`` fails until it does.
Configurations of one estimator that build other modules or objectives
(``"VAE[two layers, iwae]"``) run through the same suite, and every module
class in ``MODELS`` must be built by one of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import vaelab
from vaelab.errors import InputError, NotFittedError
from vaelab.estimators import ESTIMATORS

NET = {"kind": "mlp", "hidden_dims": [16]}
TINY: dict[str, dict[str, Any]] = {
    "PCA": dict(latent_dim=3),
    "Autoencoder": dict(latent_dim=3, network=NET, epochs=3, batch_size=16, device="cpu", seed=0),
    "VAE": dict(latent_dim=3, network=NET, epochs=3, batch_size=16, device="cpu", seed=0),
    "VAEGAN": dict(latent_dim=3, network=NET, discriminator_dims=(16,), feature_dim=8, epochs=3, batch_size=16,
                   device="cpu", seed=0),
}
_VAE = TINY["VAE"]
TINY.update({
    "VAE[two layers, iwae dreg]": dict(_VAE, stochastic_layers=2, objective="iwae", k=3, gradient="dreg"),
    "VAE[vamp, iwae dreg]": dict(_VAE, prior={"name": "vamp", "components": 4}, objective="iwae", k=3, gradient="dreg"),
    "VAE[mog, warmup, free bits, tc]": dict(
        _VAE, prior={"name": "mog", "components": 3}, kl_schedule="warmup:5", free_bits=0.1, tc_beta=2.0
    ),
})
NAMES = sorted(TINY)
#: estimators of tables (DataFrames, not arrays): their own suite is tests/test_tabular.py
TABLE_MODELS = {"TabularVAE"}


def make(name: str, **overrides: Any):
    return ESTIMATORS.get(name.split("[")[0])(**{**TINY[name], **overrides})


def test_every_registered_model_has_a_tiny_config():
    assert sorted({name.split("[")[0] for name in TINY}) == [n for n in ESTIMATORS.names() if n not in TABLE_MODELS]


def test_every_module_class_is_built_by_a_tiny_config(fitted):
    from vaelab.models import MODELS

    assert {type(model.module_).__name__ for model in fitted.values()} == set(MODELS.names())


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    """48 structured 6x6 'images' in (0, 1): a rank-3 pattern plus a little noise."""
    rng = np.random.default_rng(1)
    low_rank = rng.normal(size=(48, 3)) @ rng.normal(size=(3, 36))
    return (1 / (1 + np.exp(-low_rank)) * 0.9 + 0.1 * rng.random((48, 36))).astype(np.float32).reshape(48, 6, 6)


@pytest.fixture(scope="module")
def fitted(X):
    return {name: make(name).fit(X) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_shapes(name, X, fitted):
    model = fitted[name]
    Z = model.transform(X)
    assert Z.shape == (48, 3) and Z.dtype == np.float32
    assert model.inverse_transform(Z).shape == (48, 6, 6)
    assert model.reconstruct(X).shape == (48, 6, 6)
    assert model.score_samples(X).shape == (48,)
    assert np.isfinite(model.score(X))
    assert model.fit_transform(X).shape == (48, 3)
    assert model.input_shape_ == (6, 6) and model.n_features_in_ == 36
    assert isinstance(model.module_, torch.nn.Module)


@pytest.mark.parametrize("name", NAMES)
def test_tensor_in_tensor_out(name, X, fitted):
    out = fitted[name].transform(torch.from_numpy(X))
    assert isinstance(out, torch.Tensor) and out.shape == (48, 3)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip_gives_identical_outputs(name, X, fitted, tmp_path):
    model = fitted[name]
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir() if p.suffix != ".csv") == ["config.json", "model.safetensors"]
    loaded = vaelab.load(tmp_path / "m")
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    np.testing.assert_array_equal(loaded.reconstruct(X), model.reconstruct(X))
    assert loaded.score(X) == model.score(X)


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_under_a_seed(name, X):
    a, b = make(name).fit(X), make(name).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


# a GAN's players play a game: no single scalar of theirs must fall (the VAE-GAN's test_vaegan.py checks its losses move)
@pytest.mark.parametrize("name", [n for n in NAMES if n != "VAEGAN"])
def test_fitting_lowers_the_loss_on_a_fixed_batch(name, X):
    model = make(name, **({} if name == "PCA" else {"epochs": 20, "learning_rate": 1e-2})).fit(X)
    batch = torch.from_numpy(X[:16])
    with torch.no_grad():
        fitted_loss = float(model.module_(batch, generator=torch.Generator().manual_seed(0)).loss)
        fresh = type(model.module_)(model.module_.config)  # untrained (PCA: all-zero components and mean)
        fresh_loss = float(fresh(batch, generator=torch.Generator().manual_seed(0)).loss)
    assert fitted_loss < fresh_loss


@pytest.mark.parametrize("name", [n for n in NAMES if n != "PCA"])
def test_one_gradient_step_lowers_the_loss(name, X):
    module = make(name).fit(X).module_.train()
    batch = torch.from_numpy(X[:16])
    loss = lambda: module(batch, generator=torch.Generator().manual_seed(0)).loss  # noqa: E731
    before = loss()
    opt = torch.optim.SGD(module.parameters(), lr=1e-3)
    opt.zero_grad()
    before.backward()
    opt.step()
    assert float(loss().detach()) < float(before.detach())


@pytest.mark.parametrize("name", NAMES)
def test_fit_works_inside_no_grad_and_keeps_the_global_rng(name, X):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    with torch.no_grad():
        make(name).fit(X)
    torch.testing.assert_close(torch.rand(3), expected)  # fitting neither needs grad mode nor consumes the user's RNG


@pytest.mark.parametrize("name", NAMES)
def test_fewer_rows_than_the_batch_size_still_train(name):
    X = np.random.default_rng(0).random((5, 4), dtype=np.float32)
    model = make(name, **({} if name == "PCA" else {"batch_size": 128, "validation_fraction": 0.0})).fit(X)
    assert model.transform(X).shape == (5, 3)
    if name != "PCA":
        assert [row["step"] for row in model.history_] == [1, 2, 3]  # one (short) batch per epoch, none skipped


@pytest.mark.parametrize("name", NAMES)
def test_transform_before_fit_is_a_clear_error(name, X):
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        make(name).transform(X)


BAD_INPUTS = [
    (np.full((10, 4), np.nan, dtype=np.float32), "NaN"),
    (np.array([[0.0, np.inf]] * 10, dtype=np.float32), "infinite"),
    (np.zeros((0, 4), dtype=np.float32), "empty"),
    (np.zeros(10, dtype=np.float32), r"shape \(n, d\)"),
    (np.array([["a", "b"]] * 10), "must hold numbers"),
    (np.zeros((10, 4), dtype=np.complex64), "Complex data not supported: X must hold real numbers"),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad,message", BAD_INPUTS, ids=["nan", "inf", "empty", "rank1", "strings", "complex"])
def test_bad_input_to_fit(name, bad, message):
    with pytest.raises(InputError, match=message):
        make(name).fit(bad)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_shape_at_transform(name, X, fitted):
    with pytest.raises(InputError, match=r"fitted on examples of shape \(6, 6\)"):
        fitted[name].transform(X.reshape(48, 36))
    with pytest.raises(InputError, match="Z has examples of shape"):
        fitted[name].inverse_transform(np.zeros((2, 5), dtype=np.float32))


@pytest.mark.parametrize("name", NAMES)
def test_uint8_images_are_scaled_to_unit_interval(name):
    X8 = np.random.default_rng(0).integers(0, 256, size=(30, 4, 4), dtype=np.uint8)
    a = make(name).fit(X8)
    b = make(name).fit(X8.astype(np.float32) / 255.0)
    np.testing.assert_allclose(a.transform(X8), b.transform(X8.astype(np.float32) / 255.0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_check_counts_every_bad_value(dtype):
    from vaelab.validation import as_tensor

    X = np.ones((50, 3), dtype=dtype)
    X[3, 1], X[7, 2], X[9, 0] = np.nan, np.inf, -np.inf
    with pytest.raises(InputError, match="1 NaN and 2 infinite"):
        as_tensor(X, keep_float64=True)


def test_huge_finite_float64_values_are_accepted():
    from vaelab.validation import as_tensor

    X = np.full((10, 2), 1e308)  # their float64 sum overflows; every value is finite
    assert as_tensor(X, keep_float64=True).dtype == torch.float64


def test_a_read_only_array_is_copied_without_a_warning(tmp_path):
    import warnings

    from vaelab.validation import as_tensor

    path = tmp_path / "x.npy"
    np.save(path, np.arange(12, dtype=np.float32).reshape(3, 4))
    mapped = np.load(path, mmap_mode="r")  # read-only
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns on a tensor over a non-writable array
        t = as_tensor(mapped)
    t += 1  # writable, and the file's rows unchanged
    assert float(t[0, 0]) == 1.0 and float(np.load(path)[0, 0]) == 0.0
