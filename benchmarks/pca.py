"""PCA: vaelab's fit time and reconstruction error next to scikit-learn's.

MNIST training images (60,000 x 784, float32 in [0, 1]), 50 components.
Both estimators get the same array; fits are interleaved and repeated. The
reconstruction error is the mean squared error per pixel of
``inverse_transform(transform(X))``, computed in float64.

    python benchmarks/pca.py --repeats 5
    python benchmarks/pca.py --threads 2 --repeats 9 --no-full   # without the slow float64 SVD
    python benchmarks/pca.py --threads 1 --repeats 9 --no-full --clock cpu   # CPU seconds: robust to other jobs
"""

from __future__ import annotations

import time

import _common
import numpy as np
import sklearn
from sklearn.decomposition import PCA as SkPCA

from vaelab import PCA


CLOCK = time.perf_counter


def fit_time(make) -> tuple[float, object]:
    start = CLOCK()
    model = make().fit(X)
    return CLOCK() - start, model


def recon_error(model) -> float:
    recon = np.asarray(model.inverse_transform(model.transform(X)), dtype=np.float64)
    return float(((recon - X.astype(np.float64)) ** 2).mean())


def main() -> None:
    global X
    p = _common.parser(__doc__.splitlines()[0])
    p.add_argument("--components", type=int, default=50)
    p.add_argument("--no-full", action="store_true",
                   help="leave out scikit-learn's float64 SVD (svd_solver='full'), the slow accuracy reference")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall-clock time (default), or the process's CPU time: with --threads 1 it counts the work "
                        "done and hardly depends on other jobs sharing the machine")
    args = p.parse_args()
    _common.setup(args)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    X = _common.load_mnist_float(args.data_dir).numpy()
    k = args.components

    makers = {
        "vaelab PCA": lambda: PCA(latent_dim=k),
        "scikit-learn PCA (svd_solver='auto')": lambda: SkPCA(n_components=k),
    }
    if not args.no_full:
        makers["scikit-learn PCA (svd_solver='full')"] = lambda: SkPCA(n_components=k, svd_solver="full")
    models: dict[str, object] = {}

    def variant(name):
        def go() -> float:
            seconds, models[name] = fit_time(makers[name])
            return seconds
        return go

    fit_time(makers["vaelab PCA"]), fit_time(makers["scikit-learn PCA (svd_solver='auto')"])  # warm-up
    runs = _common.interleave({name: variant(name) for name in makers}, args.repeats)
    ref = runs["scikit-learn PCA (svd_solver='auto')"]
    rows = []
    for name, values in runs.items():
        ratios = [r / v for v, r in zip(values, ref)]  # > 1: faster than scikit-learn's default
        model = models[name]
        solver = getattr(model, "_fit_svd_solver", "Gram matrix (syrk) in the data's precision, centred in float64, top-k eigenvectors in float64 (dsyevr)")
        ev = float(np.sum(model.explained_variance_ratio_))
        rows.append([name, solver, f"{_common.median(values):.3f}", _common.spread(values), f"{_common.median(ratios):.2f}",
                     f"{recon_error(model):.6g}", f"{ev:.6f}"])
    a, b = models["vaelab PCA"], models["scikit-learn PCA (svd_solver='auto')"]
    cos = np.abs(np.sum(np.asarray(a.components_) * np.asarray(b.components_), axis=1))
    print(f"## PCA: MNIST train (60,000 x 784), {k} components\n")
    _common.print_machine({"scikit-learn": sklearn.__version__, "runs": f"{args.repeats} per variant, interleaved",
                           "clock": "process CPU time" if args.clock == "cpu" else "wall clock",
                           "agreement": f"|cos| between matching components: min {cos.min():.6f}; "
                                        f"same signs: {bool(np.all(np.sum(np.asarray(a.components_) * np.asarray(b.components_), axis=1) > 0))}"})
    print(_common.markdown_table(
        ["fit", "solver", f"fit time (s, median, {args.clock})", "range", "speed vs scikit-learn default", "reconstruction MSE", "explained variance"],
        rows))


if __name__ == "__main__":
    main()
