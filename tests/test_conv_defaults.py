"""The conv network's documented defaults: 28x28 and 32x32, grey and RGB, normalization options, clear size errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaelab import VAE
from vaelab.errors import InputError
from vaelab.models import VAEConfig, VAEModel, config_from_dict, config_to_dict
from vaelab.nn import NetworkConfig


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28), (3, 28, 28), (32, 32), (1, 32, 32), (3, 32, 32)])
@pytest.mark.parametrize("norm", ["none", "batch", "group"])
def test_default_conv_fits_28_and_32_grey_and_rgb(shape, norm) -> None:
    net = NetworkConfig("conv", norm=norm)
    assert net.hidden_dims == (32, 64)
    model = VAEModel(VAEConfig(input_shape=shape, latent_dim=4, network=net))
    x = torch.rand(3, *shape)
    out = model(x)
    assert torch.isfinite(out.loss) and out.params.shape == (3, *shape)
    has_norm = any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.GroupNorm)) for m in model.modules())
    assert has_norm == (norm != "none")
    assert config_from_dict(VAEConfig, config_to_dict(model.config)) == model.config


def test_unsupported_size_names_the_supported_ones() -> None:
    with pytest.raises(InputError, match=r"divisible by 4, got 30x30 \(supported sizes include 28x28, 32x32, 64x64\)"):
        VAE(network="conv", epochs=1, device="cpu").fit(np.random.default_rng(0).random((8, 30, 30), dtype=np.float32))


def test_norm_is_checked() -> None:
    with pytest.raises(InputError, match="norm"):
        NetworkConfig("conv", norm="layer")
    with pytest.raises(InputError, match="applies to the conv network"):
        NetworkConfig("mlp", norm="batch")
    assert "norm" not in NetworkConfig("conv").to_dict()  # old configs stay byte-identical


def test_conv_vae_with_batch_norm_trains_and_round_trips(tmp_path) -> None:
    x = (np.random.default_rng(0).random((64, 1, 28, 28)) > 0.7).astype(np.float32)
    vae = VAE(latent_dim=2, network={"kind": "conv", "hidden_dims": [4, 8], "norm": "batch"}, epochs=2,
              batch_size=16, device="cpu").fit(x)
    vae.save(tmp_path / "m")
    from vaelab import load

    back = load(tmp_path / "m")
    np.testing.assert_array_equal(back.transform(x), vae.transform(x))  # running statistics saved too
