"""scikit-learn's own estimator checks over vaelab's estimators (tiny networks, two epochs).

PCA, the autoencoder, the Gaussian VAE and the Gaussian VAE-GAN pass every check. The Bernoulli VAE
refuses data outside [0, 1] (a Bernoulli likelihood of such values is not a
likelihood), so the checks that feed it such data are listed as expected
failures, each with the data it is fed; every other check must pass.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from vaelab import PCA, VAE, Autoencoder
from vaelab.estimators import VAEGAN

TINY = dict(latent_dim=2, epochs=2, batch_size=64, network={"kind": "mlp", "hidden_dims": [8]}, device="cpu")

_NORMAL = "N(0, 1) values (negative and above 1)"
_TIMES_3 = "3 * U(0, 1) values (up to 3)"
_SCALED = "standardized values (about -1.5 to 1.4)"
_BLOBS = "blob data (about -0.3 to 1.2)"
_AROUND_100 = "values around 100"
_OUTSIDE = {
    "check_dict_unchanged": _TIMES_3,
    "check_dont_overwrite_parameters": _TIMES_3,
    "check_estimators_dtypes": _TIMES_3,
    "check_estimators_fit_returns_self": _NORMAL,
    "check_estimators_overwrite_params": _NORMAL,
    "check_estimators_pickle": _BLOBS,
    "check_f_contiguous_array_estimator": _TIMES_3,
    "check_fit2d_1feature": _TIMES_3,
    "check_fit2d_1sample": _TIMES_3,
    "check_fit2d_predict1d": _TIMES_3,
    "check_fit_check_is_fitted": _AROUND_100,
    "check_fit_idempotent": _AROUND_100,
    "check_methods_sample_order_invariance": _TIMES_3,
    "check_methods_subset_invariance": _TIMES_3,
    "check_n_features_in": _AROUND_100,
    "check_n_features_in_after_fitting": _NORMAL,
    "check_pipeline_consistency": _BLOBS,
    "check_positive_only_tag_during_fit": "negative values",
    "check_readonly_memmap_input": _NORMAL,
    "check_transformer_data_not_an_array": _SCALED,
    "check_transformer_general": _SCALED,
    "check_transformer_preserve_dtypes": _SCALED,
}
BERNOULLI_EXPECTED_FAILURES = {
    name: f"fits on {data}, outside [0, 1]: the Bernoulli VAE refuses them with an InputError"
    for name, data in _OUTSIDE.items()
}


@parametrize_with_checks([
    PCA(), Autoencoder(**TINY), VAE(likelihood="gaussian", **TINY),
    VAEGAN(likelihood="gaussian", discriminator_dims=(8,), feature_dim=4, **TINY),
])
def test_scikit_learn_checks(estimator, check):
    check(estimator)


@parametrize_with_checks(
    [VAE(likelihood="bernoulli", **TINY)], expected_failed_checks=lambda estimator: BERNOULLI_EXPECTED_FAILURES
)
def test_scikit_learn_checks_bernoulli_vae(estimator, check):
    check(estimator)


def test_errors_open_with_scikit_learns_wording_and_keep_vaelabs_explanation():
    import numpy as np
    import pytest
    from scipy import sparse

    from vaelab.errors import InputError, InputTypeError

    X = np.random.default_rng(0).random((20, 4))
    pca = PCA(latent_dim=2).fit(X)
    with pytest.raises(InputError, match=r"^Sparse data was passed for X, but dense data is required\. .*vaelab"):
        PCA().fit(sparse.csr_matrix(X))
    with pytest.raises(InputError, match=r"^Complex data not supported: X must hold real numbers"):
        PCA().fit(X.astype(complex))
    with pytest.raises(InputError, match=r"Reshape your data either using X\.reshape\(-1, 1\).*X must have shape \(n, d\)"):
        pca.transform(X[0])
    with pytest.raises(InputError, match=r"^X has 3 features, but PCA is expecting 4 features as input: X has examples"):
        pca.transform(X[:, :3])
    with pytest.raises(InputError, match=r"^Found array with 0 feature\(s\) \(shape=\(12, 0\)\) while a minimum of 1 is "
                                         r"required\. X is empty"):
        PCA().fit(np.empty((12, 0)))
    objects = X.astype(object)
    assert np.allclose(PCA(latent_dim=2).fit(objects).transform(objects), pca.transform(X))  # numbers as objects are fine
    objects[0, 0] = {"a": 1}
    with pytest.raises(InputTypeError, match=r"argument must be .*string.*number.*X is an array of objects"):
        PCA().fit(objects)
    assert pca.transform(X).dtype == np.float64 and pca.transform(X.astype(np.float32)).dtype == np.float32
