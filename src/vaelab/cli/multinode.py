"""Training on several machines: the ``--nnodes``, ``--node-rank``, ``--rdzv-endpoint``, ``--rdzv-timeout`` options.

``vaelab train`` and ``vaelab resume`` take them and pass them to torch's
elastic launcher (torchrun's static rendezvous, see
:func:`vaelab.training.distributed.launch`). Every node runs the same command
with its own ``--node-rank``; node 0 hosts the rendezvous at the endpoint and
runs global rank 0, which alone writes the run directory. The run directory
must be on a folder that every node sees at the same path (a shared file
system): the processes of every node read its ``config.toml``, and on resume
its checkpoint. This module is light (no torch at import).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from vaelab.cli.errors import UsageError

if TYPE_CHECKING:
    from vaelab.training.distributed import NodeGroup

PANEL = "Several machines"
#: the same value as vaelab.training.distributed.DEFAULT_RDZV_TIMEOUT (checked by a test)
DEFAULT_TIMEOUT = 60

NNodes = Annotated[
    int,
    typer.Option(
        "--nnodes",
        min=1,
        rich_help_panel=PANEL,
        help="Machines to train on; run the same command on each, with its --node-rank (see the README).",
    ),
]
NodeRank = Annotated[
    Optional[int],
    typer.Option(
        "--node-rank",
        min=0,
        show_default=False,
        rich_help_panel=PANEL,
        help="This machine's number, 0 to nnodes-1; node 0 hosts the rendezvous and writes the run directory.",
    ),
]
RdzvEndpoint = Annotated[
    Optional[str],
    typer.Option(
        "--rdzv-endpoint",
        show_default=False,
        rich_help_panel=PANEL,
        help="HOST:PORT of node 0, reachable from every node (e.g. 10.0.0.1:29500).",
    ),
]
RdzvTimeout = Annotated[
    int,
    typer.Option(
        "--rdzv-timeout",
        min=1,
        rich_help_panel=PANEL,
        help="Seconds every node waits for the others at the rendezvous before it fails.",
    ),
]


def node_group(nnodes: int, node_rank: int | None, endpoint: str | None, timeout: int) -> NodeGroup:
    """The checked :class:`NodeGroup` of the options; a :class:`UsageError` naming the option otherwise."""
    from vaelab.training.distributed import NodeGroup, parse_endpoint

    if nnodes < 1:
        raise UsageError(f"--nnodes must be at least 1, got {nnodes}")
    if nnodes == 1:
        given = [name for name, value in (("--node-rank", node_rank), ("--rdzv-endpoint", endpoint)) if value]
        if given:
            raise UsageError(f"{' and '.join(given)} apply to several machines: pass --nnodes N (N > 1) as well")
        return NodeGroup()
    if node_rank is None:
        raise UsageError(f"--nnodes {nnodes} needs --node-rank R: this machine's number, 0 to {nnodes - 1}")
    if not 0 <= node_rank < nnodes:
        raise UsageError(f"--node-rank must be below --nnodes (0 to {nnodes - 1}), got {node_rank}")
    if not endpoint:
        raise UsageError(f"--nnodes {nnodes} needs --rdzv-endpoint HOST:PORT, the address of node 0")
    try:
        parse_endpoint(endpoint)
    except ValueError:
        raise UsageError(
            f"--rdzv-endpoint must be HOST:PORT with a port in 1-65535 (node 0's address, e.g. 10.0.0.1:29500), "
            f"got {endpoint!r}"
        ) from None
    if timeout < 1:
        raise UsageError(f"--rdzv-timeout must be at least 1 second, got {timeout}")
    return NodeGroup(nnodes=nnodes, node_rank=node_rank, endpoint=endpoint, timeout=timeout)


@contextmanager
def quiet_rendezvous(debug: bool) -> Iterator[dict[str, str]]:
    """Silence torch's C++ log in this process (a failed rendezvous prints pages of it); yields the workers' env.

    Works only before torch is first imported (c10 reads ``TORCH_CPP_LOG_LEVEL``
    once), so the commands enter it first. The workers get the environment as
    it was. With ``debug`` nothing changes.
    """
    environment = dict(os.environ)
    if debug or "TORCH_CPP_LOG_LEVEL" in os.environ:
        yield environment
        return
    os.environ["TORCH_CPP_LOG_LEVEL"] = "FATAL"
    try:
        yield environment
    finally:
        os.environ.pop("TORCH_CPP_LOG_LEVEL", None)
