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
        """log p(x | params) in nats, (B, dim), (B, dim) -> (B,).

        One autograd node (``_MixedLogProb``) with its gradient written out, instead of the
        graph of element-wise operations that autograd would record and walk back: on
        Adult's 178 columns (batch 500, one thread), forward and backward take 1.0-1.1 ms
        against 3.5-3.6 ms for a log-softmax per span (``benchmarks/tabular_parts.py``). A test
        checks values and gradients against the plain per-span loop, and
        ``torch.autograd.gradcheck`` in float64.
        """
        with torch.autocast(params.device.type, enabled=False):
            if params.dtype in (torch.float16, torch.bfloat16):
                params = params.float()
            return _MixedLogProb.apply(x.to(params.dtype), params, self._log_sigma().to(params.dtype), self)

    def _segment_max(self, params: Tensor) -> Tensor:
        """Each span's largest parameter per row (the Gaussian columns form one extra span), (B, dim) -> (B, S)."""
        b = params.shape[0]
        columns = params.T.contiguous()  # (dim, B): a segment max over rows is fast
        index = self.segment[:, None].expand(-1, b)  # (dim, B)
        return columns.new_full((self.segment_matrix.shape[1], b), -math.inf).scatter_reduce_(0, index, columns, "amax").T

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


#: a span's sum of exp(theta - shift) below this has lost precision to underflow (its largest term is no longer
#: a normal float within rounding): the shift falls back to the span's own maximum
_SAFE_SUM = {t: torch.finfo(t).tiny / torch.finfo(t).eps for t in (torch.float32, torch.float64)}


class _MixedLogProb(torch.autograd.Function):
    """log p(x | params) of the mixed likelihood, (B,), with its gradient in closed form.

    Gaussian heads: log N(x; tanh(theta), s^2) = -0.5 r^2 - log s - 0.5 log 2pi with
    r = (x - tanh(theta)) / s, so d/dtheta = r (1 - tanh^2(theta)) / s and d/dlog s = r^2 - 1.

    Categorical heads: sum_j x_j log softmax(theta)_j = sum_j x_j (theta_j - m) - w log sum_i exp(theta_i - m)
    within each span, with w = sum_j x_j (1 for a one-hot, anything for soft targets) and m any
    constant (it cancels), so d/dtheta_j = x_j - w softmax(theta)_j. m is the row's largest
    parameter, or the span's largest where a span's exponentials would underflow with that. The
    span sums are products with the column-to-span membership matrix: a few operations over the
    (B, dim) parameters whatever the number of spans.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, params: Tensor, log_sigma: Tensor, lik: Mixed) -> Tensor:  # type: ignore[override]
        total = params.new_zeros(params.shape[0])
        saved: list[Tensor] = []
        g = lik.gaussian_index
        if g.numel():
            mu = torch.tanh(params[:, g])  # (B, G)
            inv = torch.exp(-log_sigma)
            r = (x[:, g] - mu) * inv
            total = total + (-0.5 * r**2).sum(1) - (log_sigma.sum() + g.numel() * 0.5 * math.log(2.0 * math.pi))
            saved += [mu, inv, r]
        if lik.n_categorical:
            member = lik.segment_matrix.to(params.dtype)  # (dim, S)
            x_cat = x * lik.categorical_mask  # the Gaussian columns' own segment gets no weight
            # shifted by the row's largest parameter (cheap), or, where a whole span would underflow
            # then, by each span's largest (exact, but a transpose and a scatter)
            shifted = params - params.amax(1, keepdim=True)  # (B, dim)
            e = shifted.exp()
            sums = e @ member  # (B, S)
            if bool((sums < _SAFE_SUM[params.dtype]).any()):
                shifted = params - lik._segment_max(params) @ member.T  # <= 0 within each span, 0 at its largest
                e = shifted.exp()
                sums = e @ member
            w = x_cat @ member  # (B, S): the target mass of each span
            total = total + (x_cat * shifted).sum(1) - (w * sums.log()).sum(1)
            saved += [x_cat, e, sums, w]
            if ctx.needs_input_grad[0]:  # d/dx_j = log softmax_j: kept only when x needs a gradient
                saved.append(torch.where(lik.categorical_mask, shifted - sums.log() @ member.T, 0.0))
        ctx.lik = lik
        ctx.save_for_backward(*saved)
        return total

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None, None]:  # type: ignore[override]
        lik, saved = ctx.lik, list(ctx.saved_tensors)
        g = lik.gaussian_index
        d_params = d_log_sigma = d_x = None
        if lik.n_categorical and ctx.needs_input_grad[0]:
            d_x = saved.pop() * grad[:, None]  # log softmax within the categorical spans, 0 elsewhere
        if lik.n_categorical:
            x_cat, e, sums, w = saved[-4:]
            member = lik.segment_matrix.to(e.dtype)
            d_params = (x_cat - (w / sums) @ member.T * e) * grad[:, None]  # x_j - w softmax_j
        if g.numel():
            mu, inv, r = saved[:3]
            d_theta = (r * inv * (1.0 - mu**2)) * grad[:, None]  # (B, G)
            if d_params is None:
                d_params = grad.new_zeros(grad.shape[0], lik.dim)
            d_params[:, g] = d_theta
            d_log_sigma = ((r**2 - 1.0) * grad[:, None]).sum(0)
            if ctx.needs_input_grad[0]:  # d/dx of -0.5 r^2 = -r / s
                if d_x is None:
                    d_x = grad.new_zeros(grad.shape[0], lik.dim)
                d_x[:, g] = -(r * inv) * grad[:, None]
        if not ctx.needs_input_grad[1]:
            d_params = None
        if not ctx.needs_input_grad[2]:
            d_log_sigma = None
        return d_x, d_params, d_log_sigma, None
