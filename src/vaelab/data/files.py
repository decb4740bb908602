"""Small file helpers shared by the loaders: gzip detection, checksums, downloads.

Every loader reads its canonical format from any folder a user names. These
helpers keep the three concerns that all of them share in one place:

* ``read_bytes`` returns a file's contents, transparently un-gzipping it when
  the file *starts with the gzip magic bytes* (the extension is not trusted);
* ``Checksum`` / ``verify_checksum`` compare a digest of the *uncompressed*
  contents (so any gzip of the same bytes passes, whatever its level or
  timestamp) and raise an error that says which file, what was expected,
  what was found and how to skip the check;
* ``download_file`` fetches a URL from a list of mirrors into a folder with an
  atomic write (temporary file + ``os.replace``), so an interrupted download
  never leaves a half-written file behind.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vaelab.errors import DataFileError

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # 1 MiB, for streaming hashes and downloads


def is_gzip(path: str | os.PathLike[str]) -> bool:
    """Return whether the file at ``path`` starts with the gzip magic bytes."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def read_bytes(path: str | os.PathLike[str]) -> tuple[bytes, bool]:
    """Read a whole file, decompressing it if it is gzipped.

    Parameters
    ----------
    path : str or os.PathLike
        File to read. Gzip is detected from the first two bytes, not the name.

    Returns
    -------
    data : bytes
        The (uncompressed) contents.
    was_gzip : bool
        Whether the file on disk was gzip-compressed.

    Raises
    ------
    DataFileError
        If the file does not exist or is a corrupt / truncated gzip stream.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataFileError(f"{path}: expected a file, got a directory") from None
    if not raw.startswith(GZIP_MAGIC):
        return raw, False
    try:
        return gzip.decompress(raw), True
    except (EOFError, OSError, zlib.error) as exc:
        raise DataFileError(
            f"{path}: corrupt or truncated gzip data ({exc}); delete the file and fetch it again"
        ) from None


@dataclass(frozen=True)
class Checksum:
    """A known digest of the uncompressed contents of a data file.

    A digest of a ``.gz`` file as distributed would refuse the same data
    recompressed (another gzip level or timestamp), so vaelab knows only
    digests of contents.

    Parameters
    ----------
    algorithm : {"md5", "sha256"}
        Hash algorithm, as named by :mod:`hashlib`.
    digest : str
        Expected lowercase hex digest of the uncompressed bytes.
    """

    algorithm: Literal["md5", "sha256"]
    digest: str


def hexdigest(data: bytes, algorithm: str) -> str:
    """Return the hex digest of ``data`` under ``algorithm`` (e.g. ``"md5"``)."""
    return hashlib.new(algorithm, data, usedforsecurity=False).hexdigest()


def verify_checksum(path: str | os.PathLike[str], data: bytes, checksum: Checksum, *, what: str) -> None:
    """Check a file's uncompressed contents against a known digest.

    Parameters
    ----------
    path : str or os.PathLike
        The file on disk (named in the error).
    data : bytes
        Its uncompressed contents, as returned by :func:`read_bytes`.
    checksum : Checksum
        The expected digest.
    what : str
        Human name of the file for the message, e.g. ``"MNIST train images"``.

    Raises
    ------
    DataFileError
        If the digest does not match; the message says how to skip the check
        (``--no-verify`` on the command line, ``verify=False`` in Python).
    """
    actual = hexdigest(data, checksum.algorithm)
    if actual != checksum.digest:
        raise DataFileError(
            f"{path}: checksum mismatch for {what}: {checksum.algorithm} of the uncompressed contents is "
            f"{actual}, expected {checksum.digest}. The file is corrupted or a different version; delete it "
            "and fetch it again, or skip the check: --no-verify on the command line, verify=False in Python."
        )


def find_existing(folder: Path, names: Sequence[str]) -> Path | None:
    """Return ``folder / name`` for the first name in ``names`` that is a file, else None."""
    for name in names:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def download_file(
    filename: str,
    folder: str | os.PathLike[str],
    mirrors: Sequence[str],
    *,
    check: Callable[[Path], None] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``filename`` from the first mirror that serves a valid copy.

    The bytes go to a temporary file in ``folder``; ``check`` (if given) is run
    on it, and only then is it moved to ``folder / filename`` with
    :func:`os.replace` (atomic on one file system).

    Parameters
    ----------
    filename : str
        Name of the file, appended to each mirror's base URL.
    folder : str or os.PathLike
        Destination folder, created if needed.
    mirrors : sequence of str
        Base URLs, tried in order (a trailing ``/`` is added if missing).
    check : callable, optional
        Called with the temporary path; raises :class:`DataFileError` to reject
        the copy (e.g. a checksum mismatch), in which case the next mirror is tried.
    timeout : float, default 60.0
        Socket timeout in seconds for each request.

    Returns
    -------
    Path
        The final path, ``folder / filename``.

    Raises
    ------
    DataFileError
        If every mirror failed; the message lists each URL and its error.
    """
    if not mirrors:
        raise DataFileError(f"cannot download {filename!r}: the list of mirrors is empty")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    failures: list[str] = []
    for base in mirrors:
        url = base if base.endswith("/") else base + "/"
        url += filename
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            logger.info("downloading %s", url)
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                while chunk := resp.read(_CHUNK):
                    out.write(chunk)
            if check is not None:
                check(tmp)
            os.replace(tmp, target)
            return target
        except (urllib.error.URLError, OSError, ValueError) as exc:
            failures.append(f"{url}: {exc}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DataFileError(
        f"could not download {filename!r} into {folder}; tried:\n  "
        + "\n  ".join(failures)
        + "\nCopy the file there by hand, or pass other mirrors."
    )
