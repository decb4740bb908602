"""Shuffled mini-batches, from memory or from ``.npy`` shards larger than memory.

Both sources share one small API, so the trainer does not care which it gets::

    source.num_examples          # n
    source.example_shape         # e.g. (28, 28)
    source.batch_size            # B, the global batch size
    len(source)                  # batches per epoch, T = ceil(n / B)
    source.iter_epoch(epoch, start_batch=0, rank=0, world_size=1)
        -> Iterator[torch.Tensor]  # float32 (b, *example_shape); uint8 scaled to [0, 1]
    source.iter_batches(epoch, batches, rank=0, world_size=1)   # chosen batches only

A source built with ``condition=`` (an array of shape (n, K) row-aligned with
the examples: one-hot labels or attributes for a conditional model) yields
tuples ``(x, c)`` instead, with ``c`` float32 of shape (b, K) holding the rows
of the same examples; the trainer then calls ``module(x, c)``.

The order of an epoch is a pure function of ``(seed, epoch)``, every example is
seen exactly once per epoch (the last batch may be short; nothing is dropped),
and ``start_batch`` resumes mid-epoch with exactly the remaining batches.

For data-parallel training, rank ``r`` of ``world_size`` gets its part of
*every* global batch: global batch ``g`` holds the epoch's rows
``[g * B, g * B + L)`` (``L = min(B, n - g * B)``) and rank ``r`` the
contiguous slice ``[r * L // world_size, (r + 1) * L // world_size)`` of
them. So every rank takes the same ``T`` steps, the ranks' parts of a step
are disjoint and together are exactly the one-process batch (concatenated in
rank order), and averaging the ranks' gradients -- weighted by their share of
the batch, which the trainer does -- reproduces the one-process gradient. A
part may be empty (a last batch shorter than ``world_size``); it is then a
tensor of shape (0, *example_shape).

:class:`MemmapSource` never holds more than a window of rows: it shuffles the
order of fixed-size blocks of rows (across all shards), then shuffles rows
within windows of ``window_blocks`` consecutive blocks of that order, the
scheme of WebDataset-style shard + buffer shuffling. Each window's shuffle is
seeded by ``(seed, epoch, window)`` so a resumed or partitioned epoch can jump
to its first window without reading the ones before it.

:class:`LoaderSource` reads any source's batches in ``DataLoader`` worker
processes (whole batches, never single examples), which overlaps reading and
converting streamed data with training; the batches and their order are the
same as the wrapped source's.
"""

from __future__ import annotations

import math
import mmap
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from vaelab.errors import DataFileError, InputError

#: Default block size in bytes when ``block_size`` (in rows) is not given.
DEFAULT_BLOCK_BYTES = 4 << 20


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _as_condition(condition: object, n: int) -> torch.Tensor | None:
    """A source's optional condition array as a float32 CPU tensor of shape (n, K), checked against n."""
    if condition is None:
        return None
    c = torch.as_tensor(np.asarray(condition, dtype=np.float32) if not isinstance(condition, torch.Tensor) else condition)
    if c.ndim == 1:
        c = c[:, None]
    if c.ndim != 2 or c.shape[0] != n:
        raise InputError(
            f"condition must have shape (n, K) with n = {n} rows, one per example, got shape {tuple(c.shape)}"
        )
    return c.float().cpu()


def _to_float_batch(batch: torch.Tensor) -> torch.Tensor:
    """uint8 -> float32 in [0, 1]; anything else -> float32 as is."""
    if batch.dtype == torch.uint8:
        return batch.float().div_(255.0)
    return batch.float()


class _BatchSource:
    """Shared bookkeeping: sizes, argument checks and the rank partition."""

    num_examples: int
    example_shape: tuple[int, ...]
    batch_size: int
    seed: int

    def __len__(self) -> int:
        return math.ceil(self.num_examples / self.batch_size)

    def num_batches(self, rank: int = 0, world_size: int = 1) -> int:
        """Batches per epoch that ``rank`` of ``world_size`` receives: all ``len(self)`` (a part of each)."""
        self._check_rank(rank, world_size)
        return len(self)

    def _check_rank(self, rank: int, world_size: int) -> tuple[int, int]:
        world_size = _check_int("world_size", world_size, 1)
        rank = _check_int("rank", rank, 0)
        if rank >= world_size:
            raise InputError(f"rank must be in [0, world_size={world_size}), got {rank}")
        return rank, world_size

    def _spans(self, epoch: int, batches: Iterable[int], rank: int, world_size: int) -> list[tuple[int, int]]:
        """Positions [start, stop) in the epoch's order of this rank's part of each global batch."""
        _check_int("epoch", epoch, 0)
        rank, world_size = self._check_rank(rank, world_size)
        total, b, n = len(self), self.batch_size, self.num_examples
        spans, previous = [], -1
        for g in batches:
            if not 0 <= g < total or g <= previous:
                raise InputError(f"batches must be increasing indices in [0, {total}), got {g} after {previous}")
            previous = g
            first = g * b
            size = min(b, n - first)
            spans.append((first + rank * size // world_size, first + (rank + 1) * size // world_size))
        return spans

    def _epoch_batches(self, start_batch: int) -> range:
        start_batch = _check_int("start_batch", start_batch, 0)
        if start_batch > len(self):
            raise InputError(f"start_batch must be at most {len(self)} (batches per epoch), got {start_batch}")
        return range(start_batch, len(self))

    def iter_batches(
        self, epoch: int, batches: Iterable[int], *, rank: int = 0, world_size: int = 1
    ) -> Iterator[torch.Tensor]:
        """Yield the global batches numbered ``batches`` (increasing) of ``epoch``, this rank's part of each."""
        raise NotImplementedError

    def iter_epoch(
        self, epoch: int, *, start_batch: int = 0, rank: int = 0, world_size: int = 1
    ) -> Iterator[torch.Tensor]:
        """Yield this rank's float32 batches of shape (b, *example_shape) for ``epoch``, from ``start_batch`` on."""
        return self.iter_batches(epoch, self._epoch_batches(start_batch), rank=rank, world_size=world_size)


class InMemorySource(_BatchSource):
    """Shuffled batches from a tensor held in (CPU or GPU) memory.

    The trainer's fast path: one ``torch.randperm`` per epoch and one index per
    batch, no per-example Python and no ``DataLoader``.

    Parameters
    ----------
    data : torch.Tensor or ndarray of shape (n, ...)
        The examples; uint8 is scaled to [0, 1], other dtypes cast to float32.
    batch_size : int
        Examples per batch (the last batch of an epoch may be smaller).
    seed : int
        Epoch ``e`` uses ``torch.randperm(n, generator=Generator().manual_seed(
        seed * 1_000_003 + e))``.
    condition : Tensor or ndarray of shape (n, K), optional
        Conditions of the examples (one-hot labels, attributes); batches are
        then tuples ``(x, c)``.

    Examples
    --------
    >>> src = InMemorySource(torch.arange(10.0).reshape(10, 1), batch_size=4, seed=0)
    >>> [b.shape[0] for b in src.iter_epoch(0)], len(src)
    ([4, 4, 2], 3)
    """

    def __init__(
        self,
        data: torch.Tensor | np.ndarray,
        *,
        batch_size: int,
        seed: int,
        condition: torch.Tensor | np.ndarray | None = None,
    ) -> None:
        tensor = torch.from_numpy(np.require(data, requirements=["C", "W"])) if isinstance(data, np.ndarray) else data
        if not isinstance(tensor, torch.Tensor) or tensor.ndim < 1 or tensor.shape[0] == 0:
            got = type(data).__name__ if not isinstance(data, torch.Tensor) else f"shape {tuple(data.shape)}"
            raise InputError(f"data must be a non-empty tensor or array of shape (n, ...), got {got}")
        self.tensor = tensor
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.seed = _check_int("seed", seed, 0)
        self.num_examples = int(tensor.shape[0])
        self.example_shape = tuple(tensor.shape[1:])
        self.condition = _as_condition(condition, self.num_examples)
        if self.condition is not None:
            self.condition = self.condition.to(tensor.device)

    def permutation(self, epoch: int) -> torch.Tensor:
        """The epoch's order: int64 tensor of shape (n,), on the data's device."""
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + _check_int("epoch", epoch, 0))
        return torch.randperm(self.num_examples, generator=gen).to(self.tensor.device)

    def iter_batches(
        self, epoch: int, batches: Iterable[int], *, rank: int = 0, world_size: int = 1
    ) -> Iterator[torch.Tensor]:
        """Yield the global batches numbered ``batches`` (increasing) of ``epoch``, this rank's part of each."""
        spans = self._spans(epoch, batches, rank, world_size)
        perm = self.permutation(epoch)
        for start, stop in spans:
            rows = perm[start:stop]
            x = _to_float_batch(self.tensor.index_select(0, rows))  # the same rows as tensor[rows], a faster gather
            yield x if self.condition is None else (x, self.condition.index_select(0, rows))


class _NpyShard:
    """Rows of one ``.npy`` file, read through a private read-only memory map.

    After copying a block out, the mapped pages are released with
    ``madvise(MADV_DONTNEED)`` (where the OS has it), so the resident memory of
    the process does not grow with the size of the file.
    """

    def __init__(self, path: Path) -> None:
        try:
            header = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataFileError(f"{path}: cannot memory-map as a .npy file ({exc})") from None
        if not isinstance(header, np.memmap):
            raise DataFileError(f"{path}: expected a .npy file, got an .npz archive; save shards with np.save")
        if header.ndim < 1 or (header.ndim > 1 and not header.flags.c_contiguous):
            raise DataFileError(f"{path}: expected a C-ordered array of shape (n, ...), got {header.shape}")
        self.path, self.dtype, self.shape = path, header.dtype, tuple(header.shape)
        self.offset = int(header.offset)
        self.row_items = math.prod(self.shape[1:])
        del header
        self._mm = self._map()

    def _map(self) -> mmap.mmap:
        with open(self.path, "rb") as fh:  # never empty: a .npy file starts with its header
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_mm"}  # each process maps the file itself

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._mm = self._map()

    def __len__(self) -> int:
        return self.shape[0]

    def read(self, start: int, stop: int) -> np.ndarray:
        """Copy rows [start, stop) into memory: ndarray of shape (stop - start, ...)."""
        row_bytes = self.row_items * self.dtype.itemsize
        begin = self.offset + start * row_bytes
        view = np.frombuffer(self._mm, dtype=self.dtype, count=(stop - start) * self.row_items, offset=begin)
        rows = view.reshape((stop - start, *self.shape[1:])).copy()
        del view
        if hasattr(mmap, "MADV_DONTNEED"):
            page = begin - begin % mmap.PAGESIZE
            self._mm.madvise(mmap.MADV_DONTNEED, page, begin + (stop - start) * row_bytes - page)
        return rows


class _ArrayShard:
    """Rows of an array the caller already holds (in memory or an ``np.memmap``)."""

    def __init__(self, array: np.ndarray) -> None:
        if array.ndim < 1:
            raise InputError(f"arrays must have shape (n, ...), got a scalar of dtype {array.dtype}")
        self.array, self.dtype, self.shape = array, array.dtype, tuple(array.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def read(self, start: int, stop: int) -> np.ndarray:
        return np.array(self.array[start:stop])


class MemmapSource(_BatchSource):
    """Shuffled batches streamed from ``.npy`` shards without loading them.

    Parameters
    ----------
    paths_or_array : path, ndarray, or a sequence of them
        One or more ``.npy`` files (memory-mapped) or arrays, concatenated along
        axis 0. All must share the example shape and dtype.
    batch_size : int
        Examples per batch (the last batch of an epoch may be smaller).
    seed : int
        Seeds the order; epoch ``e`` is a deterministic function of ``(seed, e)``.
    block_size : int, optional
        Rows per block, the unit of the coarse shuffle and of reading. Default:
        as many rows as fit in 4 MiB (at least 1).
    window_blocks : int, default 8
        Blocks per window, the unit of the fine (row-level) shuffle. Memory in
        use is about two windows: ``2 * window_blocks * block_size`` rows.
    condition : ndarray or Tensor of shape (n, K), optional
        Conditions of the examples, held in memory, row-aligned with the
        shards concatenated in order; batches are then tuples ``(x, c)``.

    Examples
    --------
    >>> rows = np.arange(10, dtype=np.float32).reshape(10, 1)
    >>> src = MemmapSource(rows, batch_size=4, seed=0, block_size=3)
    >>> sorted(torch.cat(list(src.iter_epoch(0))).flatten().tolist()) == rows.ravel().tolist()
    True
    """

    def __init__(
        self,
        paths_or_array: str | os.PathLike[str] | np.ndarray | Sequence[str | os.PathLike[str] | np.ndarray],
        *,
        batch_size: int,
        seed: int,
        block_size: int | None = None,
        window_blocks: int = 8,
        condition: np.ndarray | torch.Tensor | None = None,
    ) -> None:
        items = [paths_or_array] if isinstance(paths_or_array, (str, os.PathLike, np.ndarray)) else list(paths_or_array)
        if not items:
            raise InputError("paths_or_array must name at least one .npy file or array, got an empty sequence")
        self._shards = [_ArrayShard(s) if isinstance(s, np.ndarray) else _NpyShard(Path(s)) for s in items]
        first = self._shards[0]
        for shard in self._shards[1:]:
            if shard.shape[1:] != first.shape[1:] or shard.dtype != first.dtype:
                raise InputError(
                    f"all shards must share example shape and dtype: the first is {first.dtype} "
                    f"{first.shape[1:]}, another is {shard.dtype} {shard.shape[1:]}"
                )
        self.num_examples = sum(len(s) for s in self._shards)
        if self.num_examples == 0:
            raise InputError("paths_or_array holds no examples (every shard has 0 rows)")
        self.example_shape = tuple(first.shape[1:])
        self.condition = _as_condition(condition, self.num_examples)
        self._shard_offsets = np.cumsum([0] + [len(s) for s in self._shards])
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.seed = _check_int("seed", seed, 0)
        self.window_blocks = _check_int("window_blocks", window_blocks, 1)
        row_bytes = max(1, math.prod(self.example_shape) * first.dtype.itemsize)
        default_rows = max(1, DEFAULT_BLOCK_BYTES // row_bytes)
        self.block_size = _check_int("block_size", default_rows if block_size is None else block_size, 1)
        # (n_blocks, 3): shard index, first row, end row. Blocks never straddle shards.
        self._blocks = np.array(
            [
                (i, a, min(a + self.block_size, len(s)))
                for i, s in enumerate(self._shards)
                for a in range(0, len(s), self.block_size)
            ],
            dtype=np.int64,
        )

    def _rng(self, epoch: int, *stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, epoch, *stream])

    def _read_window(self, blocks: np.ndarray) -> np.ndarray:
        """Concatenate the rows of ``blocks`` (k, 3): ndarray of shape (rows, *example_shape)."""
        parts = [self._shards[s].read(a, b) for s, a, b in blocks.tolist()]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _window_rows(self, blocks: np.ndarray) -> np.ndarray:
        """Global row numbers (over the concatenated shards) of the rows ``_read_window(blocks)`` returns."""
        offsets = self._shard_offsets
        return np.concatenate([np.arange(offsets[s] + a, offsets[s] + b) for s, a, b in blocks.tolist()])

    def _windows(self, epoch: int) -> tuple[list[np.ndarray], np.ndarray]:
        """The epoch's windows (each a (k, 3) array of blocks) and their end positions in the epoch order."""
        order = self._blocks[self._rng(epoch, 0).permutation(len(self._blocks))]
        windows = [order[i : i + self.window_blocks] for i in range(0, len(order), self.window_blocks)]
        ends = np.cumsum([int((w[:, 2] - w[:, 1]).sum()) for w in windows])
        return windows, ends

    def iter_batches(
        self, epoch: int, batches: Iterable[int], *, rank: int = 0, world_size: int = 1
    ) -> Iterator[torch.Tensor]:
        """Yield the global batches numbered ``batches`` (increasing) of ``epoch``, this rank's part of each.

        Windows are read one at a time, in order, as the batches reach them; a
        window that holds none of the requested rows is never read.
        """
        spans = self._spans(epoch, batches, rank, world_size)
        windows, ends = self._windows(epoch)
        current = -1
        rows = np.empty((0, *self.example_shape), self._shards[0].dtype)
        perm = np.empty(0, np.int64)
        index = np.empty(0, np.int64)
        for start, stop in spans:
            pieces: list[np.ndarray] = []
            picked: list[np.ndarray] = []
            pos = start
            while pos < stop:
                w = int(np.searchsorted(ends, pos, side="right"))  # the window that holds position `pos`
                w_start = int(ends[w - 1]) if w else 0
                if w != current:
                    del rows  # drop the previous window before reading the next
                    rows = self._read_window(windows[w])
                    perm = self._rng(epoch, 1, w).permutation(len(rows))  # row shuffle within the window
                    if self.condition is not None:
                        index = self._window_rows(windows[w])
                    current = w
                end = min(stop, int(ends[w]))
                pieces.append(rows[perm[pos - w_start : end - w_start]])
                if self.condition is not None:
                    picked.append(index[perm[pos - w_start : end - w_start]])
                pos = end
            if len(pieces) == 1:
                batch = pieces[0]
            else:  # a part that straddles windows, or an empty part
                batch = np.concatenate(pieces) if pieces else np.empty((0, *self.example_shape), rows.dtype)
            x = _to_float_batch(torch.from_numpy(batch))
            if self.condition is None:
                yield x
            else:
                yield x, self.condition[torch.from_numpy(np.concatenate(picked) if picked else index[:0])]


class _EpochBatches(torch.utils.data.IterableDataset):
    """One epoch of a source's batches; DataLoader worker ``k`` of ``K`` makes batches k, k + K, ..."""

    def __init__(self, source: _BatchSource, epoch: int, start_batch: int, rank: int, world_size: int) -> None:
        self.source, self.epoch, self.start_batch = source, epoch, start_batch
        self.rank, self.world_size = rank, world_size

    def __iter__(self) -> Iterator[torch.Tensor]:
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        mine = range(self.start_batch + worker, len(self.source), workers)
        return self.source.iter_batches(self.epoch, mine, rank=self.rank, world_size=self.world_size)


class LoaderSource:
    """Another source's batches, made in ``DataLoader`` worker processes.

    For streamed data (:class:`MemmapSource`) the reading, shuffling and
    uint8-to-float conversion of the next batches then overlap with training.
    Workers make whole batches (worker ``k`` of ``K`` the batches ``k, k + K,
    ...`` of the epoch) and the loader returns them in the epoch's order, so
    the batches are exactly those of the wrapped source. Data that fits in
    memory needs no workers: pass an :class:`InMemorySource` to the trainer.

    Parameters
    ----------
    source : InMemorySource or MemmapSource
    num_workers : int, default 2
        Worker processes; 0 makes the batches in the training process.
    prefetch_factor : int, default 4
        Batches each worker prepares ahead.
    pin_memory : bool, default False
        Page-lock the batches (speeds up copies to a CUDA device).

    Examples
    --------
    >>> rows = np.arange(10, dtype=np.float32).reshape(10, 1)
    >>> src = MemmapSource(rows, batch_size=4, seed=0, block_size=3)
    >>> loader = LoaderSource(src, num_workers=0)
    >>> all(torch.equal(a, b) for a, b in zip(loader.iter_epoch(1), src.iter_epoch(1), strict=True))
    True
    """

    def __init__(
        self, source: _BatchSource, *, num_workers: int = 2, prefetch_factor: int = 4, pin_memory: bool = False
    ) -> None:
        if not isinstance(source, _BatchSource):
            raise InputError(f"source must be an InMemorySource or a MemmapSource, got {type(source).__name__}")
        self.source = source
        self.num_workers = _check_int("num_workers", num_workers, 0)
        self.prefetch_factor = _check_int("prefetch_factor", prefetch_factor, 1)
        self.pin_memory = bool(pin_memory)
        self.num_examples, self.example_shape = source.num_examples, source.example_shape
        self.batch_size, self.seed = source.batch_size, source.seed

    def __len__(self) -> int:
        return len(self.source)

    def iter_epoch(
        self, epoch: int, *, start_batch: int = 0, rank: int = 0, world_size: int = 1
    ) -> Iterator[torch.Tensor]:
        """The wrapped source's ``iter_epoch``, made by the workers."""
        self.source._epoch_batches(start_batch)  # check arguments here, not in a worker
        self.source._check_rank(rank, world_size)
        dataset = _EpochBatches(self.source, epoch, start_batch, rank, world_size)
        workers = min(self.num_workers, len(self.source) - start_batch)
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=None,  # items are whole batches already
            num_workers=workers,
            prefetch_factor=self.prefetch_factor if workers else None,
            pin_memory=self.pin_memory,
            generator=torch.Generator().manual_seed(self.seed),  # else it draws from, and shifts, the global RNG
        )
        return (tuple(b) if isinstance(b, list) else b for b in loader)  # the loader turns (x, c) into a list
