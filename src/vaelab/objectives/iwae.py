"""The importance-weighted bound as a training objective (Burda et al. 2016), with DReG.

    L_k(x) = log (1/k) sum_i w_i,   w_i = p(x, z_i) / q(z_i|x),  z_i ~ q(z|x)    (Burda et al. 2016, eq. 8)

Its gradient is sum_i w~_i grad log w_i with the normalized weights
w~_i = w_i / sum_j w_j taken as constants (eq. 14); autograd through the
log-mean-exp gives exactly that. For the encoder that estimator's variance
grows with k; the doubly-reparameterized gradient (Tucker et al. 2019, eq. 5)

    grad_phi L_k = E[ sum_i w~_i^2 (d log w_i / d z_i) (d z_i / d phi) ]

has the same expectation with less variance: log q is evaluated with its
parameters cut from the graph (so the score-function term is gone) and the
gradient reaching each draw z_i is scaled by w~_i once more (a hook on z),
so the decoder keeps the weights w~_i and the encoder gets w~_i^2. With two
stochastic layers the hook sits on the copies of z1 and z2 that enter log w
(the model's ``on_sample``), so the path z2 -> z1 -> encoder is scaled once.

References
----------
Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders", ICLR, arXiv:1509.00519.
Tucker, Lawson, Gu & Maddison 2019, "Doubly Reparameterized Gradient Estimators for Monte Carlo
Objectives", ICLR, arXiv:1810.04152.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from vaelab.errors import InputError
from vaelab.model_output import ModelOutput
from vaelab.objectives.base import OBJECTIVES, Objective
from vaelab.objectives.weights import log_mean_exp, normalized_weights

GRADIENTS = ("standard", "dreg")


@OBJECTIVES.register("iwae")
@dataclass(frozen=True)
class IWAE(Objective):
    """The IWAE bound L_k, maximized with the standard or the doubly-reparameterized gradient.

    Parameters
    ----------
    k : int
        Importance samples per example (k >= 1; k = 1 is the ELBO with a
        Monte Carlo KL).
    gradient : str
        ``"standard"`` (Burda et al. 2016) or ``"dreg"`` (Tucker et al. 2019).
    """

    k: int = 5
    gradient: str = "standard"
    name = "iwae"

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise InputError(f"k (importance samples of the IWAE objective) must be an integer >= 1, got {self.k!r}")
        if self.gradient not in GRADIENTS:
            raise InputError(f"gradient must be one of {', '.join(GRADIENTS)}, got {self.gradient!r}")

    def check_model(self, model: Any) -> None:
        super().check_model(model)
        if self.gradient == "dreg" and not getattr(model, "supports_dreg", False):
            raise InputError(
                f"gradient='dreg' needs a model whose draws can be reweighted ({type(model).__name__} sets no "
                "supports_dreg); use gradient='standard'"
            )

    def __call__(
        self, model: Any, x: Tensor, c: Tensor | None = None, *, generator: torch.Generator | None = None
    ) -> ModelOutput:
        dreg = self.gradient == "dreg" and torch.is_grad_enabled()
        held: dict[str, Tensor] = {}

        def scale_by_weights(z: Tensor) -> Tensor:  # (k, B, D): the encoder's path gets w~ once more
            if not z.requires_grad:
                return z
            z = z.view_as(z)  # a node of its own: only the gradient reaching z through log w is scaled
            z.register_hook(lambda grad: grad * held["w"].unsqueeze(-1))
            return z

        terms = model.importance_terms(
            x, self.k, c, generator=generator, detach_posterior=dreg, on_sample=scale_by_weights if dreg else None
        )
        log_w = terms.log_w  # (k, B)
        bound = log_mean_exp(log_w, dim=0)  # (B,)
        if dreg:
            held["w"] = normalized_weights(log_w.detach(), dim=0)
            surrogate = (held["w"] * log_w).sum(0)  # decoder: sum w~ grad log w; encoder (hook): sum w~^2 ...
            objective = surrogate - surrogate.detach() + bound.detach()  # value of L_k, DReG's gradient
        else:
            objective = bound
        reconstruction = -terms.log_px_z.mean()
        kl = (terms.log_qz - terms.log_pz).mean()
        return ModelOutput(loss=-objective.mean(), reconstruction=reconstruction, kl=kl, extra={"bound": bound.mean()})
