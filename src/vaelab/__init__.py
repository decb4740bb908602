"""vaelab: PCA, autoencoders and variational autoencoders behind one API.

>>> from vaelab import PCA, Autoencoder, VAE, load

``import vaelab`` alone loads nothing heavy: the estimators (and with them
torch and scikit-learn) are imported the first time one of the names below is
used (PEP 562), so that the command line answers ``--help`` at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vaelab._version import __version__

__all__ = ["PCA", "VAE", "Autoencoder", "TabularVAE", "__version__", "load"]

_ESTIMATORS = ("PCA", "VAE", "Autoencoder", "TabularVAE", "load")

if TYPE_CHECKING:  # for type checkers and IDEs: the names are real
    from vaelab.estimators import PCA, VAE, Autoencoder, load
    from vaelab.tabular import TabularVAE


def __getattr__(name: str) -> Any:
    if name in _ESTIMATORS:
        import vaelab.estimators as estimators
        import vaelab.tabular as tabular  # TabularVAE lives with the tables (pandas loads when a table is read)

        value = getattr(tabular if name == "TabularVAE" else estimators, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vaelab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
