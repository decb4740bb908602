"""vaelab: PCA, autoencoders and variational autoencoders behind one API.

>>> from vaelab import PCA, Autoencoder, VAE, load
"""

from vaelab._version import __version__
from vaelab.estimators import PCA, VAE, Autoencoder, load

__all__ = ["PCA", "VAE", "Autoencoder", "__version__", "load"]
