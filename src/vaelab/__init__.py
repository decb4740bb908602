"""vaelab: PCA, autoencoders and variational autoencoders behind one API.

>>> from vaelab import PCA, Autoencoder, VAE, load
"""

from vaelab._version import __version__
from vaelab.estimators import PCA, VAE, Autoencoder, load

__all__ = ["PCA", "VAE", "Autoencoder", "TabularVAE", "__version__", "load"]


def __getattr__(name: str):  # noqa: ANN202
    if name == "TabularVAE":  # lazily: the tables' extra (pandas) loads only when a table is read
        from vaelab.tabular import TabularVAE

        return TabularVAE
    raise AttributeError(f"module 'vaelab' has no attribute {name!r}")
