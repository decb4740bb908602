"""Conditional vectors for a table, as in CTGAN (Xu et al. 2019, Section 4.3), for a conditional VAE.

The condition c is the concatenation of one block per discrete column of the
model frame (labels, booleans, merged fixed combinations), each as wide as the
column's one-hot. In training, each row gets either no condition (c = 0) or
the one-hot of its own label in one block, chosen uniformly among the m + 1
options (seeded), so that the model learns p(x | z, one column's value).

Sampling with ``conditions={"sex": "female"}`` sets that block to the label's
one-hot (a column merged into fixed combinations: one of the combinations
holding the value, drawn by their frequency), decodes, and writes the label
into the generated vector, so the value is exact and the other columns follow
the model's conditional distribution. Several conditions set several blocks
at once, which training never showed together: the values are still exact, the
rest is the network's extrapolation. Without conditions, c is drawn from the
training distribution of c (a block uniformly, then a label by its frequency),
so the samples follow the data's joint distribution.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaelab.errors import InputError
from vaelab.tabular.constraints import FixedCombinations


@dataclass(eq=False)  # hashed by identity: a dict key
class Block:
    """One discrete column's part of c and of the data vector."""

    column: str  # the model-frame column (a merged one is "a+b")
    labels: list[Any]
    x_start: int  # start of its one-hot in the data vector
    c_start: int  # start of its block in c
    frequencies: np.ndarray  # (k,)
    parts: list[str] | None = None  # the raw columns of a merged fixed combination


class ConditionVectors:
    """The layout of c for a fitted pipeline.

    Parameters
    ----------
    pipeline : TablePipeline
        Fitted; its discrete columns make the blocks.
    frequencies : dict of str to list of float
        Label frequencies per discrete column, in label order (from the training vectors).
    """

    def __init__(self, pipeline: Any, frequencies: dict[str, list[float]]) -> None:
        merged = {c.merged: c.columns() for c in pipeline.constraints if isinstance(c, FixedCombinations)}
        self.blocks: list[Block] = []
        c_start = 0
        for name, (x_start, labels) in pipeline.transformer.discrete_offsets().items():
            self.blocks.append(Block(name, labels, x_start, c_start, np.asarray(frequencies[name], float), merged.get(name)))
            c_start += len(labels)
        self.dim = c_start
        self.schema = pipeline.schema

    @staticmethod
    def frequencies(pipeline: Any, X: np.ndarray) -> dict[str, list[float]]:
        """Label frequencies of each discrete column in the training vectors X (n, d)."""
        out = {}
        for name, (start, labels) in pipeline.transformer.discrete_offsets().items():
            out[name] = [float(v) for v in X[:, start : start + len(labels)].mean(0)]
        return out

    def for_training(self, X: np.ndarray, seed: int) -> np.ndarray:
        """c (n, dim) for the training vectors: no condition or one block with the row's own label."""
        rng = np.random.default_rng(seed)
        n = X.shape[0]
        C = np.zeros((n, self.dim), np.float32)
        choice = rng.integers(0, len(self.blocks) + 1, n)  # len(blocks): no condition
        for i, b in enumerate(self.blocks):
            rows = choice == i
            k = len(b.labels)
            C[rows, b.c_start : b.c_start + k] = X[rows, b.x_start : b.x_start + k]
        return C

    def unconditional(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """c (n, dim) drawn from the training distribution of c."""
        C = np.zeros((n, self.dim), np.float32)
        choice = rng.integers(0, len(self.blocks) + 1, n)
        for i, b in enumerate(self.blocks):
            rows = np.flatnonzero(choice == i)
            p = b.frequencies / b.frequencies.sum()
            C[rows, b.c_start + rng.choice(len(p), rows.size, p=p)] = 1.0
        return C

    def conditional(
        self, n: int, conditions: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, list[tuple[int, np.ndarray]], tuple[int, np.ndarray] | None]:
        """c (n, dim) for the given column values, the one-hots to write into the data vectors, and the picks.

        Returns
        -------
        C : ndarray of shape (n, dim)
        writes : list of (x_start, one-hot (n, k))
        specific : (block index, label index per row (n,)) of the rarest condition, or None
        """
        C = np.zeros((n, self.dim), np.float32)
        writes, specific, rarest = [], None, np.inf
        for block, allowed in self._resolve(conditions).items():
            p = block.frequencies[allowed] + 1e-12
            picks = np.asarray(allowed)[rng.choice(len(allowed), n, p=p / p.sum())]
            onehot = np.eye(len(block.labels), dtype=np.float32)[picks]
            C[:, block.c_start : block.c_start + len(block.labels)] = onehot
            writes.append((block.x_start, onehot))
            if p.sum() < rarest:
                rarest, specific = p.sum(), (self.blocks.index(block), picks)
        return C, writes, specific

    def label_latents(self, module: Any, X: Any, batch: int = 4096) -> dict[str, Any]:
        """Per block and label, the mean and variance of the aggregate posterior q(z | x, c = that label).

        For the rows holding label v in column j, encoded with c = v's one-hot in
        block j: mean = E[mu], variance = E[sigma^2] + Var[mu] (the moments of the
        mixture of their posteriors). Returned as tensors "latent.{j}.mean" and
        "latent.{j}.var" of shape (k_j, latent_dim); a label without rows gets the prior's N(0, I).
        """
        import torch

        out = {}
        D = module.latent_dim
        for j, b in enumerate(self.blocks):
            k = len(b.labels)
            labels = X[:, b.x_start : b.x_start + k].argmax(1)
            mean, var = torch.zeros(k, D), torch.ones(k, D)
            for v in range(k):
                rows = X[labels == v]
                if rows.shape[0] == 0:
                    continue
                mus, sig2 = [], []
                for i in range(0, rows.shape[0], batch):
                    xb = rows[i : i + batch]
                    c = torch.zeros(xb.shape[0], self.dim)
                    c[:, b.c_start + v] = 1.0
                    q = module.encode(xb, c)
                    mus.append(q.mean)
                    sig2.append(q.variance if hasattr(q, "variance") else torch.zeros_like(q.mean))
                mu, s2 = torch.cat(mus), torch.cat(sig2)
                mean[v] = mu.mean(0)
                var[v] = s2.mean(0) + mu.var(0, unbiased=False)
            out[f"latent.{j}.mean"], out[f"latent.{j}.var"] = mean, var
        return out

    def _resolve(self, conditions: dict[str, Any]) -> dict[Block, list[int]]:
        """The blocks and the allowed label positions in each that the conditions name."""
        if not isinstance(conditions, dict):
            raise InputError(f"conditions must be a dict {{column: value}}, got {type(conditions).__name__}")
        names = self.schema.names
        out: dict[Block, list[int]] = {}
        for column, value in conditions.items():
            if column not in names:
                raise InputError(f"conditions name column {column!r}, which the table does not have; its columns: {names}")
            spec = self.schema[column]
            if spec.kind == "constant":
                if _same(spec.value, value):
                    continue
                raise InputError(f"column {column!r} is always {spec.value!r}; it cannot be {value!r}")
            block = next((b for b in self.blocks if b.column == column or (b.parts and column in b.parts)), None)
            if block is None:
                raise InputError(
                    f"conditions can name categorical or boolean columns; {column!r} is {spec.kind} "
                    "(declare it categorical in the metadata to condition on it)"
                )
            if block.parts:
                part = block.parts.index(column)
                keys = [json.loads(label)[part] for label in block.labels]
            else:
                keys = block.labels
            allowed = [i for i, key in enumerate(keys) if _same(key, value)]
            if block in out:
                allowed = [i for i in out[block] if i in allowed]
            if not allowed:
                known = sorted({str(k) for k in keys})
                raise InputError(f"conditions ask {column}={value!r}, which the data never holds (with the other "
                                 f"conditions); its values: {known[:20]}")
            out[block] = allowed
        return out


def _same(label: Any, value: Any) -> bool:
    """A label equals a condition value given as text or as itself (True == "true")."""
    if label is None:
        return value is None
    return label == value or str(label).lower() == str(value).lower()
