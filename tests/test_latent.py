"""vaelab.latent against exact expectations: slerp, attribute vectors, traversals, neighbours, rankings."""

from __future__ import annotations

import numpy as np
import pytest

from vaelab import PCA, VAE, Autoencoder, latent
from vaelab.errors import InputError


def test_lerp_and_projection() -> None:
    path = latent.lerp(np.zeros(3), np.ones(3), 5)
    assert path.shape == (5, 3) and np.allclose(path[2], 0.5)
    z = np.random.default_rng(0).normal(size=(50, 4)) * [5.0, 1.0, 0.1, 0.1]
    points, about = latent.project_2d(z, "pca")
    assert points.shape == (50, 2) and "PCA projection of the 4-D" in about
    assert np.allclose(points, latent.project_2d(z, "pca")[0])  # deterministic signs
    # the first axis is the direction of largest variance: coordinate 0 is +-z0 (centred) to within the others
    assert abs(np.corrcoef(points[:, 0], z[:, 0])[0, 1]) > 0.99
    assert latent.rank_dims(None, z=z).top(2) == [0, 1]
    with pytest.raises(ValueError, match="pca' or 'tsne"):
        latent.project_2d(z, "umap")


def test_slerp_endpoints_norms_and_constant_angle() -> None:
    rng = np.random.default_rng(1)
    za, zb = rng.normal(size=16), rng.normal(size=16)
    zb *= np.linalg.norm(za) / np.linalg.norm(zb)  # equal norms
    path = latent.slerp(za, zb, 9)
    assert path.shape == (9, 16)
    assert np.array_equal(path[0], za) and np.array_equal(path[-1], zb)
    assert np.allclose(np.linalg.norm(path, axis=1), np.linalg.norm(za), rtol=1e-12)
    # the direction turns by the same angle at every step: total angle / 8
    unit = path / np.linalg.norm(path, axis=1, keepdims=True)
    steps = np.arccos(np.clip((unit[:-1] * unit[1:]).sum(axis=1), -1, 1))
    total = np.arccos(za @ zb / (np.linalg.norm(za) * np.linalg.norm(zb)))
    assert np.allclose(steps, total / 8, rtol=1e-9)


def test_slerp_norm_is_linear_between_unequal_ends_and_lerp_shrinks() -> None:
    za, zb = np.array([3.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    path = latent.slerp(za, zb, 5)
    assert np.allclose(np.linalg.norm(path, axis=1), np.linspace(3.0, 1.0, 5))
    # quarter turn: the midpoint points at 45 degrees in the (x, z) plane
    assert np.allclose(path[2] / np.linalg.norm(path[2]), [np.sqrt(0.5), 0.0, np.sqrt(0.5)])
    # two orthogonal unit vectors: the straight line dips to norm sqrt(1/2) in the middle, slerp does not
    e1, e2 = np.eye(2)
    assert np.isclose(np.linalg.norm(latent.lerp(e1, e2, 3)[1]), np.sqrt(0.5))
    assert np.isclose(np.linalg.norm(latent.slerp(e1, e2, 3)[1]), 1.0)
    # degenerate cases fall back to the straight line
    assert np.allclose(latent.slerp(np.zeros(2), e1, 3), latent.lerp(np.zeros(2), e1, 3))
    assert np.allclose(latent.slerp(e1, -e1, 3), latent.lerp(e1, -e1, 3))


@pytest.mark.parametrize("bad", [1, 0, 2.5])
def test_paths_reject_bad_steps(bad: object) -> None:
    with pytest.raises(InputError, match="steps must be an integer >= 2"):
        latent.path(np.zeros(2), np.ones(2), bad, "slerp")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="method must be one of lerp, slerp"):
        latent.path(np.zeros(2), np.ones(2), 3, "cubic")


def synthetic(direction: np.ndarray, n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source examples, and the same examples plus a known attribute ``direction``, with labels 0 / 1."""
    rng = np.random.default_rng(seed)
    source = rng.normal(size=(n, direction.shape[0]))
    x = np.concatenate([source, source + direction])
    y = np.repeat([0, 1], n)
    return x, y, source


def test_attribute_vector_recovers_a_known_direction_exactly() -> None:
    direction = np.array([2.0, -1.0, 0.5, 0.0, 3.0])
    x, y, source = synthetic(direction)
    pca = PCA(latent_dim=5).fit(x)  # full rank: decode(encode(x)) == x, codes = W (x - mean)
    vector = latent.attribute_from_labels(pca, x, y, 0, 1)
    W = pca.components_
    assert np.allclose(vector.vector, W @ direction, atol=1e-10)
    assert np.isclose(vector.norm, np.linalg.norm(direction))  # W is orthogonal
    assert (vector.source_count, vector.target_count) == (60, 60)
    assert np.allclose(vector.source_spread, vector.target_spread)  # same examples, shifted
    # applied at strength s to an example of the source group, it decodes to that example + s * direction
    moved = latent.shift(pca, vector, [0.0, 1.0, 2.0], x=source[3])
    assert np.allclose(moved, source[3] + np.outer([0.0, 1.0, 2.0], direction), atol=1e-8)
    # the same vector from a boolean attribute, and from two example sets
    by_mask = latent.attribute_from_mask(pca, x, y == 1, name="shifted")
    by_sets = latent.attribute_from_examples(pca, x[y == 0], x[y == 1])
    assert np.allclose(by_mask.vector, vector.vector) and by_mask.target == "with shifted"
    assert np.allclose(by_sets.vector, vector.vector)


def test_attribute_vector_applies_to_many_codes_and_names_missing_labels() -> None:
    x, y, _ = synthetic(np.array([1.0, 0.0, 0.0]), n=10)
    pca = PCA(latent_dim=3).fit(x)
    vector = latent.attribute_from_labels(pca, x, y, 0, 1)
    z = latent.codes(pca, x[:4])
    moved = vector.apply(z, [0.0, 0.5])
    assert moved.shape == (4, 2, 3) and np.allclose(moved[:, 1] - moved[:, 0], 0.5 * vector.vector)
    assert vector.apply(z[0], 1.0).shape == (3,)
    with pytest.raises(InputError, match="target label 7 has no examples; labels present: 0, 1"):
        latent.attribute_from_labels(pca, x, y, 0, 7)
    with pytest.raises(InputError, match="has_attribute must be a boolean array"):
        latent.attribute_from_mask(pca, x, y)


def test_nearest_neighbours_match_brute_force() -> None:
    rng = np.random.default_rng(2)
    ref, queries = rng.normal(size=(300, 4)), rng.normal(size=(500, 4))
    indices, distances = latent.nearest(ref, queries, k=3)
    full = np.linalg.norm(queries[:, None, :] - ref[None, :, :], axis=2)
    expected = np.argsort(full, axis=1, kind="stable")[:, :3]
    assert np.array_equal(indices, expected)
    assert np.allclose(distances, np.take_along_axis(full, expected, axis=1))
    # a query equal to a reference code finds it at distance 0
    index = latent.LatentIndex(ref)
    found, dist = index.query(ref[17], k=1)
    assert found.tolist() == [[17]] and dist[0, 0] < 1e-7
    with pytest.raises(InputError, match="k must be an integer in 1..300"):
        latent.nearest(ref, queries, k=301)


def test_traversal_along_a_dimension_and_a_direction_with_pca() -> None:
    x = np.random.default_rng(3).normal(size=(100, 4)) * [3.0, 2.0, 1.0, 0.5]
    pca = PCA(latent_dim=4).fit(x)
    z = latent.codes(pca, x)
    centre, scale = latent.spread(pca, z)
    grid = latent.traverse(pca, centre.copy(), [1], 3, centre=centre, scale=scale, span=2.0)
    expected = latent.decode(pca, np.array([centre + [0, t * scale[1], 0, 0] for t in (-2.0, 0.0, 2.0)]))
    assert grid.shape == (1, 3, 4) and np.allclose(grid[0], expected)
    direction = np.array([1.0, 1.0, 0.0, 0.0])
    s = latent.direction_scale(pca, z, direction)
    assert np.isclose(s, (z @ direction / np.sqrt(2)).std())
    decoded, path = latent.traverse_direction(pca, centre, direction, 5, scale=s, span=1.0)
    assert np.allclose(path[-1] - path[0], 2 * s * direction / np.sqrt(2)) and decoded.shape == (5, 4)


def test_dimensions_ranked_by_kl_for_a_vae_and_by_variance_otherwise(unit_images: np.ndarray) -> None:
    x = unit_images.reshape(len(unit_images), -1)
    vae = VAE(latent_dim=3, epochs=1, network={"kind": "mlp", "hidden_dims": [8]}, device="cpu").fit(x)
    mean, std = latent.posterior(vae, x)
    assert mean.shape == (40, 3) and std is not None and (std > 0).all()
    ranking = latent.rank_dims(vae, x)
    kl = (0.5 * (mean**2 + std**2 - 1.0 - np.log(std**2))).mean(axis=0)  # Kingma & Welling 2014, App. B
    assert ranking.measure == "kl" and np.allclose(ranking.score, kl)
    assert list(ranking.order) == list(np.argsort(-kl, kind="stable"))
    ae = Autoencoder(latent_dim=2, epochs=1, network={"kind": "mlp", "hidden_dims": [8]}, device="cpu").fit(x)
    assert latent.posterior(ae, x)[1] is None
    assert latent.rank_dims(ae, x).measure == "variance"
