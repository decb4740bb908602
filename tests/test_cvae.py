"""The conditional VAE estimator: VAE(conditional=True) with class labels, one-hot rows or attributes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vaelab import VAE, load
from vaelab.errors import InputError

D = 12


pytestmark = pytest.mark.usefixtures("single_thread")


def _two_classes(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class "a" lights pixels 0-5, class "b" pixels 6-11 (binary, with 5% flips); returns X, y, class means."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) % 2 == 0, "a", "b")
    means = np.full((2, D), 0.05, dtype=np.float32)
    means[0, :6], means[1, 6:] = 0.95, 0.95
    X = (rng.random((n, D)) < means[(y == "b").astype(int)]).astype(np.float32)
    return X, y, means


@pytest.fixture(scope="module")
def cvae() -> tuple[VAE, np.ndarray, np.ndarray, np.ndarray]:
    X, y, means = _two_classes()
    vae = VAE(latent_dim=2, network={"kind": "mlp", "hidden_dims": [32]}, conditional=True, epochs=40,
              batch_size=64, learning_rate=5e-3, device="cpu", validation_fraction=0.1)
    return vae.fit(X, y), X, y, means


def test_cvae_puts_class_specific_means_where_they_belong(cvae) -> None:
    vae, _, _, means = cvae
    assert vae.condition_encoding_.classes == ["a", "b"]
    for k, label in enumerate(["a", "b"]):
        samples = vae.sample(500, y=label, seed=k)  # E[x|z], z ~ p(z), decoded under the label
        assert samples.shape == (500, D)
        assert np.abs(samples.mean(0) - means[k]).max() < 0.15, (label, samples.mean(0).round(2))
    # an unconditional VAE on the same data cannot do this: its samples mix the classes
    X, _, _ = _two_classes()
    plain = VAE(latent_dim=2, network={"kind": "mlp", "hidden_dims": [32]}, epochs=2, device="cpu").fit(X)
    assert plain.sample(5, seed=0).shape == (5, D)


def test_cvae_methods_take_labels_in_every_form(cvae) -> None:
    vae, X, y, _ = cvae
    index = (y == "b").astype(int)
    one_hot = np.eye(2, dtype=np.float32)[index]
    z = vae.transform(X, y)
    assert z.shape == (len(X), 2)
    np.testing.assert_allclose(vae.transform(X, one_hot), z, atol=1e-6)
    assert vae.inverse_transform(z[:5], y[:5]).shape == (5, D)
    recon = vae.reconstruct(X, y)
    assert ((recon > 0.5) == (X > 0.5)).mean() > 0.85
    assert vae.score(X, y) == pytest.approx(float(vae.score_samples(X, y).mean()))
    # the label matters: decoding the same codes under the other class changes the output
    swapped = np.where(y == "a", "b", "a")
    assert np.abs(vae.inverse_transform(z, swapped) - vae.inverse_transform(z, y)).mean() > 0.3


def test_cvae_bad_labels_are_clear_errors(cvae) -> None:
    vae, X, y, _ = cvae
    with pytest.raises(InputError, match=r"one label per example \(400\), got 399 labels"):
        VAE(conditional=True, epochs=1, device="cpu").fit(X, y[:-1])
    with pytest.raises(InputError, match=r"needs labels: fit\(X, y\)"):
        VAE(conditional=True, epochs=1, device="cpu").fit(X)
    with pytest.raises(InputError, match=r"classes \['c'\] not seen in training; the model knows the classes \['a', 'b'\]"):
        vae.sample(3, y="c")
    with pytest.raises(InputError, match="this model is conditional"):
        vae.sample(3)
    with pytest.raises(InputError, match="one label per example"):
        vae.transform(X, y[:10])
    with pytest.raises(InputError, match="is unconditional"):
        VAE(latent_dim=2, epochs=1, device="cpu").fit(X).transform(X, y)


def test_integer_classes_reject_floats_and_unseen_values() -> None:
    X, y_str, _ = _two_classes(100)
    y = (y_str == "b").astype(np.int64) * 3 + 2  # classes 2 and 5
    vae = VAE(latent_dim=2, network={"kind": "mlp", "hidden_dims": [8]}, conditional=True, epochs=1,
              device="cpu").fit(X, y)
    assert vae.condition_encoding_.classes == [2, 5]
    assert vae.sample(2, y=5, seed=0).shape == (2, D)
    with pytest.raises(InputError, match=r"float labels \[2.5\]"):
        vae.sample(1, y=[2.5])
    with pytest.raises(InputError, match=r"classes \['7'\] not seen"):
        vae.sample(1, y=7)


def test_attribute_vectors_condition_the_model() -> None:
    X, y_str, _ = _two_classes(200)
    attributes = np.stack([(y_str == "b").astype(np.float32) * 0.8 + 0.1, np.linspace(0, 1, 200)], 1)
    vae = VAE(latent_dim=2, network={"kind": "mlp", "hidden_dims": [16]}, conditional=True, epochs=2,
              device="cpu").fit(X, attributes)
    assert vae.condition_encoding_.kind == "attributes" and vae.condition_dim_ == 2
    assert vae.sample(4, y=attributes[:4], seed=0).shape == (4, D)
    with pytest.raises(InputError, match=r"attributes of shape \(n, 2\)"):
        vae.sample(4, y=attributes[:4, :1])


def test_conditional_accuracy_needs_a_digit_model(cvae) -> None:
    from vaelab.metrics.conditional import conditional_accuracy, evaluate_conditional

    vae, X, y, _ = cvae
    with pytest.raises(InputError, match=r"28x28 images over the classes 0-9, got one over \['a', 'b'\]"):
        conditional_accuracy(vae)
    metrics = evaluate_conditional(vae, X, y)
    assert metrics["elbo"] == pytest.approx(vae.score(X, y)) and "conditional_accuracy" not in metrics


def test_cvae_round_trips_through_save_and_load(cvae, tmp_path: Path) -> None:
    vae, X, y, _ = cvae
    vae.save(tmp_path / "m")
    back = load(tmp_path / "m")
    assert back.conditional and back.condition_encoding_.classes == ["a", "b"]
    np.testing.assert_array_equal(back.transform(X, y), vae.transform(X, y))
    np.testing.assert_array_equal(back.sample(8, y="b", seed=3), vae.sample(8, y="b", seed=3))


def test_conditional_fit_source_reads_conditions_from_the_source() -> None:
    from vaelab.data import InMemorySource

    X, y, means = _two_classes(200)
    one_hot = np.eye(2, dtype=np.float32)[(y == "b").astype(int)]
    source = InMemorySource(X, batch_size=32, seed=0, condition=one_hot)
    vae = VAE(latent_dim=2, network={"kind": "mlp", "hidden_dims": [16]}, conditional=True, epochs=2, batch_size=32,
              device="cpu").fit_source(source)
    assert vae.condition_encoding_.classes == [0, 1]
    assert vae.sample(3, y=1, seed=0).shape == (3, D)
    with pytest.raises(InputError, match="sources that carry conditions"):
        VAE(conditional=True, batch_size=32, epochs=1, device="cpu").fit_source(InMemorySource(X, batch_size=32, seed=0))
