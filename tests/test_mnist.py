"""End-to-end on real MNIST: a VAE reaches an honest test ELBO in a few epochs."""

from __future__ import annotations

import time

import numpy as np
import torch

from vaelab import VAE
from vaelab.data import load_mnist


def test_vae_on_dynamically_binarized_mnist_beats_minus_130_nats(data_dir, capsys):
    x_train, _ = load_mnist(data_dir / "mnist", split="train")
    x_test, _ = load_mnist(data_dir / "mnist", split="test")
    started = time.perf_counter()
    vae = VAE(latent_dim=16, likelihood="bernoulli", binarize="dynamic", epochs=5, validation_fraction=0.0, seed=0, device="cpu")
    vae.fit(x_train)
    seconds = time.perf_counter() - started
    # evaluate on one fixed binarization of the test set: a proper Bernoulli likelihood of binary data
    test_binary = torch.bernoulli(torch.from_numpy(x_test / np.float32(255.0)), generator=torch.Generator().manual_seed(0)).numpy()
    elbo = vae.score(test_binary)
    with capsys.disabled():
        print(f"\n[MNIST] VAE 784-512-16, 5 epochs in {seconds:.1f} s: test ELBO {elbo:.2f} nats (dynamically binarized)")
    assert elbo > -130.0
    assert len(vae.history_) == 5 and vae.history_[-1]["train_loss"] < vae.history_[0]["train_loss"]
