"""Networks and model configs: shapes, conv constraints, JSON round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaelab import VAE
from vaelab.errors import InputError
from vaelab.models import VAEConfig, VAEModel, config_from_dict, config_to_dict
from vaelab.nn import NetworkConfig, build_decoder, build_encoder


@pytest.mark.parametrize("shape", [(28, 28), (1, 28, 28), (3, 16, 16)])
def test_conv_encoder_decoder_shapes(shape):
    net = NetworkConfig(kind="conv", hidden_dims=(8, 16))
    enc, dec = build_encoder(net, shape, 6), build_decoder(net, 3, shape)
    x = torch.rand(2, *shape)
    assert enc(x).shape == (2, 6)
    assert dec(torch.randn(2, 3)).shape == (2, *shape)


def test_conv_rejects_sizes_that_do_not_halve():
    with pytest.raises(InputError, match="divisible by 4, got 10x10"):
        build_encoder(NetworkConfig(kind="conv", hidden_dims=(8, 16)), (10, 10), 4)
    with pytest.raises(InputError, match="use network='mlp' for vectors"):
        build_encoder(NetworkConfig(kind="conv"), (784,), 4)


def test_network_defaults_and_errors():
    assert NetworkConfig(kind="conv").hidden_dims == (32, 64)
    assert NetworkConfig().hidden_dims == (512,)
    with pytest.raises(InputError, match="did you mean 'conv'"):
        NetworkConfig(kind="cnv")
    with pytest.raises(InputError, match="unknown activation 'relu6'"):
        NetworkConfig(activation="relu6")
    with pytest.raises(InputError, match="hidden_dims must be positive integers"):
        NetworkConfig(hidden_dims=(16, 0))


def test_model_config_round_trips_through_json():
    config = VAEConfig(input_shape=(1, 8, 8), latent_dim=3, network=NetworkConfig("conv", (4, 8), "elu"), beta=2.5)
    assert config_from_dict(VAEConfig, config_to_dict(config)) == config
    model = VAEModel(config)
    assert model(torch.rand(4, 1, 8, 8)).params.shape == (4, 1, 8, 8)


def test_conv_vae_trains_on_images():
    X = np.random.default_rng(0).random((32, 8, 8), dtype=np.float32)
    vae = VAE(latent_dim=2, network={"kind": "conv", "hidden_dims": [4, 8]}, epochs=2, device="cpu").fit(X)
    assert vae.reconstruct(X).shape == (32, 8, 8)
    assert vae.sample(5, seed=1).shape == (5, 8, 8)
    np.testing.assert_array_equal(vae.sample(5, seed=1), vae.sample(5, seed=1))
