"""vaelab: PCA, autoencoders and variational autoencoders behind one API.

>>> from vaelab import PCA, Autoencoder, VAE, load

``import vaelab`` alone loads nothing heavy: the estimators (and with them
torch and scikit-learn) are imported the first time one of the names below is
used (PEP 562), so that the command line answers ``--help`` at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vaelab._lazy import lazy_exports
from vaelab._version import __version__

__all__ = ["PCA", "VAE", "Autoencoder", "TabularVAE", "__version__", "load"]

#: each name and where it lives: TabularVAE with the tables (pandas loads when a table is read)
_WHERE = {"PCA": "vaelab.estimators", "VAE": "vaelab.estimators", "Autoencoder": "vaelab.estimators",
          "load": "vaelab.estimators", "TabularVAE": "vaelab.tabular"}

if TYPE_CHECKING:  # for type checkers and IDEs: the names are real
    from vaelab.estimators import PCA, VAE, Autoencoder, load
    from vaelab.tabular import TabularVAE

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
