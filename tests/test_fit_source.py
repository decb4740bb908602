"""``fit_source``: the estimators trained on batch sources (data larger than memory)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import vaelab
from vaelab import VAE, Autoencoder
from vaelab.data import InMemorySource, LoaderSource, MemmapSource
from vaelab.errors import InputError

NET = {"kind": "mlp", "hidden_dims": [16]}
TINY: dict[str, Any] = dict(latent_dim=3, network=NET, epochs=2, batch_size=16, device="cpu", seed=3)


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    """48 6x6 'images' in [0, 1], float32."""
    return np.random.default_rng(1).random((48, 6, 6), dtype=np.float32)


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


@pytest.mark.parametrize("wrap", [lambda s: s, lambda s: LoaderSource(s, num_workers=0)], ids=["memory", "loader"])
def test_fit_source_on_the_same_batches_equals_fit(X, wrap):
    # fit(X) with no held-out part trains on InMemorySource(X, batch_size, seed): the same batches in the same order
    by_array = Autoencoder(**TINY, validation_fraction=0.0).fit(X)
    by_source = Autoencoder(**TINY, validation_fraction=0.0).fit_source(wrap(InMemorySource(X, batch_size=16, seed=3)))
    assert by_source.input_shape_ == by_array.input_shape_ == (6, 6)
    assert by_source.n_features_in_ == by_array.n_features_in_ == 36
    assert_same_weights(by_source.module_, by_array.module_)
    assert [r["train_loss"] for r in by_source.history_] == [r["train_loss"] for r in by_array.history_]
    np.testing.assert_array_equal(by_source.transform(X), by_array.transform(X))


def test_the_source_seed_sets_the_data_order(X):
    same = Autoencoder(**TINY, validation_fraction=0.0).fit_source(InMemorySource(X, batch_size=16, seed=3))
    other = Autoencoder(**TINY, validation_fraction=0.0).fit_source(InMemorySource(X, batch_size=16, seed=4))
    key = "encoder.net.0.weight"  # same initial weights (the estimator's seed), another data order (the source's)
    assert not torch.equal(same.module_.state_dict()[key], other.module_.state_dict()[key])


def test_fit_source_on_a_memmapped_npy_trains_and_round_trips(tmp_path):
    images = np.random.default_rng(2).integers(0, 256, size=(40, 4, 4), dtype=np.uint8)
    np.save(tmp_path / "train.npy", images)
    source = MemmapSource(tmp_path / "train.npy", batch_size=16, seed=0, block_size=8, window_blocks=2)
    model = VAE(**{**TINY, "epochs": 3}).fit_source(source)
    assert model.input_shape_ == (4, 4) and model.n_features_in_ == 16
    assert [row["step"] for row in model.history_] == [3, 6, 9]  # ceil(40 / 16) batches per epoch
    assert "valid_loss" not in model.history_[0]  # a source is never split: no validation without `valid`
    Z = model.transform(images)  # uint8 is scaled to [0, 1] here as in the stream
    assert Z.shape == (40, 3) and np.isfinite(Z).all()
    assert model.reconstruct(images).shape == (40, 4, 4)
    assert model.sample(2, seed=0).shape == (2, 4, 4)
    assert np.isfinite(model.score(images))
    loaded = vaelab.load(model.save(tmp_path / "model"))
    assert type(loaded) is VAE and loaded.input_shape_ == (4, 4) and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.transform(images), Z)
    assert len(loaded.history_) == 3


def test_valid_source_is_used_as_fit_uses_X_valid(X):
    X_train, X_valid = X[:40], X[40:]
    by_array = Autoencoder(**TINY).fit(X_train, X_valid=X_valid)
    valid = InMemorySource(X_valid, batch_size=256, seed=3)
    by_source = Autoencoder(**TINY).fit_source(InMemorySource(X_train, batch_size=16, seed=3), valid)
    losses = [row["valid_loss"] for row in by_source.history_]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert losses == [row["valid_loss"] for row in by_array.history_]
    assert_same_weights(by_source.module_, by_array.module_)  # restore_best picked the same epoch


class _HandMadeSource:
    """A source that says it holds ``num_examples`` examples of ``example_shape`` and yields ``batches``."""

    def __init__(self, num_examples: int, example_shape: tuple[int, ...], batches: list[torch.Tensor]) -> None:
        self.num_examples, self.example_shape, self.batch_size, self.batches = num_examples, example_shape, 16, batches

    def __len__(self) -> int:
        return len(self.batches)

    def iter_epoch(self, epoch: int, **kwargs: Any):
        return iter(self.batches)


def _source(data: np.ndarray, batch_size: int = 16) -> InMemorySource:
    return InMemorySource(data, batch_size=batch_size, seed=0)


BAD = {
    "array instead of a source": (dict(), lambda X: (X,), r"train must be a batch source .*got ndarray.*call fit\(X\)"),
    "path instead of a source": (dict(), lambda X: ("x.npy",), r"got str .*MemmapSource\(paths, batch_size=16"),
    "valid not a source": (dict(), lambda X: (_source(X), X[:8]), r"valid must be a batch source"),
    "empty source": (dict(), lambda X: (_HandMadeSource(0, (4,), []),), r"train is empty \(num_examples=0\)"),
    "batches unlike example_shape": (
        dict(),
        lambda X: (_HandMadeSource(8, (4,), [torch.zeros(8, 5)]),),
        r"train's first batch has shape \(8, 5\), but .*example_shape=\(4,\)",
    ),
    "1-d examples": (
        dict(),
        lambda X: (MemmapSource(np.zeros(10, np.float32), batch_size=16, seed=0),),
        r"train has examples of shape \(\), but examples must have shape \(d,\)",
    ),
    "4-d examples": (dict(), lambda X: (_source(X.reshape(48, 1, 1, 6, 6)),), r"examples of shape \(1, 1, 6, 6\)"),
    "valid of another shape": (
        dict(),
        lambda X: (_source(X), _source(X.reshape(48, 36))),
        r"valid has examples of shape \(36,\), but train has examples of shape \(6, 6\)",
    ),
    "batch sizes differ": (
        dict(),
        lambda X: (_source(X, batch_size=32),),
        r"batches of 32 examples, but this VAE has batch_size=16.*VAE\(batch_size=32",
    ),
    "data outside the likelihood's support": (
        dict(likelihood="bernoulli"),
        lambda X: (_source(X * 3),),
        r"the first batch of train has values in .* bernoulli likelihood needs values in \[0, 1\]",
    ),
    "NaN in the first batch": (
        dict(),
        lambda X: (_source(np.full_like(X, np.nan)),),
        r"the first batch of train contains \d+ NaN",
    ),
    "binarize without a Bernoulli": (
        dict(binarize="dynamic", likelihood="gaussian"),
        lambda X: (_source(X),),
        r"binarize='dynamic' needs likelihood='bernoulli'",
    ),
    "bad estimator parameter": (dict(epochs=0), lambda X: (_source(X),), r"epochs must be an integer >= 1"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_is_a_clear_error_and_leaves_the_estimator_unfitted(X, case):
    params, args, message = BAD[case]
    model = VAE(**{**TINY, **params})
    with pytest.raises(InputError, match=message):
        model.fit_source(*args(X))
    assert not hasattr(model, "module_") and not hasattr(model, "input_shape_")
