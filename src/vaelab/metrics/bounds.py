"""Bounds on log p(x): the ELBO and the importance-sampled bound.

For a model p(z) p(x|z) with inference network q(z|x):

    ELBO(x)  = E_q[log p(x|z)] - KL(q(z|x) || p(z))                     (Kingma & Welling 2014, eq. 3)
    L_k(x)   = E[ log (1/k) sum_i p(x, z_i) / q(z_i|x) ],  z_i ~ q(z|x)   (Burda et al. 2016, eq. 8)

with ELBO = L_1 <= L_k <= L_{k+1} <= log p(x) and L_k -> log p(x) as k grows
(Burda et al. 2016, Theorem 1). The estimate of L_k reported as "test NLL" in
the VAE literature is -L_k with k = 5000 (Burda et al. 2016, Section 5).

The k importance weights are evaluated in chunks: the encoder runs once,
``(k_chunk, B, D)`` codes are drawn and decoded in one call of shape
``(k_chunk * B, D)``, and the chunks are combined by a running log-sum-exp
(``logaddexp`` of the chunk-wise log-sum-exps, in float64), so that any k fits
in a fixed memory budget and no weight is ever exponentiated outside a
log-sum-exp.

References
----------
Kingma & Welling 2014, "Auto-Encoding Variational Bayes", ICLR, arXiv:1312.6114.
Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders", ICLR, arXiv:1509.00519.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from vaelab._runtime import denormals_flushed
from vaelab.distributions import DiagonalGaussian
from vaelab.errors import InputError
from vaelab.metrics.example_noise import ExampleNoise
from vaelab.objectives.weights import log_mean_exp
from vaelab.priors import StandardNormal

__all__ = [
    "ElboTerms",
    "chunk_sizes",
    "elbo_terms",
    "importance_sampled_log_likelihood",
    "importance_sampled_nll",
    "log_mean_exp",
]

#: default memory budget of one decoder call in :func:`importance_sampled_log_likelihood`; calls of
#: 16-32 MB were the fastest on a 2-core CPU (larger ones spill out of the cache)
DEFAULT_MEMORY_BUDGET_MB = 32.0


@dataclass
class ElboTerms:
    """The ELBO of each example and its two terms, all in nats, shape (B,).

    Attributes
    ----------
    reconstruction : Tensor of shape (B,)
        E_q[log p(x|z)], a Monte Carlo average over the posterior draws.
    kl : Tensor of shape (B,)
        KL(q(z|x) || p(z)): closed form for the standard normal prior, else
        the Monte Carlo average of log q(z|x) - log p(z) at the same draws.
    elbo : Tensor of shape (B,)
        reconstruction - kl.
    """

    reconstruction: Tensor
    kl: Tensor
    elbo: Tensor


def _posterior(module: Any, x: Tensor, c: Tensor | None = None) -> DiagonalGaussian:
    """q(z|x[, c]), or a clear error for models without a stochastic encoder."""
    posterior = module.encode(x) if c is None else module.encode(x, c)
    if not isinstance(posterior, DiagonalGaussian):
        raise InputError(
            f"this bound needs a model with a Gaussian posterior q(z|x) (a VAE); {type(module).__name__}.encode "
            f"returned a {type(posterior).__name__}. For PCA use PCAModel.log_likelihood (exact), for an "
            "autoencoder only the reconstruction error is defined"
        )
    return posterior


def elbo_terms(module: Any, x: Tensor, *, n_samples: int = 1, generator: torch.Generator | None = None) -> ElboTerms:
    """The ELBO and its terms per example, averaged over ``n_samples`` posterior draws.

    Parameters
    ----------
    module : VAEModel, TwoLayerVAEModel, or any module with ``encode`` and ``importance_terms``
    x : Tensor of shape (B, *input_shape)
    n_samples : int
        Posterior draws per example for the reconstruction term (one decoder
        call of ``n_samples * B`` rows).
    generator : torch.Generator, optional
        Source of the posterior noise.

    Returns
    -------
    ElboTerms with fields of shape (B,), in nats.
    """
    if n_samples < 1:
        raise InputError(f"n_samples must be >= 1, got {n_samples!r}")
    posterior = _posterior(module, x)
    terms = module.importance_terms(x, n_samples, generator=generator, posterior=posterior)  # (S, B) each
    if isinstance(module.prior, StandardNormal) and module.prior_latent_dim == posterior.mean.shape[-1]:
        kl = posterior.kl_standard_normal().sum(-1)  # closed form (Kingma & Welling 2014, Appendix B)
    else:
        kl = (terms.log_qz - terms.log_pz).mean(0)  # (S, B) -> (B,)
    reconstruction = terms.log_px_z.mean(0)
    return ElboTerms(reconstruction=reconstruction, kl=kl, elbo=reconstruction - kl)


def chunk_sizes(
    n_examples: int, k: int, floats_per_row: int, memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB
) -> tuple[int, int]:
    """How many examples and importance samples to decode in one call.

    A decoder call on ``rows = k_chunk * example_block`` codes holds about
    ``rows * floats_per_row`` float32 values; both sizes are chosen so that this
    stays under ``memory_budget_mb``, favouring whole example batches.

    Returns
    -------
    example_block : int
        Examples per block (1 <= example_block <= n_examples).
    k_chunk : int
        Importance samples per decoder call (1 <= k_chunk <= k).
    """
    if memory_budget_mb <= 0:
        raise InputError(f"memory_budget_mb must be > 0, got {memory_budget_mb!r}")
    rows = max(1, int(memory_budget_mb * 2**20 / (4 * max(1, floats_per_row))))
    example_block = max(1, min(n_examples, rows))
    k_chunk = max(1, min(k, rows // example_block))
    return example_block, k_chunk


@torch.no_grad()
def importance_sampled_log_likelihood(
    module: Any,
    x: Tensor,
    k: int,
    *,
    c: Tensor | None = None,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    generator: torch.Generator | ExampleNoise | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Tensor:
    """The importance-sampled bound L_k on log p(x) of each example (Burda et al. 2016, eq. 8).

    log p(x) >= L_k(x) = log (1/k) sum_{i=1..k} p(x|z_i) p(z_i) / q(z_i|x),  z_i ~ q(z|x),

    estimated with one set of k draws per example. L_1 is the ELBO; the bound
    tightens (in expectation) as k grows.

    Parameters
    ----------
    module : VAEModel or any module with ``encode`` (returning a DiagonalGaussian)
        and ``importance_terms`` (the log densities of k joint draws, see
        :meth:`~vaelab.models.VAEModel.importance_terms`; the IWAE objective
        uses the same method); put it in eval mode first.
    x : Tensor of shape (B, *input_shape)
    k : int
        Importance samples per example (5000 in Burda et al.).
    c : Tensor of shape (B, K), optional
        The condition of a conditional model: the bound is then on log p(x|c).
    memory_budget_mb : float
        Approximate bound on the memory of one decoder call; examples and
        samples are split into blocks to respect it (see :func:`chunk_sizes`).
    generator : torch.Generator or ExampleNoise, optional
        Source of the posterior noise, for reproducible estimates. An
        :class:`~vaelab.metrics.example_noise.ExampleNoise` draws each
        example's noise from its content and a seed, so that an example's
        estimate does not depend on the other rows of ``x`` or its position.
    progress : callable, optional
        Called as ``progress(done, total)`` with counts of decoded codes
        (``total = B * k``) after each decoder call.

    Returns
    -------
    Tensor of shape (B,)
        Estimates of L_k in nats (float32 on the model's device).

    Examples
    --------
    >>> import torch
    >>> from vaelab.models import VAEConfig, VAEModel
    >>> model = VAEModel(VAEConfig(input_shape=(6,), latent_dim=2)).eval()
    >>> x = torch.randint(0, 2, (4, 6)).float()
    >>> importance_sampled_log_likelihood(model, x, k=100, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([4])
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"k (the number of importance samples) must be an integer >= 1, got {k!r}")
    posterior = _posterior(module, x, c)  # encode once: (B, D)
    mean, log_var = posterior.mean, posterior.log_var
    b, d = mean.shape
    p = math.prod(module.likelihood.param_shape(tuple(x.shape[1:])))
    # per decoded code: the code and its noise (2D), the decoder output, a copy of x and
    # the likelihood's elementwise terms (~3P); hidden layers assumed no wider than the output
    floats_per_row = 2 * d + 4 * max(p, math.prod(x.shape[1:]))
    block, k_chunk = chunk_sizes(b, k, floats_per_row, memory_budget_mb)
    out = torch.empty(b, dtype=torch.float64, device=mean.device)
    done = 0
    with denormals_flushed(mean.device.type == "cpu"):  # a mixture prior's far components (see the trainer)
        for start in range(0, b, block):
            xb = x[start : start + block]
            qb = DiagonalGaussian(mean[start : start + block], log_var[start : start + block])
            nb = xb.shape[0]
            noise = generator.stream(xb) if isinstance(generator, ExampleNoise) else generator  # draws 0..k-1 in order
            lse = torch.full((nb,), -math.inf, dtype=torch.float64, device=mean.device)  # running log sum_i w_i
            for first in range(0, k, k_chunk):
                kc = min(k_chunk, k - first)
                cb = None if c is None else c[start : start + block]
                log_w = module.importance_terms(xb, kc, cb, generator=noise, posterior=qb).log_w  # (kc, nb)
                lse = torch.logaddexp(lse, torch.logsumexp(log_w.double(), dim=0))  # (nb,)
                done += kc * nb
                if progress is not None:
                    progress(done, b * k)
            out[start : start + nb] = lse - math.log(k)
    return out.to(mean.dtype)


def importance_sampled_nll(
    module: Any,
    x: Tensor,
    k: int,
    *,
    seed: int,
    c: Tensor | None = None,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, float], str]:
    """The importance-sampled NLL -L_k of a VAE module on x (given conditions ``c``): figures and their note.

    Returns ``nll``, ``nll_stderr`` (over examples), ``nll_samples``, ``nll_seconds`` and
    ``nll_samples_per_second``; the draws are seeded with ``seed + 1``.
    """
    n = x.shape[0]
    started = time.perf_counter()
    ll = importance_sampled_log_likelihood(
        module, x, k, c=c, generator=torch.Generator(device=x.device).manual_seed(seed + 1),
        memory_budget_mb=memory_budget_mb, progress=progress,
    ).double()
    seconds = time.perf_counter() - started
    values = dict(
        nll=float(-ll.mean()), nll_stderr=float(ll.std() / math.sqrt(n)) if n > 1 else float("nan"),
        nll_samples=float(k), nll_seconds=seconds,
        nll_samples_per_second=n * k / seconds if seconds > 0 else float("nan"),
    )
    kind = "a density (nats)" if module.likelihood.name != "bernoulli" else "a discrete log-probability (nats)"
    given = "" if c is None else " given the conditions"
    note = (
        f"nll = -(1/N) sum_x log (1/k) sum_i p(x,z_i)/q(z_i|x) with k = {k} (Burda et al. 2016){given}, "
        f"a stochastic upper bound on -log p(x), {kind}; nll_stderr is its standard error over examples"
    )
    return values, note
