"""The IDX file format of LeCun et al.'s MNIST distribution.

Layout (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS FOR THE MNIST DATABASE")::

    bytes 0-1   0x00 0x00
    byte  2     dtype code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                            0x0D float32, 0x0E float64
    byte  3     number of dimensions, d
    4 * d       each dimension as a big-endian uint32
    rest        the data, big-endian, C order

The file may be gzipped; that is detected from its magic bytes, not its name.
"""

from __future__ import annotations

import math
import os
import struct

import numpy as np

from vaelab.data.files import read_bytes
from vaelab.errors import DataFileError

# dtype code -> big-endian numpy dtype
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(data: bytes, path: str | os.PathLike[str] = "<bytes>") -> np.ndarray:
    """Parse the (uncompressed) bytes of an IDX file.

    Parameters
    ----------
    data : bytes
        The whole file contents.
    path : str or os.PathLike, optional
        Name used in error messages.

    Returns
    -------
    ndarray of shape given by the header
        A writable array in native byte order with the header's dtype.

    Raises
    ------
    DataFileError
        If the magic number or dtype code is unknown, or the byte count does not
        match what the header announces (truncated or padded file).
    """
    if len(data) < 4:
        raise DataFileError(f"{path}: not an IDX file: {len(data)} bytes, shorter than the 4-byte header")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in IDX_DTYPES:
        raise DataFileError(
            f"{path}: not an IDX file: magic number 0x{data[:4].hex()} "
            f"(expected 0x0000 then a dtype code in "
            f"{', '.join(f'0x{c:02X}' for c in IDX_DTYPES)} and the number of dimensions)"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataFileError(
            f"{path}: truncated IDX header: expected {header_size} bytes for {ndim} dimensions, got {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    dtype = IDX_DTYPES[code]
    expected = header_size + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        state = "truncated" if len(data) < expected else "has trailing bytes"
        raise DataFileError(
            f"{path}: IDX file {state}: header says shape {shape} of {dtype.name}, "
            f"which needs {expected} bytes, but the (uncompressed) file has {len(data)}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # copy: writable, native order


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzipped or not).

    Parameters
    ----------
    path : str or os.PathLike
        The file. Gzip compression is detected from the magic bytes.

    Returns
    -------
    ndarray
        E.g. uint8 of shape (60000, 28, 28) for ``train-images-idx3-ubyte``
        or (60000,) for ``train-labels-idx1-ubyte``.

    Raises
    ------
    DataFileError
        If the file is missing, not IDX, or its size disagrees with its header.

    Examples
    --------
    >>> import gzip, tempfile, os
    >>> raw = bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 8, 9])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "labels-idx1-ubyte.gz")
    ...     with open(p, "wb") as f:
    ...         _ = f.write(gzip.compress(raw))
    ...     read_idx(p)
    array([7, 8, 9], dtype=uint8)
    """
    data, _ = read_bytes(path)
    return parse_idx(data, path)
