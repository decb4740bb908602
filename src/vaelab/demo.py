"""The demo: PCA, an autoencoder and a VAE on scikit-learn's bundled digits.

The three members of the family are fitted at the same latent size on the same
training split and compared on the held-out split, so that a user sees the
linear baseline, the non-linear one and the generative model side by side.
This module only *defines* the demo runs (as ``vaelab train`` options);
``vaelab demo`` (:mod:`vaelab.cli.commands.demo`) trains them, writes a report
per run and the comparison report. No data are downloaded.

>>> sorted(demo_options())
['autoencoder', 'pca', 'vae']
>>> demo_options(epochs=5)["vae"]["epochs"]
5
"""

from __future__ import annotations

from typing import Any

#: Size of the latent code of all three models.
DEMO_LATENT_DIM = 8
DEMO_EPOCHS = 60


def demo_options(
    latent_dim: int = DEMO_LATENT_DIM, epochs: int = DEMO_EPOCHS, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """The run options (``vaelab train`` option names) of each demo model, keyed by run name.

    An MLP of widths 256-128 for 8x8 digits. The VAE has a continuous
    Bernoulli likelihood (Loaiza-Ganem & Cunningham 2019), a density on
    [0, 1], so that its likelihood bounds the same quantity as probabilistic
    PCA's: bits per dimension of the digits' 17 grey levels. The autoencoder's
    likelihood follows the data (``auto``: Gaussian of unit scale, squared error).
    One torch thread: these small models train several times faster with one
    thread than with two on a two-core machine that is doing anything else.
    PCA takes no seed (it is fitted in closed form): its run splits the data
    with seed 0, so ``seed`` other than 0 gives the neural models another split.
    """
    common: dict[str, Any] = {"data": "digits", "latent_dim": latent_dim, "threads": 1}
    neural: dict[str, Any] = {**common, "seed": seed, "hidden_dims": [256, 128], "epochs": epochs, "batch_size": 64}
    return {
        "pca": {**common, "model": "pca"},
        "autoencoder": {**neural, "model": "autoencoder"},
        "vae": {**neural, "model": "vae", "likelihood": "continuous_bernoulli"},
    }
