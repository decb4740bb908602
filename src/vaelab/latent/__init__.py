"""Latent-space tools shared by the command line, the HTML report and the explorer.

Everything goes through the estimator API (``transform``,
``inverse_transform``; ``sample`` for models with a prior), so it works the
same for PCA, the autoencoder and the VAE, and for any estimator that offers
those two methods.

=================  ===========================================================
module             holds
=================  ===========================================================
``codes``          codes and decodings, spread, dimensions ranked by KL
``paths``          lerp, slerp, interpolations, traversals along dims/directions
``attributes``     attribute vectors (labels, boolean attribute, example sets)
``neighbours``     nearest training examples in latent space
``projection``     2-D views of the codes, the decoded 2-D manifold
=================  ===========================================================

>>> import numpy as np
>>> from vaelab.latent import slerp
>>> path = slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 3)
>>> np.round(np.linalg.norm(path, axis=1), 6).tolist()
[1.0, 1.0, 1.0]
"""

from vaelab.latent.attributes import (
    AttributeVector,
    attribute_from_codes,
    attribute_from_examples,
    attribute_from_labels,
    attribute_from_mask,
    shift,
)
from vaelab.latent.codes import (
    DimensionRanking,
    codes,
    decode,
    has_prior,
    has_standard_normal_codes,
    posterior,
    rank_dims,
    spread,
)
from vaelab.latent.neighbours import LatentIndex, nearest
from vaelab.latent.paths import (
    METHODS,
    TRAVERSAL_SPAN,
    direction_scale,
    interpolate,
    interpolate_codes,
    lerp,
    path,
    slerp,
    traverse,
    traverse_direction,
)
from vaelab.latent.projection import Projection2D, fit_projection, manifold, project_2d

__all__ = [
    "METHODS",
    "TRAVERSAL_SPAN",
    "AttributeVector",
    "DimensionRanking",
    "LatentIndex",
    "Projection2D",
    "attribute_from_codes",
    "attribute_from_examples",
    "attribute_from_labels",
    "attribute_from_mask",
    "codes",
    "decode",
    "direction_scale",
    "fit_projection",
    "has_prior",
    "has_standard_normal_codes",
    "interpolate",
    "interpolate_codes",
    "lerp",
    "manifold",
    "nearest",
    "path",
    "posterior",
    "project_2d",
    "rank_dims",
    "shift",
    "slerp",
    "spread",
    "traverse",
    "traverse_direction",
]
