"""Posterior noise drawn per example: a row's draws depend on its content and a seed, never on its batch.

A stochastic score such as the ELBO or the importance-sampled bound must give
a row the same value however often it is computed and whatever other rows
share its call (scikit-learn's estimator checks compare ``score_samples`` on a
whole set, on single rows and on a shuffled set). Drawing the noise from one
``torch.Generator`` per call ties each row's draws to its position in the
batch. Here the noise is *counter-based* instead: the j-th standard normal of
example x (over draws and latent dimensions, j = draw * D + dim) is

    key(x)  = BLAKE2b-64 of the seed and of x's float32 bytes
    u_j     = (SplitMix64(key(x), j) >> 11 + 1/2) / 2^53        in (0, 1)
    eps_j   = Phi^{-1}(u_j)                                      ~ N(0, 1)

where SplitMix64(key, j) is the j-th output of Steele, Lea & Flood's
generator seeded with ``key`` (a counter-based stream: any output is computed
directly from its index, so draws do not depend on how they are chunked).
Rows with equal content get equal draws; different rows get independent ones.

References
----------
Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators", OOPSLA.
Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3", SC (counter-based generators).
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import Tensor

from vaelab.distributions import DiagonalGaussian, NoiseStream
from vaelab.validation import check_int

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(key: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Output ``index`` (0-based) of SplitMix64 seeded with ``key``; uint64 arrays, broadcast together."""
    z = key + (index + np.uint64(1)) * _GAMMA  # uint64 arithmetic wraps modulo 2^64, as the generator needs
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


class ExampleNoise:
    """Standard normal noise keyed by each example's content and ``seed`` (see the module docstring).

    Parameters
    ----------
    seed : int
        Any integer in [-2^63, 2^63); the same seed gives the same draws for the same rows.

    Examples
    --------
    >>> import torch
    >>> noise = ExampleNoise(seed=0)
    >>> x = torch.rand(3, 5)
    >>> a = noise.standard_normal(noise.keys(x), first=0, count=2, dim=4)       # (2, 3, 4)
    >>> b = noise.standard_normal(noise.keys(x[[2, 0]]), first=0, count=2, dim=4)
    >>> bool(torch.equal(a[:, [2, 0]], b))
    True
    """

    def __init__(self, seed: int) -> None:
        check_int(seed, "seed", low=-(2**63), high=2**63 - 1)
        self.seed = int(seed)

    def keys(self, x: Tensor) -> np.ndarray:
        """One 64-bit key per example of ``x`` (B, ...): a hash of the seed and the example's float32 bytes, shape (B,)."""
        rows = np.ascontiguousarray(x.detach().reshape(x.shape[0], -1).to(torch.float32).cpu().numpy())
        salt = self.seed.to_bytes(8, "little", signed=True)
        keys = np.empty(rows.shape[0], dtype=np.uint64)
        for i, row in enumerate(rows):
            digest = hashlib.blake2b(row.data, digest_size=8, key=salt, person=b"vaelab-noise").digest()
            keys[i] = int.from_bytes(digest, "little")
        return keys

    def standard_normal(
        self, keys: np.ndarray, *, first: int, count: int, dim: int, like: Tensor | None = None
    ) -> Tensor:
        """Draws ``first`` .. ``first + count - 1`` of each keyed example, shape (count, B, dim).

        Parameters
        ----------
        keys : ndarray of uint64, shape (B,)
            From :meth:`keys`.
        first, count : int
            Which draws (each draw is ``dim`` normals); draw j is the same whatever ``first`` and ``count``.
        dim : int
            Normals per draw (the latent dimension).
        like : Tensor, optional
            Put the result on this tensor's device, in its dtype (default: float64 on the CPU).
        """
        j = np.arange(first * dim, (first + count) * dim, dtype=np.uint64).reshape(count, 1, dim)
        bits = splitmix64(keys.astype(np.uint64).reshape(1, -1, 1), j) >> np.uint64(11)  # (count, B, dim), 53 bits
        u = torch.from_numpy((bits.astype(np.float64) + 0.5) * 2.0**-53)
        eps = torch.special.ndtri(u)
        return eps if like is None else eps.to(device=like.device, dtype=like.dtype)

    def stream(self, x: Tensor) -> "KeyedStream":
        """A :class:`~vaelab.distributions.NoiseStream` over the examples of ``x`` (B, ...), from draw 0."""
        return KeyedStream(self, self.keys(x))

    def rsample(self, posterior: DiagonalGaussian, keys: np.ndarray, *, first: int, count: int) -> Tensor:
        """Reparameterized draws z = mean + std * eps of the keyed examples, shape (count, B, D)."""
        eps = self.standard_normal(keys, first=first, count=count, dim=posterior.mean.shape[-1], like=posterior.mean)
        return posterior.mean + posterior.stddev * eps


class KeyedStream(NoiseStream):
    """The draws of a fixed set of examples, in order (see :meth:`ExampleNoise.stream`).

    Each call of :meth:`standard_normal` with ``shape`` = (*S, B, D) returns the
    next prod(S) draws of every example (each draw D normals), so k draws taken
    in one call or in several chunks are the same numbers.
    """

    def __init__(self, noise: ExampleNoise, keys: np.ndarray) -> None:
        self.noise = noise
        self.keys = keys
        self.drawn = 0

    def standard_normal(self, shape: tuple[int, ...], *, like: Tensor) -> Tensor:
        *sample_shape, b, d = shape
        if b % len(self.keys):  # (k*B, D): k draws of the B examples, flattened draw-major (a lower layer's draws)
            raise ValueError(f"this stream draws for {len(self.keys)} examples, asked for {b} rows")
        count = (int(np.prod(sample_shape)) if sample_shape else 1) * (b // len(self.keys))
        eps = self.noise.standard_normal(self.keys, first=self.drawn, count=count, dim=d, like=like)
        self.drawn += count
        return eps.reshape(shape)
