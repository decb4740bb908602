"""Batch sources for data-parallel and worker-process training.

The basic contract (every example once per epoch, order a function of
(seed, epoch), resume by start_batch, uint8 scaling) is tested in
test_data.py; here: the split of every global batch across ranks, chosen
batches, and the DataLoader worker path.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from vaelab.data import InMemorySource, MemmapSource
from vaelab.data.streaming import LoaderSource
from vaelab.errors import InputError

N, B = 205, 16  # 13 batches, the last of 13 rows
ROWS = np.repeat(np.arange(N, dtype=np.float32)[:, None], 3, axis=1)  # row i holds i


@pytest.fixture(params=["memory", "memmap"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> InMemorySource | MemmapSource:
    if request.param == "memory":
        return InMemorySource(ROWS, batch_size=B, seed=4)
    for i, part in enumerate(np.array_split(ROWS, 4)):
        np.save(tmp_path / f"s{i}.npy", part)
    return MemmapSource(sorted(tmp_path.glob("s*.npy")), batch_size=B, seed=4, block_size=9, window_blocks=2)


def _ids(batch: torch.Tensor) -> list[int]:
    return batch[:, 0].long().tolist()


@pytest.mark.parametrize("world_size", [1, 2, 3, 5, 14, 17])
def test_ranks_split_every_global_batch(source, world_size: int) -> None:
    whole = [_ids(b) for b in source.iter_epoch(2)]
    parts = [[_ids(b) for b in source.iter_epoch(2, rank=r, world_size=world_size)] for r in range(world_size)]
    assert all(len(p) == len(whole) == source.num_batches(r, world_size) for r, p in enumerate(parts))  # same steps
    for g, batch in enumerate(whole):
        pieces = [parts[r][g] for r in range(world_size)]
        assert [i for piece in pieces for i in piece] == batch  # the one-process batch, split in rank order
        assert max(map(len, pieces)) - min(map(len, pieces)) <= 1
    resumed = [_ids(b) for b in source.iter_epoch(2, start_batch=10, rank=world_size - 1, world_size=world_size)]
    assert resumed == parts[-1][10:]


def test_chosen_batches_equal_those_of_the_epoch(source) -> None:
    whole = list(source.iter_epoch(1))
    chosen = list(source.iter_batches(1, [0, 3, 4, 12]))
    assert all(torch.equal(a, whole[i]) for a, i in zip(chosen, [0, 3, 4, 12], strict=True))
    with pytest.raises(InputError, match="increasing"):
        list(source.iter_batches(1, [3, 2]))
    with pytest.raises(InputError, match="increasing"):
        list(source.iter_batches(1, [13]))


def test_an_empty_part_keeps_the_example_shape(source) -> None:
    last = next(iter(source.iter_batches(0, [12], rank=0, world_size=17)))  # 13 rows over 17 ranks: rank 0 gets none
    assert last.shape == (0, 3) and last.dtype == torch.float32


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_loader_source_yields_the_same_batches_in_order(source, workers: int) -> None:
    loader = LoaderSource(source, num_workers=workers, prefetch_factor=2)
    assert (len(loader), loader.num_examples, loader.example_shape) == (len(source), N, (3,))
    for kwargs in ({}, {"start_batch": 5}, {"start_batch": 11, "rank": 1, "world_size": 2}):
        expected = list(source.iter_epoch(3, **kwargs))
        got = list(loader.iter_epoch(3, **kwargs))
        assert len(got) == len(expected) and all(torch.equal(a, b) for a, b in zip(got, expected))
    with pytest.raises(InputError, match="start_batch"):
        loader.iter_epoch(0, start_batch=14)
    with pytest.raises(InputError, match="source"):
        LoaderSource(ROWS)  # type: ignore[arg-type]


def test_memmap_source_pickles_for_spawned_workers(source) -> None:
    copy = pickle.loads(pickle.dumps(source))
    assert all(torch.equal(a, b) for a, b in zip(copy.iter_epoch(5), source.iter_epoch(5), strict=True))
