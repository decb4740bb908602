"""Training checkpoints: everything needed to continue a run exactly, without pickle.

A checkpoint is a folder ``step-000001234/`` holding

- ``model.safetensors``: the module's state dict;
- ``optimizer.safetensors`` + the JSON part of the optimizer state;
- ``best.safetensors``: the best weights so far (for early stopping), if any;
- ``rng.safetensors``: random-number-generator states;
- ``state.json``: epoch, step, position in the epoch, history, and so on.

It is written to a temporary folder and renamed into place; then the small
file ``latest`` is atomically rewritten to name it, and older checkpoints are
pruned. A crash at any moment leaves the previous checkpoint usable.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from vaelab.errors import ModelFileError
from vaelab.serialization import atomic_directory, atomic_write_text, load_tensors, read_json, save_tensors, write_json

LATEST = "latest"


@dataclass
class Checkpoint:
    model: dict[str, Tensor]
    optimizer: dict[str, Any]
    state: dict[str, Any]
    rng: dict[str, Tensor]
    best: dict[str, Tensor] | None


def flatten_optimizer_state(state_dict: dict[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors (for safetensors) and JSON."""
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, pstate in state_dict["state"].items():
        for key, value in pstate.items():
            if isinstance(value, Tensor):
                tensors[f"{pid}.{key}"] = value
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def unflatten_optimizer_state(tensors: dict[str, Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    for pid, values in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    directory: str | Path,
    *,
    model: dict[str, Tensor],
    optimizer: dict[str, Any],
    state: dict[str, Any],
    rng: dict[str, Tensor],
    best: dict[str, Tensor] | None = None,
    keep: int = 2,
) -> Path:
    """Write a checkpoint for ``state["step"]`` and point ``latest`` at it; returns its folder."""
    directory = Path(directory)
    name = f"step-{int(state['step']):09d}"
    opt_tensors, opt_meta = flatten_optimizer_state(optimizer)
    with atomic_directory(directory / name, overwrite=True) as tmp:
        save_tensors(tmp / "model.safetensors", model)
        save_tensors(tmp / "optimizer.safetensors", opt_tensors)
        save_tensors(tmp / "rng.safetensors", rng)
        if best is not None:
            save_tensors(tmp / "best.safetensors", best)
        write_json(tmp / "optimizer.json", opt_meta)
        write_json(tmp / "state.json", state)
    atomic_write_text(directory / LATEST, name + "\n")
    for old in sorted(directory.glob("step-*"))[:-keep]:
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return directory / name


def has_checkpoint(directory: str | Path) -> bool:
    return (Path(directory) / LATEST).is_file()


def load_checkpoint(directory: str | Path) -> Checkpoint:
    """Read the checkpoint that ``directory/latest`` names."""
    directory = Path(directory)
    pointer = directory / LATEST
    if not pointer.is_file():
        raise ModelFileError(f"no checkpoint in {directory} (no '{LATEST}' file); nothing to resume")
    folder = directory / pointer.read_text().strip()
    if not folder.is_dir():
        raise ModelFileError(f"{pointer} names {folder.name}, which does not exist; the checkpoint folder is damaged")
    best_path = folder / "best.safetensors"
    return Checkpoint(
        model=load_tensors(folder / "model.safetensors"),
        optimizer=unflatten_optimizer_state(
            load_tensors(folder / "optimizer.safetensors"), read_json(folder / "optimizer.json", "optimizer state")
        ),
        state=read_json(folder / "state.json", "training state"),
        rng=load_tensors(folder / "rng.safetensors"),
        best=load_tensors(best_path) if best_path.is_file() else None,
    )


def rng_state(generators: dict[str, torch.Generator] | None = None) -> dict[str, Tensor]:
    """The global CPU (and CUDA) RNG states plus those of named generators."""
    states = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            states[f"cuda.{i}"] = s
    for name, gen in (generators or {}).items():
        states[f"gen.{name}"] = gen.get_state()
    return states


def set_rng_state(states: dict[str, Tensor]) -> None:
    torch.set_rng_state(states["torch"].to(torch.uint8))
    cuda = [states[k] for k in sorted(states) if k.startswith("cuda.")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.to(torch.uint8) for s in cuda])
