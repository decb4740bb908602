"""Latent-space diagnostics: posterior collapse and the aggregate posterior.

* KL per latent dimension, E_x[KL(q(z_d|x) || N(0, 1))]: a dimension whose KL
  is ~0 carries no information about x.
* Active units (Burda et al. 2016, Section 5.2): dimension d is active when
  A_d = Cov_x(E_{q(z|x)}[z_d]) > 0.01.
* The mutual information between x and z under the encoder's joint
  q(x, z) = p_data(x) q(z|x), and the KL between the aggregate posterior
  q(z) = E_x[q(z|x)] and the prior, from the decomposition of the average KL
  (Hoffman & Johnson 2016, eq. 4):

      E_x[KL(q(z|x) || p(z))] = I_q(x; z) + KL(q(z) || p(z)).

  With x uniform over the N evaluated examples, q(z) is the mixture
  (1/N) sum_n q(z|x_n), which is evaluated exactly; the expectation over z is
  estimated by Monte Carlo as in Dieng et al. 2019 (Section 4) and He et al.
  2019, with draws z_i ~ q(z|x_i). I <= H(x) = log N: a value near log N means
  the codes tell the examples apart almost perfectly.

References
----------
Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders", ICLR, arXiv:1509.00519.
Hoffman & Johnson 2016, "ELBO surgery: yet another way to carve up the variational evidence lower bound",
NIPS Workshop on Advances in Approximate Bayesian Inference.
Dieng, Kim, Rush & Blei 2019, "Avoiding Latent Variable Collapse with Generative Skip Models", AISTATS.
He, Spokoyny, Neubig & Berg-Kirkpatrick 2019, "Lagging Inference Networks and Posterior Collapse in
Variational Autoencoders", ICLR, arXiv:1901.05534.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from vaelab.distributions import LOG_2PI
from vaelab.errors import InputError

#: Burda et al. 2016's threshold on Cov_x(E_q[z_d]) for an active unit
ACTIVE_UNIT_THRESHOLD = 0.01
#: a dimension whose mean KL is below this (nats) is reported as carrying no information
KL_COLLAPSE_THRESHOLD = 0.01


def kl_per_dim(mean: Tensor, log_var: Tensor) -> Tensor:
    """Mean KL(q(z_d|x) || N(0, 1)) over examples, per latent dimension.

    Appendix B of Kingma & Welling 2014: KL = -0.5 * (1 + log_var - mean^2 - exp(log_var)).

    Parameters
    ----------
    mean, log_var : Tensor of shape (N, D)
        Posterior means and log-variances of N examples.

    Returns
    -------
    Tensor of shape (D,), nats.
    """
    return (-0.5 * (1.0 + log_var - mean**2 - log_var.exp())).mean(0)


def active_unit_statistic(mean: Tensor) -> Tensor:
    """A_d = Cov_x(E_q[z_d]): the variance over examples of each posterior mean.

    Parameters
    ----------
    mean : Tensor of shape (N, D)
        Posterior means E_q[z|x] of N >= 2 examples.

    Returns
    -------
    Tensor of shape (D,)
        Unbiased sample variances (divided by N - 1).
    """
    if mean.shape[0] < 2:
        raise InputError(f"active units need at least 2 examples, got {mean.shape[0]}")
    return mean.var(dim=0, unbiased=True)


def active_units(mean: Tensor, threshold: float = ACTIVE_UNIT_THRESHOLD) -> Tensor:
    """Which latent dimensions are active, A_d > ``threshold`` (Burda et al. 2016): bool (D,)."""
    return active_unit_statistic(mean) > threshold


def _gaussian_log_density(z: Tensor, mean: Tensor, log_var: Tensor) -> Tensor:
    """log N(z_i; mean_j, diag exp(log_var_j)) for every pair: z (S, D), mean/log_var (M, D) -> (S, M)."""
    inv_var = torch.exp(-log_var)  # (M, D)
    # sum_d (z_d - m_d)^2 / v_d, expanded so that the (S, M) matrix comes from two matrix products
    quad = (z**2) @ inv_var.T - 2.0 * z @ (mean * inv_var).T + (mean**2 * inv_var).sum(1)
    return -0.5 * (quad + log_var.sum(1) + z.shape[1] * LOG_2PI)


@dataclass
class AggregatePosteriorEstimate:
    """Monte Carlo estimates from :func:`aggregate_posterior_terms`, all in nats.

    Attributes
    ----------
    mutual_information : float
        I_q(x; z) = E[log q(z|x) - log q(z)], at most log N.
    aggregate_kl : float
        KL(q(z) || p(z)) = E[log q(z) - log p(z)].
    mean_kl : float
        E_x[KL(q(z|x) || p(z))] = E[log q(z|x) - log p(z)], the sum of the two.
    n_examples : int
        N, the examples whose posteriors form the mixture q(z).
    n_draw_examples : int
        Examples the draws z were taken from (a random subset of the N).
    """

    mutual_information: float
    aggregate_kl: float
    mean_kl: float
    n_examples: int
    n_draw_examples: int


@torch.no_grad()
def aggregate_posterior_terms(
    mean: Tensor,
    log_var: Tensor,
    prior_log_prob: Callable[[Tensor], Tensor],
    *,
    max_draw_examples: int | None = None,
    n_samples: int = 1,
    generator: torch.Generator | None = None,
) -> AggregatePosteriorEstimate:
    """Estimate I_q(x; z) and KL(q(z) || p(z)) for the empirical distribution of N examples.

    The aggregate posterior of the N examples is the mixture
    q(z) = (1/N) sum_n q(z|x_n), evaluated exactly; the outer expectation over
    x is a Monte Carlo average over z_i ~ q(z|x_i) for (a random subset of) the examples:

        I   ~= mean_i [log q(z_i|x_i) - log q(z_i)]          (<= log N)
        KL  ~= mean_i [log q(z_i) - log p(z_i)]

    (Hoffman & Johnson 2016; the estimator of Dieng et al. 2019, Section 4).

    Parameters
    ----------
    mean, log_var : Tensor of shape (N, D)
        Posterior parameters of the N examples.
    prior_log_prob : callable
        log p(z), (..., D) -> (...), e.g. ``module.prior.log_prob``.
    max_draw_examples : int, optional
        Draw z from at most this many examples (chosen at random); the cost is
        O(max_draw_examples * n_samples * N * D). None draws from all N.
    n_samples : int
        Draws z per example.
    generator : torch.Generator, optional
        For the subset and the draws (on the device of ``mean``).

    Returns
    -------
    AggregatePosteriorEstimate
    """
    n, d = mean.shape
    if n < 2:
        raise InputError(f"the aggregate posterior needs at least 2 examples, got {n}")
    mean, log_var = mean.double(), log_var.double()
    m = n if max_draw_examples is None else max(1, min(n, max_draw_examples))
    if m < n:
        rows = torch.randperm(n, generator=generator, device=mean.device)[:m]
    else:
        rows = torch.arange(n, device=mean.device)
    eps = torch.randn((n_samples, m, d), generator=generator, dtype=mean.dtype, device=mean.device)
    z = (mean[rows] + torch.exp(0.5 * log_var[rows]) * eps).reshape(n_samples * m, d)  # (S*m, D)
    own = -0.5 * (LOG_2PI + log_var[rows] + eps**2).sum(-1).reshape(-1)  # log q(z_i|x_i), (S*m,)
    # log q(z) = logsumexp_n log q(z|x_n) - log N, in row blocks so that the (rows, N) matrix stays small
    log_qz = torch.cat(
        [torch.logsumexp(_gaussian_log_density(zb, mean, log_var), dim=1) for zb in z.split(max(1, 2**22 // n))]
    ) - math.log(n)
    log_pz = prior_log_prob(z.to(torch.get_default_dtype())).double()
    mi = float((own - log_qz).mean())
    agg = float((log_qz - log_pz).mean())
    return AggregatePosteriorEstimate(
        mutual_information=mi, aggregate_kl=agg, mean_kl=mi + agg, n_examples=n, n_draw_examples=m
    )


def collapse_warnings(kl_dims: Tensor, active: Tensor, *, mutual_information: float | None = None) -> list[str]:
    """Plain-language verdicts on posterior collapse; an empty list means no collapse was found.

    Parameters
    ----------
    kl_dims : Tensor of shape (D,)
        Mean KL per latent dimension (nats), from :func:`kl_per_dim`.
    active : Tensor of shape (D,), bool
        Active units, from :func:`active_units`.
    mutual_information : float, optional
        Estimate of I_q(x; z) in nats.
    """
    d = int(kl_dims.numel())
    n_active = int(active.sum())
    n_uninformative = int((kl_dims < KL_COLLAPSE_THRESHOLD).sum())
    out: list[str] = []
    if n_active == 0:
        out.append(
            f"total posterior collapse: none of the {d} latent dimensions is active "
            f"(Cov_x E_q[z_d] <= {ACTIVE_UNIT_THRESHOLD}); the decoder ignores z and the model is "
            "equivalent to one without latent variables"
        )
    elif n_active < d:
        out.append(
            f"partial posterior collapse: {d - n_active} of {d} latent dimensions are inactive "
            f"(Cov_x E_q[z_d] <= {ACTIVE_UNIT_THRESHOLD}); {n_uninformative} of {d} carry almost no "
            f"information (mean KL < {KL_COLLAPSE_THRESHOLD} nats). A smaller latent_dim would fit as well; "
            "to use more dimensions, try KL annealing or a lower beta"
        )
    if mutual_information is not None and mutual_information < 0.1 and n_active > 0:
        out.append(
            f"the codes carry little information about x: estimated I(x; z) = {mutual_information:.3f} nats"
        )
    return out
