"""Saving and loading: config.json + safetensors, atomic writes, clear errors on bad files."""

from __future__ import annotations

import json
import pickle  # used only to forge a pickle file that vaelab must refuse
from pathlib import Path

import numpy as np
import pytest
import torch

import vaelab
from vaelab import VAE, Autoencoder
from vaelab.errors import ModelFileError
from vaelab.serialization import atomic_directory, atomic_write_text


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    X = np.random.default_rng(0).random((32, 5), dtype=np.float32)
    path = tmp_path_factory.mktemp("models") / "vae"
    VAE(latent_dim=2, network={"kind": "mlp", "hidden_dims": [8]}, epochs=2, device="cpu").fit(X).save(path)
    return path


def copy_of(saved: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    target.mkdir()
    for f in saved.iterdir():
        (target / f.name).write_bytes(f.read_bytes())
    return target


def test_config_records_class_version_and_every_hyperparameter(saved):
    config = json.loads((saved / "config.json").read_text())
    assert config["class_name"] == "VAE" and config["vaelab_version"] == vaelab.__version__
    assert set(VAE().get_params()) == set(config["params"])
    assert config["model"]["config"]["network"]["hidden_dims"] == [8]
    assert config["fitted"]["input_shape"] == [5]


def test_history_is_saved_and_loaded(saved):
    model = vaelab.load(saved)
    assert [row["epoch"] for row in model.history_] == [1, 2]
    assert isinstance(model.history_[0]["train_loss"], float)


def test_unknown_class_is_refused(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    config = json.loads((path / "config.json").read_text())
    config["class_name"] = "GAN"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="unknown model class 'GAN'"):
        vaelab.load(path)


def test_tampered_config_is_refused(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    config = json.loads((path / "config.json").read_text())
    config["model"]["config"]["latent_dim"] = 7  # weights no longer fit
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="does not describe a valid VAE|do not match"):
        vaelab.load(path)


def test_malformed_json_is_refused(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    (path / "config.json").write_text('{"format": "vaelab.model", ')
    with pytest.raises(ModelFileError, match="not valid JSON"):
        vaelab.load(path)


def test_truncated_weights_are_refused(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        vaelab.load(path)


def test_pickles_are_refused_without_being_run(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    (path / "model.safetensors").write_bytes(pickle.dumps({"weights": [1, 2, 3]}, protocol=4))
    with pytest.raises(ModelFileError, match="pickle"):
        vaelab.load(path)
    torch.save({"w": torch.zeros(2)}, path / "model.safetensors")  # torch.save's zip format
    with pytest.raises(ModelFileError, match="pickle or torch.save"):
        vaelab.load(path)


def test_missing_folder_and_foreign_config(tmp_path):
    with pytest.raises(ModelFileError, match="is not a folder with a saved vaelab model"):
        vaelab.load(tmp_path / "nowhere")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text('{"architectures": ["BertModel"]}')
    with pytest.raises(ModelFileError, match="not a vaelab model config"):
        vaelab.load(tmp_path / "other")


def test_newer_format_is_refused_with_advice(saved, tmp_path):
    path = copy_of(saved, tmp_path)
    config = json.loads((path / "config.json").read_text())
    config["format_version"] = 99
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="upgrade vaelab"):
        vaelab.load(path)


def test_save_never_overwrites_without_being_asked(saved, tmp_path):
    X = np.random.default_rng(0).random((16, 5), dtype=np.float32)
    model = Autoencoder(latent_dim=2, epochs=1, device="cpu").fit(X)
    path = copy_of(saved, tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(path)
    assert vaelab.load(path).__class__ is VAE  # the earlier model is intact
    model.save(path, overwrite=True)
    assert vaelab.load(path).__class__ is Autoencoder


def test_a_failed_write_leaves_the_earlier_folder_intact(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "keep.txt").write_text("earlier results")
    with pytest.raises(RuntimeError):
        with atomic_directory(target, overwrite=True) as tmp:
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("crash while writing")
    assert (target / "keep.txt").read_text() == "earlier results"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary folder left behind


def test_atomic_write_replaces_whole_files(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two" and len(list(tmp_path.iterdir())) == 1


def test_no_pickle_in_the_package():
    src = Path(vaelab.__file__).parent
    offenders = [
        str(p)
        for p in src.rglob("*.py")
        if any(word in p.read_text() for word in ("import pickle", "import cloudpickle", "torch.load(", "torch.save("))
    ]
    assert offenders == []


def test_saved_files_get_the_usual_permissions(tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    atomic_write_text(tmp_path / "f.txt", "x")
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_save_into_an_existing_empty_folder(tmp_path):
    import tempfile

    X = np.random.default_rng(0).random((16, 5), dtype=np.float32)
    model = Autoencoder(latent_dim=2, epochs=1, device="cpu").fit(X)
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        assert model.save(folder) == Path(folder)
        loaded = vaelab.load(folder)
        np.testing.assert_allclose(loaded.transform(X), model.transform(X), rtol=0, atol=0)
        with pytest.raises(FileExistsError, match="already holds files; pass overwrite=True"):
            model.save(folder)  # now it holds the model
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        model.save(tmp_path / "a-file", overwrite=True)
    assert (tmp_path / "a-file").read_text() == "x"


def test_load_accepts_a_run_directory(saved, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text('model = "vae"\n')
    with pytest.raises(ModelFileError, match="model/ is not saved yet.*vaelab resume"):
        vaelab.load(run)
    copy_of(saved, run).rename(run / "model")
    from_run, from_model = vaelab.load(run), vaelab.load(run / "model")
    X = np.random.default_rng(1).random((4, 5), dtype=np.float32)
    np.testing.assert_array_equal(from_run.transform(X), from_model.transform(X))
    with pytest.raises(ModelFileError, match="nor a run directory"):
        vaelab.load(tmp_path / "nowhere")


def test_a_safetensors_header_that_starts_like_a_pickle_still_loads(tmp_path):
    """A header of 1,408 bytes is b'\\x80\\x05...' little-endian, the same two bytes as pickle protocol 5."""
    from vaelab.serialization import PICKLE_PREFIXES, load_tensors, save_tensors

    path = tmp_path / "w.safetensors"
    weights = {"w": torch.arange(6.0).reshape(2, 3)}
    for pad in range(1500):
        save_tensors(path, weights, metadata={"note": "x" * pad})
        if path.read_bytes().startswith(PICKLE_PREFIXES):
            break
    assert path.read_bytes()[:2] in PICKLE_PREFIXES  # the collision was built
    torch.testing.assert_close(load_tensors(path)["w"], weights["w"])
