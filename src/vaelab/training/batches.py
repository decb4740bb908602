"""What the trainer takes as data: batch sources and batches (a tensor of examples, or a tuple with conditions)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import torch
from torch import Tensor

from vaelab.model_output import ModelOutput


class BatchSource(Protocol):
    """What the trainer needs of its data (see :mod:`vaelab.data.streaming`).

    Data-parallel training also needs ``batch_size`` (the global batch) and
    that ``iter_epoch(rank=r, world_size=W)`` yields rank r's part of every
    global batch.
    """

    num_examples: int

    def __len__(self) -> int: ...

    def iter_epoch(self, epoch: int, *, start_batch: int = 0, rank: int = 0, world_size: int = 1) -> Iterable[Batch]: ...


#: a batch is a tensor of examples (b, *example_shape), or a tuple whose first element is one and whose
#: other elements (conditions, for instance) have b rows as well; the model is called as ``module(*batch)``
Batch = Tensor | tuple[Tensor, ...]
BatchTransform = Callable[[Tensor, torch.Generator], Tensor]


def batch_rows(batch: Batch) -> int:
    """Number of examples in a batch."""
    return (batch[0] if isinstance(batch, tuple) else batch).shape[0]


def batch_to(batch: Batch, device: torch.device) -> Batch:
    """The batch (every tensor of a tuple) on ``device``."""
    if isinstance(batch, (tuple, list)):
        return tuple(t.to(device, non_blocking=True) for t in batch)
    return batch.to(device, non_blocking=True)


def call_module(module: Any, batch: Batch, **kwargs: Any) -> ModelOutput:
    """``module(batch)``, or ``module(*batch)`` for a tuple batch."""
    return module(*batch, **kwargs) if isinstance(batch, tuple) else module(batch, **kwargs)


def transform_first(transform: BatchTransform, batch: Batch, generator: torch.Generator) -> Batch:
    """Apply a batch transform to the examples (the first element of a tuple batch) only."""
    if isinstance(batch, tuple):
        return (transform(batch[0], generator), *batch[1:])
    return transform(batch, generator)
