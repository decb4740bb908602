"""Named sets of options (``vaelab train --recipe NAME``, ``RunSpec.from_layers([RECIPES[NAME], ...])``).

A recipe is a layer of option names and values, under a ``--config`` file and
the command line, so anything it sets can be overridden.
"""

from __future__ import annotations

from typing import Any

from vaelab.errors import InputError

#: ``best`` is the 60-minute MNIST recipe (latent 32, MLP 512, cosine step size, dynamic binarization, 2 threads)
#: with the VampPrior of 500 pseudo-inputs (Tomczak & Welling 2018): in the 5-minute collapse table
#: (benchmarks/vae_remedies.py) it was 2.9 nats ahead of the same network with the standard normal prior at half
#: the epochs. A step costs about twice the plain recipe's (the pseudo-inputs go through the encoder at every
#: step), so the cosine schedule runs over 400 epochs, what 60 minutes hold.
RECIPES: dict[str, dict[str, Any]] = {
    "best": {
        "model": "vae",
        "binarize": "dynamic",
        "latent_dim": 32,
        "hidden_dims": (512,),
        "prior": "vamp",
        "components": 500,
        "lr_schedule": "cosine",
        "epochs": 400,
        "validation_fraction": 0.0,
        "threads": 2,
    },
}


def recipe(name: str | None) -> dict[str, Any]:
    """The options of recipe ``name`` (none for None).

    Raises
    ------
    InputError
        For an unknown name, listing the recipes.
    """
    if name is None:
        return {}
    if name not in RECIPES:
        raise InputError(f"--recipe must be one of {', '.join(RECIPES)}, got {name!r}")
    return dict(RECIPES[name])
