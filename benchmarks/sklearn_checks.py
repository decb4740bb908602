"""scikit-learn's estimator checks: how many pass for each vaelab estimator, and how long they take.

Runs ``sklearn.utils.estimator_checks.check_estimator(..., on_fail=None)`` on
``PCA()``, and on the autoencoder and both VAEs with the tiny settings of
``tests/test_sklearn_checks.py`` (latent_dim 2, one hidden layer of 8, two
epochs), and prints the counts and every check that did not pass. The suite
runs the same checks through ``parametrize_with_checks``.

    python benchmarks/sklearn_checks.py
"""

from __future__ import annotations

import time
import warnings

import _common
import sklearn
from sklearn.utils.estimator_checks import check_estimator

from vaelab import PCA, VAE, Autoencoder
from vaelab.estimators import VAEGAN

TINY = dict(latent_dim=2, epochs=2, batch_size=64, network={"kind": "mlp", "hidden_dims": [8]}, device="cpu")


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=1)
    args = p.parse_args()
    _common.setup(args)
    estimators = {
        "PCA()": PCA(),
        "Autoencoder (tiny)": Autoencoder(**TINY),
        'VAE(likelihood="gaussian") (tiny)': VAE(likelihood="gaussian", **TINY),
        'VAE(likelihood="bernoulli") (tiny)': VAE(likelihood="bernoulli", **TINY),
        'VAEGAN(likelihood="gaussian") (tiny)': VAEGAN(likelihood="gaussian", discriminator_dims=(8,), feature_dim=4,
                                                       **TINY),
    }
    rows, failures = [], []
    for name, estimator in estimators.items():
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = check_estimator(estimator, on_fail=None)
        seconds = time.perf_counter() - started
        status = [r["status"] for r in results]
        rows.append([name, status.count("passed"), status.count("failed"), status.count("skipped"), len(results),
                     f"{seconds:.1f}"])
        for r in results:
            if r["status"] != "passed":
                reason = str(r["exception"]).strip().splitlines()[0][:140] if r["exception"] else ""
                failures.append([name, r["check_name"], r["status"], reason.replace("|", "/")])
    print("## scikit-learn estimator checks\n")
    _common.print_machine({"scikit-learn": sklearn.__version__, "command": "python benchmarks/sklearn_checks.py"})
    print(_common.markdown_table(["estimator", "passed", "failed", "skipped", "checks", "seconds"], rows))
    print()
    print(_common.markdown_table(["estimator", "check", "status", "message (first line)"], failures))


if __name__ == "__main__":
    main()
