"""Process-level helpers: device choice, the memory allocator setting, torch's thread count."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from vaelab.errors import InputError

logger = logging.getLogger(__name__)

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
_allocator_tuned = False


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once per process (Linux only).

    Per-step activation tensors of a small model straddle glibc's dynamic mmap
    threshold, so each step maps and unmaps pages; pinning the thresholds high
    keeps them on the heap (measured up to 1.29x faster training on 2 CPU
    cores, see benchmarks/throughput.py). Returns True when the setting applied.
    """
    global _allocator_tuned
    if _allocator_tuned or not sys.platform.startswith("linux"):
        return _allocator_tuned
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, 256 * 1024 * 1024) == 1 and ok
    except (OSError, AttributeError):
        ok = False
    _allocator_tuned = ok
    logger.debug("malloc thresholds raised: %s", ok)
    return ok


def flushing_denormals() -> bool:
    """Whether this thread's CPU arithmetic flushes denormal floats to zero (FTZ/DAZ).

    torch has a setter (``torch.set_flush_denormal``) but no getter, so this
    probes: a float32 denormal times one is zero exactly when flushing is on.
    """
    return float(torch.tensor(1e-39, dtype=torch.float32) * 1.0) == 0.0


@contextmanager
def denormals_flushed(enabled: bool = True) -> Iterator[None]:
    """Flush denormal floats to zero on the CPU in the block, then restore this thread's setting.

    Late in training, mixture priors and softmax heads put some values below
    float32's smallest normal number (1.2e-38): 11% of a trained VampPrior's
    mixture weights were denormal, and arithmetic on denormals is one to two
    orders slower on x86. Flushing them changes no result above that size and
    made a VampPrior training step 1.3-1.45x faster (``benchmarks/denormals.py``).
    The setting is per thread (x86's MXCSR): it covers the calling thread, and
    torch's worker threads started inside the block inherit it (the CLI sets it
    before any, so all of its threads flush). Where the CPU cannot flush
    (``set_flush_denormal`` returns False) the block runs unchanged.
    """
    if not enabled:
        yield
        return
    with _flush_denormal_set(True):
        yield


@contextmanager
def denormals_kept() -> Iterator[None]:
    """Keep denormal floats in the block (this thread), then restore the setting: the inverse of
    :func:`denormals_flushed`, for code outside training whose float64 results need them.

    scikit-learn's variational mixtures (the table transformer's) take logs of tiny float64
    weights: flushed to zero, a log is -inf and the fit's lower bound becomes NaN
    (a RuntimeWarning, and a convergence test that never passes).
    """
    with _flush_denormal_set(False):
        yield


@contextmanager
def _flush_denormal_set(flush: bool) -> Iterator[None]:
    """This thread's flushing set to ``flush`` in the block, then restored (unchanged where the CPU cannot flush)."""
    if flushing_denormals() == flush:
        yield
        return
    changed = torch.set_flush_denormal(flush) or not flush  # turning flushing off always succeeds
    try:
        yield
    finally:
        if changed:
            torch.set_flush_denormal(not flush)


def flush_denormals_in_process() -> bool:
    """Flush denormal floats to zero for the rest of a process vaelab owns (the CLI's).

    Called before torch starts its worker threads, which then inherit the
    setting, so that every thread of a training command flushes (see
    :func:`denormals_flushed`). Returns False where the CPU cannot flush.
    """
    return bool(torch.set_flush_denormal(True))


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> cuda, else mps, else cpu; an unavailable explicit choice is an error."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} was asked for but CUDA is not available here; use device='auto' or 'cpu'")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device {device!r} was asked for but MPS is not available here; use device='auto' or 'cpu'")
    return dev


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Use ``n`` torch CPU threads in the block (0: leave the setting alone)."""
    previous = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
