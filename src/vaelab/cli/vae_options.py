"""``vaelab train``'s VAE options (objective, prior, KL schedule, latent layers) and recipes, declared once.

Typer reads options from the command function's signature, so ``train``
lists these aliases; their names, help texts and checks live here (and in
:class:`~vaelab.cli.config.RunConfig`), not in the command module.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from vaelab.cli.errors import ConfigError

VAE = "VAE objective and prior"


def _vae_opt(*names: str, help: str, **kwargs: Any) -> Any:
    return typer.Option(*names, help=help, rich_help_panel=VAE, show_default=False, **kwargs)


KLSchedule = Annotated[
    Optional[str],
    _vae_opt(
        "--kl-schedule",
        help=(
            "KL weight over the steps: warmup:STEPS (linear from 0 to --beta), cyclical:CYCLES:RATIO (Fu et al. "
            "2019), capacity:C_MAX:STEPS:GAMMA (loss = recon + GAMMA*|KL - C(t)|, Burgess et al. 2018). "
            "[default: constant]"
        ),
    ),
]
FreeBits = Annotated[
    Optional[float],
    _vae_opt("--free-bits", help="KL floor per latent dimension in nats (Kingma et al. 2016). [default: 0, off]"),
]
Objective = Annotated[
    Optional[str],
    _vae_opt("--objective", help="elbo, or iwae: the importance-weighted bound with --k samples. [default: elbo]"),
]
K = Annotated[Optional[int], _vae_opt("--k", help="Importance samples of --objective iwae. [default: 5]")]
Dreg = Annotated[
    Optional[bool],
    _vae_opt("--dreg/--no-dreg", help="IWAE: the doubly-reparameterized gradient (Tucker et al. 2019). [default: off]"),
]
Prior = Annotated[
    Optional[str],
    _vae_opt(
        "--prior", help="standard_normal, mog (a learned Gaussian mixture) or vamp. [default: standard_normal]"
    ),
]
Components = Annotated[
    Optional[int], _vae_opt("--components", help="Components of --prior mog/vamp. [default: 10 for mog, 500 for vamp]")
]
TcBeta = Annotated[
    Optional[float],
    _vae_opt("--tc-beta", help="Weight of the total correlation (beta-TCVAE, Chen et al. 2018). [default: 1]"),
]
StochasticLayers = Annotated[
    Optional[int],
    _vae_opt("--stochastic-layers", help="1, or 2: Burda et al.'s two-layer VAE (z2 of latent-dim/2). [default: 1]"),
]
Recipe = Annotated[
    Optional[str],
    typer.Option(
        "--recipe",
        rich_help_panel="Output",
        show_default=False,
        help="A named set of options, under --config and the command line: best (the MNIST 60-minute recipe).",
    ),
]

#: named option sets. ``best`` is the README's 60-minute MNIST recipe (latent 32, MLP 512, cosine step size,
#: dynamic binarization, 2 threads) with the VampPrior of 500 pseudo-inputs (Tomczak & Welling 2018): in the
#: 5-minute collapse table (benchmarks/vae_remedies.py) it was 2.9 nats ahead of the same network with the
#: standard normal prior at half the epochs. A step costs about twice the plain recipe's (the pseudo-inputs go
#: through the encoder at every step), so the cosine schedule runs over 400 epochs, what 60 minutes hold.
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


def recipe_values(name: str | None) -> dict[str, Any]:
    """The options of recipe ``name`` (none for None)."""
    if name is None:
        return {}
    if name not in RECIPES:
        raise ConfigError(f"--recipe must be one of {', '.join(RECIPES)}, got {name!r}")
    return dict(RECIPES[name])
