"""Running sums of the loss terms, kept on the device between synchronizations."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from vaelab.training import distributed


class TermSums:
    """Running sums of the loss terms, each times its batch size, kept on the device.

    One ``stack`` and one ``add_`` per step and no synchronization: the
    values are read (and the device waited for) only by :meth:`sums`.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.names: tuple[str, ...] = ()
        self.values = torch.zeros(0, device=device)
        self.count = 0

    def _extend(self, names: Iterable[str]) -> None:
        new = tuple(k for k in names if k not in self.names)
        if new:
            self.names += new
            self.values = torch.cat([self.values, torch.zeros(len(new), device=self.device)])

    def add(self, terms: dict[str, Tensor], n: int) -> None:
        """Add ``terms`` (scalar means over a batch of ``n``)."""
        if tuple(terms) != self.names:
            self._extend(terms)
            if n == 0:
                return
            zero = torch.zeros((), device=self.device)
            stacked = torch.stack([terms[k].detach().float() if k in terms else zero for k in self.names])
        elif n == 0:
            return
        else:
            stacked = torch.stack([v.detach() for v in terms.values()]).float()
        self.values.add_(stacked, alpha=n)
        self.count += n

    def load(self, sums: dict[str, float], count: int) -> None:
        self.names = tuple(sums)
        self.values = torch.tensor(list(sums.values()), dtype=torch.float32, device=self.device).reshape(-1)
        self.count = count

    def sums(self) -> dict[str, float]:
        return dict(zip(self.names, self.values.tolist()))

    def means(self) -> dict[str, float]:
        return {k: v / self.count for k, v in self.sums().items()} if self.count else {}

    def all_reduced(self) -> TermSums:
        """The sums over every rank (a collective call).

        The ranks first agree on the names (a rank that saw no example has
        none), then sum values and counts in one all-reduce.
        """
        total = TermSums(self.device)
        for names in distributed.all_gather_objects(self.names):
            total._extend(names)
        mine = dict(zip(self.names, self.values.double().tolist()))
        packed = torch.tensor([*(mine.get(k, 0.0) for k in total.names), float(self.count)], dtype=torch.float64)
        packed = distributed.all_reduce_sum(packed)
        total.values = packed[:-1].float().to(self.device)
        total.count = int(packed[-1])
        return total
