"""The parts of vaelab's PCA fit, timed alone: the column sums and the top-k eigendecomposition.

Backs the figures in ``vaelab.validation.finite_column_sums`` and
``vaelab.models.pca._top_eigh``: the float32 Gram matrix that vaelab's and
scikit-learn's fits share, float32 column sums of MNIST (60,000 x 784)
by NumPy's casting reduction against 16-row float32 blocks accumulated in
float64 (with their error against exact float64 sums), and SciPy's ``dsyevr``
(top 50 eigenvectors) of a 784 x 784 and a 3072 x 3072 covariance on one
thread and on two (threadpoolctl), alone and, for MNIST, inside the whole fit
(vaelab's PCA with ``dsyevr`` on one thread, as it runs, and on all threads,
each against scikit-learn's PCA in interleaved rounds).

    python benchmarks/pca_parts.py --data-dir ../shared/data
"""

from __future__ import annotations

import time

import _common
import numpy as np
from scipy.linalg import eigh
from sklearn.decomposition import PCA as SkPCA
from threadpoolctl import ThreadpoolController

import vaelab.models.pca as pca_module
from vaelab import PCA


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    p = _common.parser(__doc__.splitlines()[0], repeats=21)
    args = p.parse_args()
    _common.setup(args)
    X = _common.load_mnist_float(args.data_dir).numpy()
    exact = X.astype(np.float64).sum(0)

    def blocked(block: int = 16) -> np.ndarray:
        m = X.shape[0] // block * block
        return X[:m].reshape(-1, block, X.shape[1]).sum(1).sum(0, dtype=np.float64) + X[m:].sum(0, dtype=np.float64)

    rows = [
        ["np.add.reduce(X, axis=0, dtype=float64)", f"{best_of(lambda: np.add.reduce(X, axis=0, dtype=np.float64), args.repeats):.4f}",
         f"{np.abs(np.add.reduce(X, axis=0, dtype=np.float64) - exact).max() / np.abs(exact).max():.1e}"],
        ["float32 blocks of 16 rows, summed in float64", f"{best_of(blocked, args.repeats):.4f}",
         f"{np.abs(blocked() - exact).max() / np.abs(exact).max():.1e}"],
    ]
    print("## PCA parts: column sums of MNIST train (60,000 x 784, float32)\n")
    _common.print_machine({"runs": f"best of {args.repeats}"})
    print(_common.markdown_table(["method", "seconds", "max error / max sum"], rows))
    gram = best_of(lambda: X.T @ X, args.repeats)
    print(f"\nThe float32 Gram matrix X.T @ X (NumPy's BLAS, which both vaelab and scikit-learn use): {gram:.3f} s")

    controller = ThreadpoolController()
    rows = []
    for d in (784, 3072):
        a = np.random.default_rng(0).normal(size=(d + 100, d))
        cov = a.T @ a
        for threads in (1, 2):
            with controller.limit(limits=threads, user_api="blas"):
                seconds = best_of(lambda: eigh(cov, subset_by_index=[d - 50, d - 1], driver="evr", check_finite=False), 3)
            rows.append([f"{d} x {d}", threads, f"{seconds:.3f}"])
    print("\n## PCA parts: dsyevr, top 50 eigenvectors, alone\n")
    print(_common.markdown_table(["matrix", "BLAS threads", "seconds (best of 3)"], rows))

    one_thread_max = pca_module._ONE_THREAD_EIGH_MAX_DIM

    def fit(limit: int):
        def go() -> float:
            pca_module._ONE_THREAD_EIGH_MAX_DIM = limit
            start = time.perf_counter()
            PCA(latent_dim=50).fit(X)
            return time.perf_counter() - start
        return go

    def sklearn_fit() -> float:
        start = time.perf_counter()
        SkPCA(n_components=50).fit(X)
        return time.perf_counter() - start

    variants = {"dsyevr on one thread (as vaelab runs)": fit(one_thread_max), "dsyevr on all threads": fit(0),
                "scikit-learn": sklearn_fit}
    for go in variants.values():
        go()  # warm-up
    runs = _common.interleave(variants, args.repeats)
    pca_module._ONE_THREAD_EIGH_MAX_DIM = one_thread_max
    ref = runs["scikit-learn"]
    rows = [[name, f"{_common.median(values):.3f}", f"{_common.median([r / v for v, r in zip(values, ref)]):.2f}"]
            for name, values in runs.items()]
    print("\n## PCA parts: the whole fit (MNIST, 50 components), interleaved\n")
    print(_common.markdown_table(["fit", "seconds (median)", "speed vs scikit-learn (median of paired ratios)"], rows))


if __name__ == "__main__":
    main()
