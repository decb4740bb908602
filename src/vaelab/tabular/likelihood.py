"""The mixed likelihood of a transformed table: Gaussian heads and categorical heads over spans.

The data vector is cut into spans (see :mod:`vaelab.tabular.transformer`):

* a ``("gaussian", 1)`` span holds a normalized scalar alpha in (-1, 1); its
  head is N(alpha; tanh(theta), sigma^2), the mean squashed into the range of
  alpha, with sigma fixed or learned per span (as TVAE, Xu et al. 2019);
* a ``("categorical", k)`` span holds a one-hot; its head is a softmax over
  the k logits: log p = sum_j x_j log softmax(theta)_j (valid for soft targets too).

log p(x | theta) is the sum of the heads' log-probabilities, in nats, shape (B,).
Only torch is needed; the registration makes ``likelihood={"name": "mixed",
"spans": [...]}`` available to every model of the family.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vaelab.errors import InputError
from vaelab.likelihoods import LIKELIHOODS, Likelihood

KINDS = ("gaussian", "categorical")


def _check_spans(spans: Any) -> list[tuple[str, int]]:
    out = []
    for span in spans or []:
        if not (isinstance(span, (list, tuple)) and len(span) == 2 and span[0] in KINDS and int(span[1]) >= 1):
            raise InputError(f"mixed likelihood spans must be [kind, width] with kind in {KINDS}, got {span!r}")
        if span[0] == "gaussian" and int(span[1]) != 1:
            raise InputError(f"a gaussian span has width 1, got {span!r}")
        out.append((str(span[0]), int(span[1])))
    if not out:
        raise InputError("the mixed likelihood needs spans=[[kind, width], ...] (from TableTransformer.spans())")
    return out


@LIKELIHOODS.register("mixed")
class Mixed(Likelihood):
    """Gaussian heads for continuous spans, categorical heads for one-hot spans.

    Parameters
    ----------
    spans : list of [kind, width]
        ``["gaussian", 1]`` or ``["categorical", k]``, in the order of the data vector.
    scale : float
        sigma of the Gaussian heads, or its starting value when ``learn_scale``.
    learn_scale : bool
        Learn one sigma per Gaussian span (clamped to [0.01, 1]).

    Examples
    --------
    >>> lik = Mixed([["gaussian", 1], ["categorical", 3]])
    >>> x = torch.tensor([[0.5, 0.0, 1.0, 0.0]])
    >>> lik.log_prob(x, torch.zeros(1, 4)).shape
    torch.Size([1])
    """

    name = "mixed"

    def __init__(self, spans: list[Any], scale: float = 0.1, learn_scale: bool = False) -> None:
        super().__init__()
        if not 0.0 < scale:
            raise InputError(f"mixed likelihood scale must be > 0, got {scale!r}")
        self.spans = _check_spans(spans)
        self.learn_scale = bool(learn_scale)
        self.initial_scale = float(scale)
        starts, pos = [], 0
        for _, width in self.spans:
            starts.append(pos)
            pos += width
        self.dim = pos
        gauss = [s for s, (kind, _) in zip(starts, self.spans) if kind == "gaussian"]
        self.register_buffer("gaussian_index", torch.tensor(gauss, dtype=torch.long), persistent=False)
        # categorical spans grouped by width, so that each width is one batched softmax
        self._groups: dict[int, list[int]] = {}
        for s, (kind, width) in zip(starts, self.spans):
            if kind == "categorical":
                self._groups.setdefault(width, []).append(s)
        for width, group in self._groups.items():
            index = torch.tensor(group)[:, None] + torch.arange(width)[None, :]  # (G, width)
            self.register_buffer(f"cat_index_{width}", index, persistent=False)
        # for log_prob: the spans as segments of the columns, the Gaussian columns as one extra segment (ignored)
        segment, n_cat = [], 0
        for kind, width in self.spans:
            segment += [n_cat] * width if kind == "categorical" else [-1]
            n_cat += kind == "categorical"
        segment_t = torch.tensor(segment, dtype=torch.long)
        segment_t = torch.where(segment_t < 0, n_cat, segment_t)  # (dim,)
        self.n_categorical = n_cat
        self.register_buffer("categorical_mask", segment_t < n_cat, persistent=False)  # (dim,)
        # column-to-segment membership (dim, S), so that segment sums and broadcasts are matmuls (exact: 0/1 weights)
        n_segments = n_cat + int(bool(gauss))  # no empty segment: its log-sum would be -inf
        self.register_buffer("segment_matrix", F.one_hot(segment_t, n_segments).float(), persistent=False)
        self.register_buffer("segment", segment_t, persistent=False)
        log_scale = torch.full((len(gauss),), math.log(scale))
        if self.learn_scale:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_scale", log_scale)

    def _log_sigma(self) -> Tensor:
        return self.log_scale.clamp(math.log(0.01), 0.0) if self.learn_scale else self.log_scale

    def _cat_indices(self) -> list[Tensor]:
        return [getattr(self, f"cat_index_{w}") for w in self._groups]

    def param_shape(self, data_shape: tuple[int, ...]) -> tuple[int, ...]:
        if tuple(data_shape) != (self.dim,):
            raise InputError(f"the mixed likelihood's spans cover {self.dim} columns, but the data has shape {data_shape}")
        return (self.dim,)

    def log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        # Gaussian heads: log N(x; tanh(theta), s^2) = -0.5 ((x - mu)/s)^2 - log s - 0.5 log 2pi
        log_s = self._log_sigma()
        g = self.gaussian_index
        z = (x[:, g] - torch.tanh(params[:, g])) * torch.exp(-log_s)
        total = (-0.5 * z**2 - log_s - 0.5 * math.log(2.0 * math.pi)).sum(1)
        if self.n_categorical:
            total = total + self._categorical_log_prob(x, params)
        return total

    def _categorical_log_prob(self, x: Tensor, params: Tensor) -> Tensor:
        """sum over the categorical spans of sum_j x_j log softmax(theta)_j, all spans at once: (B,).

        log softmax(theta)_j = (theta_j - m) - log sum_i exp(theta_i - m) within each span, m the
        span's maximum (a constant, so cut from the graph), with the span maxima and sums as
        segment reductions over the columns (``segment``): a few ops over the (B, dim) parameters
        instead of a softmax per span width, the same value up to float rounding.
        """
        b = params.shape[0]
        with torch.autocast(params.device.type, enabled=False):
            params = params.float() if params.dtype in (torch.float16, torch.bfloat16) else params
            member = self.segment_matrix.to(params.dtype)  # (dim, S)
            columns = params.detach().T.contiguous()  # (dim, B): a segment max over rows is fast
            index = self.segment[:, None].expand(-1, b)  # (dim, B)
            shift = columns.new_full((member.shape[1], b), -math.inf).scatter_reduce_(0, index, columns, "amax").T  # (B, S)
            shifted = params - shift @ member.T  # (B, dim), <= 0 within each span
            log_sums = (shifted.exp() @ member).log()  # (B, S): log sum_i exp(theta_i - m) per span
            log_softmax = shifted - log_sums @ member.T  # (B, dim), as F.log_softmax computes it per span
            return torch.where(self.categorical_mask, x * log_softmax, 0.0).sum(1)

    def mean(self, params: Tensor) -> Tensor:
        out = params.clone()
        g = self.gaussian_index
        out[:, g] = torch.tanh(params[:, g])
        for index in self._cat_indices():
            out[:, index] = F.softmax(params[:, index], dim=-1)
        return out

    def sample(self, params: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Continuous spans: tanh(theta) + sigma * noise; categorical spans: a one-hot drawn from the softmax."""
        out = torch.zeros_like(params)
        g = self.gaussian_index
        noise = torch.randn((params.shape[0], len(g)), generator=generator, device=params.device, dtype=params.dtype)
        out[:, g] = torch.tanh(params[:, g]) + torch.exp(self._log_sigma()) * noise
        for index in self._cat_indices():
            probs = F.softmax(params[:, index], dim=-1)  # (B, G, width)
            flat = probs.reshape(-1, probs.shape[-1])
            draw = torch.multinomial(flat, 1, generator=generator).reshape(probs.shape[:-1])
            out[:, index] = F.one_hot(draw, probs.shape[-1]).to(params.dtype)
        return out

    def check_data(self, x: Tensor, name: str = "X") -> None:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise InputError(f"{name} must have shape (n, {self.dim}) for these spans, got {tuple(x.shape)}")
        for index in self._cat_indices():
            sums = x[:, index].sum(-1)
            if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
                raise InputError(f"{name} has a categorical span that is not one-hot (its entries do not sum to 1)")

    def config(self) -> dict[str, Any]:
        spans = [list(s) for s in self.spans]
        return {"name": self.name, "spans": spans, "scale": self.initial_scale, "learn_scale": self.learn_scale}
