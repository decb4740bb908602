"""Crash-safe files: atomic writes, JSON and safetensors, and nothing else.

vaelab never writes or reads pickle (``torch.save``/``torch.load`` of modules
run code on load and break across versions). Tensors go to ``*.safetensors``,
everything else to JSON. Every write goes to a temporary file in the target's
folder, is flushed to disk and then renamed over the target, so a crash leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaelab.errors import ModelFileError

if TYPE_CHECKING:  # torch is imported by the functions that read or write tensors
    import torch
    from torch import Tensor

PICKLE_PREFIXES = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK\x03\x04")
_umask: int | None = None


def _file_mode() -> int:
    """The mode a plainly created file would get (mkstemp's temporary files are 0600)."""
    global _umask
    if _umask is None:
        _umask = os.umask(0)
        os.umask(_umask)
    return 0o666 & ~_umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike[str], what: str = "file") -> Any:
    """Read JSON, turning a missing or malformed file into :class:`ModelFileError`."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{what} {path} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{what} {path} is not valid JSON ({exc}); the file is corrupted") from None


def save_tensors(path: str | os.PathLike[str], tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> None:
    """Atomically write a dict of tensors as safetensors (copies are made contiguous and unshared)."""
    from safetensors.torch import save

    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    atomic_write_bytes(path, save(plain, metadata=metadata))


def load_tensors(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> dict[str, Tensor]:
    """Read a safetensors file; refuse pickles and report corruption clearly."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"weights file {path} does not exist")
    data = path.read_bytes()
    try:
        tensors = load(data)  # parses a JSON header and raw bytes: never runs code
    except (SafetensorError, ValueError, RuntimeError) as exc:
        # only a file that is not safetensors is taken for a pickle: a safetensors header of 640, 896, 1,152 or
        # 1,408 bytes starts with the same two bytes as pickle protocols 2-5 (its length, little-endian)
        if data.startswith(PICKLE_PREFIXES):
            raise ModelFileError(
                f"{path} is a pickle or torch.save file, not safetensors; vaelab does not load pickles "
                "because loading them can run arbitrary code"
            ) from None
        raise ModelFileError(
            f"{path} is not a valid safetensors file ({exc}); it may be truncated or corrupted"
        ) from None
    return {k: v.to(device) for k, v in tensors.items()}


@contextmanager
def atomic_directory(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Build a directory in a temporary sibling and move it into place on success.

    On any error the temporary folder is removed and an existing ``path`` is
    left untouched. With ``overwrite``, an existing ``path`` is replaced only
    after the new one is complete.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; choose another path or allow overwriting")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def jsonable(value: Any) -> Any:
    """``value`` as JSON data: NumPy/torch scalars and arrays become numbers and lists, NaN and infinities None.

    Dicts (keys made strings), lists and tuples are converted element by element.

    >>> import numpy as np
    >>> jsonable({"a": np.float32(0.5), 1: (np.arange(2), float("nan"))})
    {'a': 0.5, '1': [[0, 1], None]}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
