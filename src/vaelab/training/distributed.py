"""Data-parallel training on ``torch.distributed`` (DDP), launched by torchrun.

The trainer turns data-parallel on its own when it runs in a process group:
one that the caller initialized, or one it initializes from the environment
torchrun sets (``WORLD_SIZE > 1``; gloo on CPU, NCCL on CUDA, each process on
``cuda:LOCAL_RANK``). Then

- the module is wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`;
- each rank trains on its part of *every* global batch (see
  :mod:`vaelab.data.streaming`) and its loss is weighted by its share of the
  batch, so that DDP's gradient average equals the one-process gradient of
  the same global batch, and all ranks take the same number of steps;
- epoch sums and validation sums are all-reduced, so every rank sees the same
  history and makes the same early-stopping decision;
- only rank 0 writes checkpoints and runs printing callbacks; a checkpoint
  holds every rank's random state, so a distributed run resumes exactly;
- rank ``r`` draws its own noise (the global RNG is seeded with ``seed + r``):
  a VAE trained on 2 processes therefore equals one trained on 1 process only
  up to the reparameterization noise; a deterministic model (the autoencoder)
  gives the same weights up to floating-point rounding.

Launch with ``torchrun --standalone --nproc_per_node N script.py``, from
Python with :func:`launch`, or from the command line with ``vaelab train --nproc N``.
On several machines, :func:`launch` with ``nodes=NodeGroup(...)`` runs on each
of them (torchrun's static rendezvous: node 0 hosts the rendezvous at the
endpoint, global ranks follow the node rank, so rank 0 runs on node 0), as
``vaelab train --nnodes 2 --node-rank R --rdzv-endpoint HOST:PORT`` does.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from vaelab.errors import InputError

logger = logging.getLogger(__name__)


def rank_and_world() -> tuple[int, int]:
    """(rank, world_size) of this process; (0, 1) outside a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main_process() -> bool:
    """True on rank 0 of a process group, and in a process that is not in one."""
    return rank_and_world()[0] == 0


def _env_world_size() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def local_device(device: torch.device) -> torch.device:
    """Under torchrun, a CUDA device becomes ``cuda:LOCAL_RANK``; others are unchanged."""
    if device.type == "cuda" and device.index is None and "LOCAL_RANK" in os.environ:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def init_from_env(device: str | torch.device = "cpu") -> bool:
    """Join the process group that torchrun's environment describes, if there is one.

    Does nothing when a group is already initialized or when ``WORLD_SIZE`` is
    unset or 1. The backend is NCCL for a CUDA ``device``, else gloo.

    Returns
    -------
    bool
        Whether this process now runs in a process group of more than one process.
    """
    if not dist.is_available():
        return False
    if not dist.is_initialized() and _env_world_size() > 1:
        device = torch.device(device)
        backend = "nccl" if device.type == "cuda" and dist.is_nccl_available() else "gloo"
        dist.init_process_group(backend=backend)
        atexit.register(_destroy)
        logger.info("joined process group: rank %d of %d (%s)", dist.get_rank(), dist.get_world_size(), backend)
    return rank_and_world()[1] > 1


def _destroy() -> None:
    """Leave the group together: a rank that tears gloo down while another still works on its own (rank 0
    evaluates and saves after training) can abort in gloo's threads ("terminate called without an active
    exception", seen in about 1 of 7 two-process test runs)."""
    if dist.is_initialized():
        try:
            dist.barrier()
        except RuntimeError:  # another rank is gone already (it failed): nothing to wait for
            pass
        dist.destroy_process_group()


def wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """``module`` in DistributedDataParallel (which broadcasts rank 0's weights to all ranks)."""
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids, gradient_as_bucket_view=True)


def all_reduce_sum(tensor: Tensor) -> Tensor:
    """Sum ``tensor`` over all ranks, in place (on NCCL through the current CUDA device); returns it."""
    if dist.get_backend() == "nccl" and tensor.device.type != "cuda":
        moved = tensor.to(torch.device("cuda", torch.cuda.current_device()))
        dist.all_reduce(moved)
        tensor.copy_(moved.to(tensor.device))
    else:
        dist.all_reduce(tensor)
    return tensor


def all_gather_objects(value: object) -> list[object]:
    """Every rank's ``value`` (small, picklable), in rank order (a collective call)."""
    everyone: list[object] = [None] * rank_and_world()[1]
    dist.all_gather_object(everyone, value)
    return everyone


def sum_over_ranks(value: float) -> float:
    """The sum of ``value`` over all ranks (a collective call)."""
    return float(all_reduce_sum(torch.tensor([float(value)], dtype=torch.float64))[0])


def barrier() -> None:
    if rank_and_world()[1] > 1:
        dist.barrier()


def gather_rng_states(states: dict[str, Tensor]) -> dict[str, Tensor]:
    """Rank 0's ``states`` plus every other rank's, as ``rank{r}.{name}`` (a collective call)."""
    rank, world = rank_and_world()
    if world == 1:
        return states
    everyone = all_gather_objects({k: v.cpu() for k, v in states.items()})
    merged = dict(states) if rank == 0 else dict(everyone[0] or {})
    for r, other in enumerate(everyone[1:], start=1):
        merged.update({f"rank{r}.{k}": v for k, v in (other or {}).items()})
    return merged


def own_rng_states(states: Mapping[str, Tensor], rank: int) -> dict[str, Tensor] | None:
    """This rank's part of :func:`gather_rng_states`'s result; None when the checkpoint has none for it."""
    if rank == 0:
        return dict(states)
    prefix = f"rank{rank}."
    own = {k[len(prefix):]: v for k, v in states.items() if k.startswith(prefix)}
    return own or None


def batch_share(batch_rows: int, global_rows: int, world_size: int) -> float:
    """Loss weight of a rank's part: DDP averages gradients over ranks, so weight = W * n_r / N."""
    return world_size * batch_rows / global_rows


#: Seconds the nodes wait for each other at the rendezvous before giving up (``--rdzv-timeout``).
DEFAULT_RDZV_TIMEOUT = 60


@dataclass(frozen=True)
class NodeGroup:
    """The machines of a multi-node run, as torchrun's ``--nnodes``, ``--node-rank``, ``--rdzv-endpoint``.

    Parameters
    ----------
    nnodes : int
        Number of machines (1: this machine only).
    node_rank : int
        This machine's number, 0 .. nnodes-1; node 0 hosts the rendezvous and global rank 0.
    endpoint : str
        ``HOST:PORT`` of node 0, reachable from every node (needed when nnodes > 1).
    timeout : int
        Seconds to wait for all nodes at the rendezvous; then the launch fails.
    """

    nnodes: int = 1
    node_rank: int = 0
    endpoint: str = ""
    timeout: int = DEFAULT_RDZV_TIMEOUT

    def __post_init__(self) -> None:
        checks = (("nnodes", self.nnodes, 1), ("node_rank", self.node_rank, 0), ("timeout", self.timeout, 1))
        for name, value, low in checks:
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InputError(f"{name} must be an int >= {low}, got {value!r}")
        if self.node_rank >= self.nnodes:
            raise InputError(
                f"node_rank must be below nnodes (nodes are numbered 0..{self.nnodes - 1}), got {self.node_rank}"
            )
        if self.nnodes > 1:
            parse_endpoint(self.endpoint)

    @property
    def multi_node(self) -> bool:
        return self.nnodes > 1


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """``"HOST:PORT"`` (``"[::1]:PORT"`` for IPv6) -> (host, port); InputError naming the endpoint otherwise."""
    text = str(endpoint).strip()
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c in host for c in " /"):
        raise InputError(
            "endpoint must be HOST:PORT with a port in 1-65535 (node 0's address, e.g. 10.0.0.1:29500), "
            f"got {endpoint!r}"
        )
    return host, int(port)


class RendezvousFailed(InputError):
    """The nodes of a multi-node launch did not meet at the rendezvous within the timeout."""


def launch(
    argv: Sequence[str], nproc: int, *, env: Mapping[str, str] | None = None, nodes: NodeGroup | None = None
) -> int:
    """Run a command in ``nproc`` processes on this machine, as torchrun does; returns its exit code.

    Runs torch's elastic launcher (the engine of ``torchrun --standalone
    --nproc_per_node NPROC``) in this process: ``argv`` is a script and its
    arguments, or ``["-m", "package.module", *arguments]``, started with this
    Python. Each process gets torchrun's environment (``RANK``,
    ``WORLD_SIZE``, ``MASTER_ADDR``, ...) and ``OMP_NUM_THREADS = cpu_count
    // nproc`` unless ``env`` (default: this process's environment) sets it.
    The launcher's own log is silenced: the processes report their errors.

    With ``nodes`` of more than one machine, run this on every one of them
    (the same ``argv`` and ``nproc``, each with its ``node_rank``): they meet
    at node 0's ``endpoint`` and form one group of ``nnodes * nproc``
    processes.

    Returns
    -------
    int
        0 when every process succeeded, else the exit code of the first that failed.

    Raises
    ------
    RendezvousFailed
        When the nodes did not all meet at the endpoint within ``nodes.timeout`` seconds.
    KeyboardInterrupt
        On Ctrl-C or SIGTERM, after the processes were stopped.

    Examples
    --------
    ``launch(["-m", "vaelab.cli", "resume", "runs/mnist-vae"], 2)`` continues a run on two processes.
    """
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise InputError(f"nproc must be an int >= 1, got {nproc!r}")
    argv = [str(a) for a in argv]
    if not argv:
        raise InputError("argv must name a script or '-m module' to run, got an empty list")
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    environment = dict(os.environ if env is None else env)
    environment.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    nodes = nodes if nodes is not None else NodeGroup()
    if nodes.multi_node:  # torchrun --nnodes N --node-rank R --master-addr HOST --master-port PORT (static)
        rendezvous: dict[str, Any] = {
            "run_id": f"vaelab-{nodes.endpoint}",
            "rdzv_backend": "static",
            "rdzv_endpoint": nodes.endpoint,
            "rdzv_configs": {"rank": nodes.node_rank, "timeout": nodes.timeout},
            "rdzv_timeout": nodes.timeout,
        }
    else:  # a free port, as torchrun --standalone
        rendezvous = {"run_id": str(uuid.uuid4()), "rdzv_backend": "c10d", "rdzv_endpoint": "localhost:0"}
    config = LaunchConfig(
        min_nodes=nodes.nnodes,
        max_nodes=nodes.nnodes,
        nproc_per_node=nproc,
        max_restarts=0,
        monitor_interval=0.2,
        **rendezvous,
    )
    logger.info("launching %d processes: %s %s", nproc, sys.executable, " ".join(argv))
    elastic_log = logging.getLogger("torch.distributed.elastic")
    level = elastic_log.level
    elastic_log.setLevel(logging.CRITICAL)
    try:
        with _environment(environment):
            elastic_launch(config, entrypoint=sys.executable)("-u", *argv)
    except ChildFailedError as exc:
        _, failure = exc.get_first_failure()
        return int(failure.exitcode) or 1
    except SignalException:
        raise KeyboardInterrupt from None
    except Exception as exc:  # noqa: BLE001 - the rendezvous's errors have no common class
        if not nodes.multi_node:
            raise
        raise RendezvousFailed(
            f"node {nodes.node_rank} of {nodes.nnodes} could not meet the other nodes at {nodes.endpoint} within "
            f"{nodes.timeout} s ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); check that node 0 runs "
            "with the same endpoint, that HOST:PORT is node 0's address reachable from every node, and that "
            "every node started within the timeout"
        ) from None
    finally:
        elastic_log.setLevel(level)
    return 0


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` replaced by ``values`` while the block runs (started processes inherit it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
