"""Importance weights, shared by the IWAE objective and the IS-NLL bound.

For k draws z_i ~ q(z|x) the log importance weights are

    log w_i = log p(x, z_i) - log q(z_i|x)                         (Burda et al. 2016, eq. 8)

and the bound L_k = log (1/k) sum_i w_i is a log-mean-exp. Its gradient is
sum_i w~_i grad log w_i with the normalized weights w~_i = w_i / sum_j w_j
(Burda et al. 2016, eq. 14). Both are computed here, once, from the log
weights (never by exponentiating them outside a log-sum-exp).

References
----------
Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders", ICLR, arXiv:1509.00519.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor


def log_mean_exp(values: Tensor, dim: int = 0) -> Tensor:
    """log(mean(exp(values))) along ``dim``, computed stably by a log-sum-exp.

    Parameters
    ----------
    values : Tensor of shape (k, ...) (for ``dim=0``)

    Returns
    -------
    Tensor of shape (...)
    """
    return values.logsumexp(dim=dim) - math.log(values.shape[dim])


def normalized_weights(log_w: Tensor, dim: int = 0) -> Tensor:
    """w~_i = w_i / sum_j w_j from log weights: a softmax along ``dim``, same shape as ``log_w``."""
    return log_w.softmax(dim=dim)


@dataclass
class JointLogProbs:
    """Per-draw terms of log p(x, z) and log q(z|x), each of shape (k, B).

    ``log_pz`` holds every prior-side factor (for two stochastic layers,
    log p(z1|z2) + log p(z2)) and ``log_qz`` every inference factor
    (log q(z1|x) + log q(z2|z1)), so that one importance sampler serves
    every model.

    Attributes
    ----------
    log_px_z : Tensor of shape (k, B)
        log p(x|z), the decoder's term.
    log_pz : Tensor of shape (k, B)
    log_qz : Tensor of shape (k, B)
    """

    log_px_z: Tensor
    log_pz: Tensor
    log_qz: Tensor

    @property
    def log_w(self) -> Tensor:
        """log w = log p(x|z) + log p(z) - log q(z|x), shape (k, B)."""
        return self.log_px_z + self.log_pz - self.log_qz
