"""Data loading: canonical formats, user files, and shuffled batch sources.

=======================  =====================================================
module                   holds
=======================  =====================================================
``files``                gzip detection, checksums, atomic downloads
``idx``                  the IDX format (:func:`read_idx`)
``mnist``                MNIST / Fashion-MNIST (:func:`load_mnist`)
``amat``                 binarized MNIST (:func:`load_binarized_mnist`)
``arrays``               ``.npy`` / ``.npz`` / CSV (:func:`load_array`, :func:`load_csv`)
``images``               image folders (:func:`load_image_folder`)
``dataset``              :class:`Dataset`, the registry and :func:`load_dataset`
``builtin``              the registered built-in data sets, :func:`load_digits`
``shapes``               ``shapes``: rendered images with known factors (:func:`make_shapes`)
``streaming``            :class:`InMemorySource`, :class:`MemmapSource`
=======================  =====================================================

Importing this package registers the built-in data sets; it reads no files.
"""

from vaelab.data import builtin as _builtin  # noqa: F401  (fills the registry)
from vaelab.data import shapes as _shapes  # noqa: F401  (registers shapes, shapes64)
from vaelab.data.amat import load_binarized_mnist
from vaelab.data.arrays import load_array, load_csv
from vaelab.data.builtin import load_digits
from vaelab.data.dataset import Dataset, available_datasets, load_dataset, register_dataset
from vaelab.data.idx import read_idx
from vaelab.data.images import load_image_folder
from vaelab.data.mnist import load_mnist
from vaelab.data.shapes import make_shapes
from vaelab.data.streaming import InMemorySource, LoaderSource, MemmapSource

__all__ = [
    "Dataset",
    "InMemorySource",
    "LoaderSource",
    "MemmapSource",
    "available_datasets",
    "load_array",
    "load_binarized_mnist",
    "load_csv",
    "load_dataset",
    "load_digits",
    "load_image_folder",
    "load_mnist",
    "make_shapes",
    "read_idx",
    "register_dataset",
]
